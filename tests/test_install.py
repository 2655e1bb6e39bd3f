"""The wheel installs as one import package, `bip_engine`, and lives beside other people's code.

A fresh virtual environment gets the wheel built from this checkout, installed as a user would (its
plain dependencies from the package index), next to two dummy distributions that ship top-level
`engine` and `cli` packages, and an application folder with its own `engine.py`. `bip check` and the
library must work there, must not be taken over by those names, and the plain install must bring
neither the web service nor durable-rules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "stilstand.yaml"


def run(*args: str | Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command as on a user's machine: no import path or bytecode switch leaking in from the test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"}
    }
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600, check=False
    )
    if check:
        assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built the way pip builds it, with the build's own output kept."""
    out = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, ROOT, "-v")
    assert "warning" not in built.stdout.lower() + built.stderr.lower(), (
        "building the wheel printed warnings:\n"
        + "\n".join(line for line in built.stderr.splitlines() if "arn" in line)
    )
    (found,) = out.glob("bip_engine-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh environment with the plain wheel, and two dummy distributions named `engine` and `cli`."""
    folder = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", folder)
    python = folder / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    (site / "engine").mkdir()
    (site / "engine" / "__init__.py").write_text("raise ImportError('the other engine package')\n")
    (site / "cli").mkdir()
    (site / "cli" / "__init__.py").write_text("def main():\n    print('somebody else\\'s cli')\n")
    return folder


def test_the_wheel_holds_one_import_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"bip_engine"}
    assert "bip_engine/cli.py" in names and "bip_engine/bundled/rules/phases.yaml" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "bip = bip_engine.cli:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_bip_check_runs_next_to_packages_named_engine_and_cli(venv: Path) -> None:
    result = run(venv / "bin" / "bip", "check", EXAMPLE, "--as-of", "2026-11-22", "--lang", "en")
    assert "EX-STILSTAND" in result.stdout and "Standstill" in result.stdout
    assert "somebody else" not in result.stdout


def test_the_library_imports_from_an_app_with_its_own_engine_module(venv: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "engine.py").write_text("NAME = 'the app own engine'\n")
    (app / "main.py").write_text(
        "import datetime, engine\n"
        "from bip_engine import Checker\n"
        f"report = Checker().check_file({str(EXAMPLE)!r}, as_of=datetime.date(2026, 11, 22), lang='en')\n"
        "print(engine.NAME, report.phase.id)\n"
    )
    result = run(venv / "bin" / "python", "main.py", cwd=app)
    assert result.stdout.split() == ["the", "app", "own", "engine", "standstill"]


def test_the_plain_install_brings_neither_the_service_nor_durable_rules(venv: Path) -> None:
    probe = (
        "import importlib.util as u; "
        "print(*[n for n in ('fastapi', 'uvicorn', 'sqlalchemy', 'psycopg', 'durable') if u.find_spec(n)])"
    )
    assert run(venv / "bin" / "python", "-c", probe).stdout.strip() == ""


def test_without_the_service_extra_bip_serve_says_what_to_install(venv: Path) -> None:
    result = run(venv / "bin" / "bip", "serve", check=False)
    assert result.returncode == 5 and "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("'bip serve' kræver en del, der ikke er installeret (")
    assert message.endswith("): pip install 'bip-engine[service]'")


def test_a_nested_command_names_itself_and_speaks_the_language_asked(venv: Path) -> None:
    result = run(venv / "bin" / "bip", "log", "purge", "--database", "sqlite:///x.sqlite", "--lang", "en", check=False)
    assert result.returncode == 5 and "Traceback" not in result.stderr
    assert result.stderr.startswith("'bip log purge' needs a part that is not installed (")
