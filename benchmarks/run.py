"""Benchmarks for the pre-meeting check. Prints a Markdown table (docs/development/benchmarks.md shows the latest).

    python benchmarks/run.py [--records 2000] [--cold-runs 15] [--only cold|warm|throughput]

Measures, on generated (synthetic) records:
- a cold `bip check` of a bundled example, as a new process each time, per executor, as a ratio to
  the import floor `python -c "import click, jinja2, pydantic, yaml"` (paired, interleaved runs;
  the median of the ratios pair by pair), since absolute times on a shared machine swing too much;
  both run in a scratch virtual environment with the project installed from its wheel, as a user
  has it (an editable install's import finder costs extra), its bytecode compiled (`compileall`);
- a warm full check (a JSON line in, the report's JSON out: what `/v1/check` and `bip batch` do per
  record) against its floor (the same line parsed and validated, the facts derived and the rules
  run), in alternating slices of the same records in one process, as the median ratio slice by slice;
- evaluations per second of each executor (rules only, on facts derived beforehand), and of a
  whole evaluation (facts + rules);
- the same rules written by hand as `if` statements (benchmarks/handwritten.py), as the yardstick
  for the pure-Python executor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import handwritten

from bip_engine import Checker, durable_available, report_json
from bip_engine.caseload.simulate import generate_cohort
from bip_engine.facts import derive_facts

AS_OF = dt.date(2026, 11, 22)


IMPORT_FLOOR = "import click, jinja2, pydantic, yaml"


#: The children run as after a normal install: with PYTHONDONTWRITEBYTECODE set (as in some shells and
#: containers) every engine module would be compiled from source on each run, while the libraries of
#: the floor come with their bytecode, which would weigh the comparison against the engine.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the child) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=CHILD_ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: What pydantic's models cost before anything of the engine runs: the floor plus `pydantic.main`
#: (the floor's `import pydantic` loads its lazy top only). Measured as a command of its own, so the
#: table shows how much of the budget a check that validates with pydantic can have left.
MODELS_FLOOR = IMPORT_FLOOR + "; from pydantic import BaseModel"


def wheel_install(folder: Path, extras: str = "") -> Path:
    """The python of a virtual environment in `folder` with the project installed from its wheel.

    The wheel is built from the working tree, installed with `extras` (e.g. "[durable]"); its
    dependencies come from pip's index (or its cache).
    Everything in the environment is compiled to bytecode, as an install compiles it.
    """
    wheels = folder / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *(f"{wheel}{extras}" for wheel in wheels.glob("*.whl"))],
        check=True,
        capture_output=True,
    )
    subprocess.run([str(python), "-m", "compileall", "-q", str(venv / "lib")], check=True, env=CHILD_ENV)
    return python


def cold_check(engine: str | None, runs: int, python: Path) -> dict[str, float]:
    """A cold `bip check` of an example against the import floor, paired and interleaved.

    With `engine` None, the command is `MODELS_FLOOR` instead of a check.

    Both run with `python`, the interpreter of a wheel install (`wheel_install`). Each pair runs the floor (`python -c "import click, jinja2, pydantic, yaml"`) and the check, each
    a fresh process, in alternating order; the ratio is taken pair by pair, so a machine that speeds
    up or slows down during the runs does not bias it. Returns medians of the check's wall time, the
    floor's, and the ratios of wall and CPU time. One warm-up pair (bytecode and the on-disk caches).
    """
    command = [str(python.parent / "bip"), "check", str(ROOT / "examples" / "stilstand.yaml")]
    command += ["--as-of", AS_OF.isoformat(), "--engine"]
    command = [*command, engine] if engine else [str(python), "-c", MODELS_FLOOR]
    floor = [str(python), "-c", IMPORT_FLOOR]
    _timed(command), _timed(floor)
    checks, floors, wall_ratios, cpu_ratios = [], [], [], []
    for index in range(runs):
        if index % 2:
            check, base = _timed(command), _timed(floor)
        else:
            base, check = _timed(floor), _timed(command)
        checks.append(check[0])
        floors.append(base[0])
        wall_ratios.append(check[0] / base[0])
        cpu_ratios.append(check[1] / base[1] if base[1] else float("nan"))
    return {
        "check": statistics.median(checks),
        "floor": statistics.median(floors),
        "wall_ratio": statistics.median(wall_ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
    }


def warm_check(records: int, slices: int = 20) -> dict[str, float]:
    """A full check (JSON line in, report JSON out) against its floor (parse, validate, facts, rules).

    Both run on the same synthetic JSON lines in one process, in alternating slices (floor, check,
    check, floor, ...), so a machine that changes speed meanwhile does not bias the ratio; returns
    the medians of each one's time per record and of the ratio slice by slice.
    """
    checker = Checker(engine="python")
    lines = [json.dumps(data, default=str) for data in generate_cohort(records, seed=7)]

    def floor(line: str) -> None:
        checker.evaluate(checker.parse_record(json.loads(line)), AS_OF)

    def full(line: str) -> str:
        return report_json(checker.check(checker.parse_record(json.loads(line)), AS_OF, "da"))

    for line in lines[:50]:  # templates compiled, models built
        floor(line), full(line)
    size = max(1, len(lines) // slices)
    floors, fulls, ratios = [], [], []
    for index in range(slices):
        part = lines[(index * size) % len(lines) :][:size]
        times = {}
        for name, function in (
            (("floor", floor), ("full", full)) if index % 2 == 0 else (("full", full), ("floor", floor))
        ):
            start = time.perf_counter()
            for line in part:
                function(line)
            times[name] = (time.perf_counter() - start) / len(part)
        floors.append(times["floor"])
        fulls.append(times["full"])
        ratios.append(times["full"] / times["floor"])
    return {"floor": statistics.median(floors), "full": statistics.median(fulls), "ratio": statistics.median(ratios)}


def per_second(function, items, repeat: int = 3) -> float:
    """Best of `repeat` passes over `items`, as items per second."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            function(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def main() -> None:
    """Run every benchmark and print the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument(
        "--installed",
        type=Path,
        default=None,
        help="The python of a virtual environment with the wheel installed already (default: make one for this run).",
    )
    parser.add_argument(
        "--only",
        choices=["cold", "warm", "throughput"],
        default=None,
        help="Run only the cold-check pairs, only the warm check against its floor, or only the evaluations per second.",
    )
    args = parser.parse_args()

    engines = ["python"] + (["durable"] if durable_available() else [])
    rows = throughput_rows(engines, args.records) if args.only in (None, "throughput") else []
    if args.only in (None, "warm"):
        warm = warm_check(args.records)
        rows.append(
            (
                "warm full check (python): JSON line in, report JSON out",
                "floor: parse, validate, facts, rules",
                f"{1e6 * warm['full']:.0f} µs",
                f"floor {1e6 * warm['floor']:.0f} µs",
                f"**{warm['ratio']:.2f}x** the floor (median of 20 alternating slices); target ≤ 3x",
            )
        )
    if args.only in (None, "cold"):
        scratch = Path(tempfile.mkdtemp(prefix="bip-bench-"))
        try:
            rows += cold_rows(
                engines,
                args.cold_runs,
                args.installed or wheel_install(scratch, "[durable]" if "durable" in engines else ""),
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    print(f"Python {platform.python_version()}, {platform.machine()}, {args.records} synthetic records\n")
    print("| what | measured on | evaluations | per evaluation | note |")
    print("|---|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def cold_rows(engines: list[str], runs: int, python: Path) -> list[tuple[str, ...]]:
    """The cold-check rows: the models floor, then a cold check per executor, run with `python`."""
    rows = []
    base = cold_check(None, runs, python)
    rows.append(
        (
            "`from pydantic import BaseModel` after the floor (no check)",
            f"{runs} pairs with the import floor",
            f"median {base['check'] * 1000:.0f} ms",
            f"floor {base['floor'] * 1000:.0f} ms",
            f"**{base['wall_ratio']:.2f}x** the floor (CPU {base['cpu_ratio']:.2f}x): pydantic's models alone",
        )
    )
    for name in engines:
        cold = cold_check(name, runs, python)
        rows.append(
            (
                f"cold `bip check` ({name})",
                f"{runs} pairs with the import floor",
                f"median {cold['check'] * 1000:.0f} ms",
                f"floor {cold['floor'] * 1000:.0f} ms",
                f"**{cold['wall_ratio']:.2f}x** the floor (CPU {cold['cpu_ratio']:.2f}x); target ≤ 1.3x",
            )
        )
    return rows


def throughput_rows(engines: list[str], records: int) -> list[tuple[str, ...]]:
    """Evaluations per second of each executor and of the hand-written yardstick, as table rows."""
    checkers = {name: Checker(engine=name) for name in engines}
    parsed = [checkers["python"].parse_record(data) for data in generate_cohort(records, seed=7)]
    catalogue = checkers["python"].rulebook.catalogue
    facts = [derive_facts(record, AS_OF, catalogue).values for record in parsed]

    python_executor = checkers["python"].executor
    for values in facts:  # the yardstick must agree with the rules before it is timed
        outcome = python_executor.run(values)
        expected = (
            outcome.phase_rule.conclusion if outcome.phase_rule else None,
            list(dict.fromkeys(rule.conclusion for rule in outcome.flag_rules)),
            [rule.conclusion for rule in outcome.checklist_rules],
        )
        assert handwritten.run(values) == expected, "benchmarks/handwritten.py disagrees with the rules"

    rows = []
    hand = per_second(handwritten.run, facts)
    rows.append(("hand-written `if`s (yardstick)", "rules only", f"{hand:,.0f} /s", f"{1e6 / hand:.0f} µs", "1.0x"))
    for name, checker in checkers.items():
        rules_only = per_second(checker.executor.run, facts)
        rows.append(
            (
                f"{name} executor",
                "rules only",
                f"{rules_only:,.0f} /s",
                f"{1e6 / rules_only:.0f} µs",
                f"{hand / rules_only:.1f}x the yardstick's time",
            )
        )
        whole = per_second(lambda record, c=checker: c.evaluate(record, AS_OF), parsed, repeat=1)
        rows.append((f"{name} executor", "facts + rules", f"{whole:,.0f} /s", f"{1e6 / whole:.0f} µs", ""))
    return rows


if __name__ == "__main__":
    main()
