"""Benchmarks for the pre-meeting check. Prints a Markdown table (the README shows the latest).

    python benchmarks/run.py [--records 2000] [--cold-runs 9]

Measures, on generated (synthetic) records:
- a cold `bip check` of a bundled example, as a new process each time (median wall time), per executor;
- evaluations per second of each executor (rules only, on facts derived beforehand), and of a
  whole evaluation (facts + rules);
- the same rules written by hand as `if` statements (benchmarks/handwritten.py), as the yardstick
  for the pure-Python executor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import handwritten  # noqa: E402

from engine import Checker, durable_available  # noqa: E402
from engine.facts import derive_facts  # noqa: E402
from engine.caseload.simulate import generate_cohort  # noqa: E402

AS_OF = dt.date(2026, 11, 22)


def cold_check(engine: str, runs: int) -> tuple[float, float]:
    """Median and fastest wall time of `bip check` on an example, each run a fresh process."""
    bip = Path(sys.executable).parent / "bip"
    command = [str(bip)] if bip.exists() else [sys.executable, str(ROOT / "cli.py")]
    command += ["check", str(ROOT / "examples" / "stilstand.yaml"), "--as-of", AS_OF.isoformat(), "--engine", engine]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


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
    parser.add_argument("--cold-runs", type=int, default=9)
    args = parser.parse_args()

    engines = ["python"] + (["durable"] if durable_available() else [])
    checkers = {name: Checker(engine=name) for name in engines}
    parsed = [checkers["python"].parse_record(data) for data in generate_cohort(args.records, seed=7)]
    catalogue = checkers["python"].rulebook.catalogue
    facts = [derive_facts(record, AS_OF, catalogue).values for record in parsed]

    python_executor = checkers["python"].executor
    for values in facts:  # the yardstick must agree with the rules before it is timed
        outcome = python_executor.run(values)
        expected = (outcome.phase_rule.conclusion if outcome.phase_rule else None,
                    list(dict.fromkeys(rule.conclusion for rule in outcome.flag_rules)),
                    [rule.conclusion for rule in outcome.checklist_rules])
        assert handwritten.run(values) == expected, "benchmarks/handwritten.py disagrees with the rules"

    rows = []
    hand = per_second(handwritten.run, facts)
    rows.append(("hand-written `if`s (yardstick)", "rules only", f"{hand:,.0f} /s", f"{1e6 / hand:.0f} µs", "1.0x"))
    for name, checker in checkers.items():
        rules_only = per_second(checker.executor.run, facts)
        rows.append((f"{name} executor", "rules only", f"{rules_only:,.0f} /s", f"{1e6 / rules_only:.0f} µs",
                     f"{hand / rules_only:.1f}x the yardstick's time"))
        whole = per_second(lambda record, c=checker: c.evaluate(record, AS_OF), parsed, repeat=1)
        rows.append((f"{name} executor", "facts + rules", f"{whole:,.0f} /s", f"{1e6 / whole:.0f} µs", ""))
    for name in engines:
        median, fastest = cold_check(name, args.cold_runs)
        rows.append((f"cold `bip check` ({name})", f"{args.cold_runs} runs", f"median {median * 1000:.0f} ms",
                     f"fastest {fastest * 1000:.0f} ms", "target < 300 ms"))

    print(f"Python {platform.python_version()}, {platform.machine()}, {args.records} synthetic records\n")
    print("| what | measured on | evaluations | per evaluation | note |")
    print("|---|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
