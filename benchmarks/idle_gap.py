"""What idle time between checks costs on this machine: the CPU time of one check after a pause. Prints Markdown.

    python benchmarks/idle_gap.py [--records 400] [--gaps 0 1 4 10]

A service at moderate load is idle between requests: at 250 checks a second a worker waits about
3 ms before each one. On many machines (virtual ones above all) the CPU's caches go cold and the
core slows down or is handed to another guest meanwhile, so the same work costs more CPU time
after a pause than back to back. This runs the same check (the record validated, evaluated,
reported and written as JSON) on `--records` synthetic citizens, once back to back and once after
each sleep of `--gaps` milliseconds, and prints the median and mean CPU time of one check (the
thread's own CPU time, so the sleeps do not count) and its ratio to the back-to-back median.

It explains why a check in `bip serve` costs more than the in-process yardstick of
`benchmarks/service.py` suggests, and why lowering the offered load does not lower the CPU a check
costs in the same proportion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 22)


def cpu_per_check(records: list[dict], gap: float) -> list[float]:
    """The thread CPU seconds of each check, sleeping `gap` seconds before each."""
    from bip_engine.check import Checker, report_json

    checker = Checker(engine="python")
    for data in records[:50]:  # warm: templates read, builders made
        report_json(checker.report(checker.evaluate(checker.parse_record(data), AS_OF), "da"))
    spent = []
    for data in records:
        if gap:
            time.sleep(gap)
        started = time.thread_time()
        report_json(checker.report(checker.evaluate(checker.parse_record(data), AS_OF), "da"))
        spent.append(time.thread_time() - started)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--gaps", type=float, nargs="+", default=[0, 1, 4, 10], help="milliseconds")
    args = parser.parse_args()
    from bip_engine.caseload.simulate import generate_cohort

    records = [json.loads(json.dumps(item, default=str)) for item in generate_cohort(args.records, seed=3)]
    print("| pause before each check | CPU per check (median) | mean | × back to back |")
    print("|---:|---:|---:|---:|")
    base = None
    for gap in args.gaps:
        spent = cpu_per_check(records, gap / 1000)
        median = statistics.median(spent)
        base = base or median
        print(
            f"| {gap:g} ms | {median * 1e6:,.0f} µs | {statistics.fmean(spent) * 1e6:,.0f} µs | {median / base:.2f} |"
        )
    print(f"\n(Python {sys.version.split()[0]}; CPU time of the checking thread)")


if __name__ == "__main__":
    main()
