"""Start-up structure: what a cold `bip check` imports, and what a plain install needs for `bip rules test`.

These are structural checks, never timings: `python -X importtime` lists every module a process
imports, and the check must not import the parts of the engine (or the libraries) that it does not
use. A new command or wing that is imported at start-up, instead of inside its command, fails here.
The cold-start time itself is measured by benchmarks/run.py, as a ratio to the import floor.

A check from the command line goes through `Checker`, as the library and the service do; with a
cache or without one it says the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import ROOT

#: Modules (and packages, with everything under them) that a pre-meeting check does not need.
NOT_FOR_A_CHECK = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "psycopg",
    "httpx",
    "anyio",
    "asyncio",
    "pytest",
    "_pytest",
    "pytest_bdd",
    "hypothesis",
    "multiprocessing",
    "concurrent",
    "sqlite3",
    "_sqlite3",
    "bip_engine.authoring",
    "bip_engine.caseload",
    "bip_engine.service",
    # The data classes are validated and written by pydantic-core from cached core schemas, whose cache
    # key reads pydantic's version file: a check imports nothing of pydantic, not even its lazy top.
    "pydantic",
    "bip_engine.rule_files",  # the YAML side of a rulebook: a compiled rulebook from the cache needs none of it
    "bip_engine.layers",  # reading and merging rulebook folders, likewise
    "importlib.metadata",  # the version is read from bip_engine.__version__
    "difflib",  # only a did-you-mean hint needs it, and a check of a valid record makes none
    "zoneinfo",  # "today" needs the time zone; a check of a given date (--as-of) needs no clock
)


def imported_modules(*args: str, cache: str | None = None) -> set[str]:
    """The modules a `bip` process imports, from `python -X importtime -m bip_engine.cli ARGS`.

    With `cache` (a BIP_CACHE_DIR), the command is run once before, to fill the cache as any first
    run after an install or a change of the rules does.
    """
    env = {**os.environ, **({"BIP_CACHE_DIR": cache} if cache is not None else {})}
    if cache is not None:
        subprocess.run(
            [sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, cwd=ROOT, env=env, timeout=120
        )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bip_engine.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    modules.discard("package")  # the header line
    assert "click" in modules and "bip_engine.errors" in modules  # the listing is real
    return modules


def unneeded(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == banned or name.startswith(banned + ".") for banned in NOT_FOR_A_CHECK)
    )


ENGINES = ["python"] + (["durable"] if sys.version_info < (3, 13) else [])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_cold_check_imports_only_what_it_needs(engine, tmp_path):
    args = ("check", "examples/stilstand.yaml", "--as-of", "2026-11-22", "--engine", engine)
    modules = imported_modules(*args, cache=str(tmp_path))
    assert "bip_engine.check" in modules and "jinja2" in modules
    assert unneeded(modules) == []


def test_the_default_check_in_json_imports_only_what_it_needs(tmp_path):
    args = ("check", "examples/stilstand.yaml", "--as-of", "2026-11-22", "--format", "json")
    assert unneeded(imported_modules(*args, cache=str(tmp_path))) == []


@pytest.mark.slow
def test_with_a_cache_or_without_the_check_says_the_same(tmp_path):
    args = ["check", "examples/afsporing.yaml", "--as-of", "2026-11-22", "--engine", "python"]
    args += ["--fail-on", "medium"]
    outputs = []
    for cache in ("", str(tmp_path), str(tmp_path)):  # no cache, then a cache (twice: miss, then hit)
        env = {**os.environ, "BIP_CACHE_DIR": cache}
        result = subprocess.run(
            [sys.executable, "-m", "bip_engine.cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        outputs.append((result.returncode, result.stdout, result.stderr))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] == 1 and "Afsporing" in outputs[0][1]


#: Run after a check in the same process: the dataclasses of the modules a check loaded, as lines
#: `module.Class kind` (kind: "plain" for a stdlib @dataclass, "methods" for a @data_class with
#: methods of its own that the stdlib would compile, "made" for one whose __init__ the stdlib wrote,
#: "shared" for one constructed through the shared __init__ only).
DATACLASS_CENSUS = """
import dataclasses, sys
from bip_engine.cli import main
from bip_engine.models import _PLANS, Data
try:
    main(sys.argv[1:])
