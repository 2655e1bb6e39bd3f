"""The decision log's append alone: the time of one commit of one decision row on a SQLite log. Prints Markdown.

    python benchmarks/log_append.py [--commits 3000]

As the service's group commit appends (`try_append_decisions`, checkpoints left to later), in one
process: first one writer (a `Store`) committing again and again, then two writers on one file
taking turns, so that every commit follows the other's (as two workers of `bip serve` do at load).
The rows are made before the clock starts (one check, its entry made `--commits` times); the
first 500 commits are left out (the page cache and SQLite's own caches fill), and the median of
the rest is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 500


def median_commit(writers: int, commits: int) -> float:
    """The median seconds of one commit of one row, `writers` stores on one SQLite file taking turns."""
    from bip_engine import Checker
    from bip_engine.log.decisions import decision_entry, decision_values, try_append_decisions
    from bip_engine.log.store import Store
    from bip_engine.log.tokens import Principal
    from tests.conftest import record

    checker = Checker(ROOT / "rules", engine="python")
    parsed = checker.parse_record(record([3, 4, 2]))
    report = checker.check(parsed, dt.date(2026, 11, 22), "da")
    folder = Path(tempfile.mkdtemp(prefix="bip-bench-append-"))
    stores = [Store.open(f"sqlite:///{folder / 'log.sqlite'}") for _ in range(writers)]
    try:
        for store in stores:
            store.checkpoint_later()
        principal = Principal("anna", "caseworker")
        rows = [
            decision_values(decision_entry(report, parsed, principal, "benchmark", stores[0])) for _ in range(commits)
        ]
        times = []
        for number, row in enumerate(rows):
            started = time.perf_counter()
            if not try_append_decisions(stores[number % writers], [row]):
                raise RuntimeError("the write lock was taken: nothing else may write this log")
            times.append(time.perf_counter() - started)
        return statistics.median(times[WARM_UP:])
    finally:
        for store in stores:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=3000)
    args = parser.parse_args()
    print("| writers | median commit of one row |")
    print("|---|---:|")
    for writers in (1, 2):
        print(f"| {writers} | {median_commit(writers, args.commits) * 1e6:.0f} µs |", flush=True)


if __name__ == "__main__":
    main()