except SystemExit:
    pass
for module in [m for name, m in list(sys.modules.items()) if name.startswith("bip_engine")]:
    for value in list(vars(module).values()):
        if not (isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__):
            continue
        name = f"{module.__name__}.{value.__qualname__}"
        if not issubclass(value, Data):
            print(name, "plain")
        elif {"__eq__", "__repr__", "__hash__"} & set(vars(value)):
            print(name, "methods")
        elif vars(value)["__init__"].__name__ == "__init__":  # made; the shared one has its own name
            print(name, "made")
        elif _PLANS.get(value) is not None and _PLANS[value].uses:
            print(name, "shared")
"""


def test_a_cold_check_compiles_no_dataclass_method(tmp_path):
    """Every dataclass a check defines is a `@data_class`: nothing compiled when it is defined, and the
    classes the check constructs (the report's, a few others) are built through the shared `__init__`."""
    args = ["check", "examples/stilstand.yaml", "--as-of", "2026-11-22", "--engine", "python"]
    env = {**os.environ, "BIP_CACHE_DIR": str(tmp_path)}
    for _ in range(2):  # the first run fills the cache
        result = subprocess.run(
            [sys.executable, "-c", DATACLASS_CENSUS, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
    census = [line.split() for line in result.stdout.splitlines() if line.startswith("bip_engine.")]
    assert [name for name, kind in census if kind in ("plain", "methods")] == []
    assert [name for name, kind in census if kind == "made"] == []
    shared = {name for name, kind in census if kind == "shared"}
    assert "bip_engine.report.Report" in shared  # the census sees a constructed class
    assert not any(
        name.startswith(("bip_engine.expr.", "bip_engine.catalogue.", "bip_engine.record.")) for name in shared
    )


def test_the_listing_would_catch_a_wing_imported_at_start_up():
    # `bip rules validate` does use the authoring wing: the same listing must show it.
    modules = imported_modules("rules", "validate")
    assert "bip_engine.authoring.validate" in unneeded(modules)


def test_importing_engine_alone_loads_no_model_or_rule_machinery():
    code = "import sys, engine, bip_engine.errors; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    modules = set(result.stdout.split())
    assert "bip_engine.errors" in modules
    assert not {"bip_engine.check", "bip_engine.rulebook", "pydantic.main", "jinja2"} & modules
    from bip_engine import (  # the public names still work, imported on first use
        Checker,
        Report,
    )

    assert Checker.__module__ == "bip_engine.check" and Report.__module__ == "bip_engine.report"


# --- `bip rules test` after a plain `pip install bip-engine` -------------------------------------


def test_what_bip_rules_test_needs_is_a_normal_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        dependency.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
        for dependency in project["dependencies"]
    }
    assert {"pytest", "pytest-bdd"} <= names


@pytest.mark.slow
def test_bip_rules_test_runs_the_bundled_scenarios_outside_the_source_tree(tmp_path):
    # Run from an empty folder, as a policy officer would after installing: no tests/, no conftest.py.
    bip = ROOT / ".venv" / "bin" / "bip"
    command = (
        [str(bip)]
        if bip.exists() and sys.executable.startswith(str(ROOT / ".venv"))
        else [sys.executable, "-m", "bip_engine.cli"]
    )
    result = subprocess.run([*command, "rules", "test"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "failed" not in result.stdout
    assert "bip-engine[test]" not in result.stdout + result.stderr


def test_the_bip_process_ends_without_the_final_garbage_collection(tmp_path):
    """`bip` (the `run` entry point) freezes what the command made once it is done, so the interpreter's
    exit does not walk every object again; the command's output and exit code are as before."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))\n"
        "from bip_engine.cli import run\n"
        "sys.argv = ['bip', *sys.argv[1:]]\n"
        "run()\n"
    )
    args = ["check", "examples/afsporing.yaml", "--as-of", "2026-11-22", "--engine", "python", "--fail-on", "medium"]
    env = {**os.environ, "BIP_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert result.returncode == 1 and "Afsporing" in result.stdout  # flagged at or above --fail-on
    count = int(result.stderr.split("frozen", 1)[1].split()[0])
    assert count > 10_000  # the command's objects, out of the collector's way
