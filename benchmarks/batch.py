"""Batch benchmarks on synthetic cohorts. Prints Markdown tables (docs/development/benchmarks.md shows the latest).

    python benchmarks/batch.py [--sizes 1000 10000 100000] [--skip-durable-above 10000] [--csv-sizes 100000]

For each cohort size it runs `bip batch COHORT.jsonl --format jsonl` as a separate process, for each
executor and with `--workers 2`, and records the wall time, citizens per second and the peak
memory (resident set size) of the whole process tree, sampled every 20 ms from /proc. For each CSV
size it does the same for the cohort written as the three CSV exports, once grouped by citizen and
once with every file's rows shuffled (so the reader must sort them by citizen). It then splits the
time of one in-process pass over 10,000 citizens into reading, validating, deriving facts,
evaluating rules and writing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
AS_OF = "2026-11-22"
sys.path.insert(0, str(ROOT))


def cohort(size: int) -> Path:
    """The synthetic cohort of `size` citizens as JSON Lines (generated once, seed 42)."""
    from bip_engine.caseload.simulate import generate_cohort, write_jsonl

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"cohort-{size}.jsonl"
    if not path.exists():
        with path.open("w", encoding="utf-8") as stream:
            write_jsonl(generate_cohort(size, seed=42), stream)
    return path


def csv_exports(size: int, shuffle: bool) -> list[Path]:
    """The cohort of `size` citizens as the three CSV exports; with `shuffle`, every file's rows in random order."""
    from bip_engine.caseload.simulate import generate_cohort, write_csv

    grouped = OUT / f"csv-{size}"
    if not (grouped / "measurements.csv").exists():
        write_csv(generate_cohort(size, seed=42), grouped)
    paths = sorted(grouped.glob("*.csv"))
    if not shuffle:
        return paths
    folder = OUT / f"csv-{size}-shuffled"
    folder.mkdir(parents=True, exist_ok=True)
    for offset, path in enumerate(paths):
        target = folder / path.name
        if not target.exists():  # shuffled in memory: this benchmark process, not bip, holds the rows
            header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
            random.Random(offset).shuffle(rows)
            target.write_text(header + "".join(rows), encoding="utf-8")
    return sorted(folder.glob("*.csv"))


def _tree_rss(pid: int) -> int:
    """Resident memory in bytes of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as status:
                total += next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, StopIteration):
            continue
    return total


def run_batch(path: Path | list[Path], engine: str, workers: int) -> tuple[float, int]:
    """Wall seconds and peak tree RSS of one `bip batch` run over `path` (or several input files)."""
    paths = [str(item) for item in (path if isinstance(path, list) else [path])]
    bip = Path(sys.executable).parent / "bip"
    command = [
        str(bip) if bip.exists() else sys.executable,
        *([] if bip.exists() else ["-m", "bip_engine.cli"]),
        "batch",
        *paths,
        "--format",
        "jsonl",
        "--as-of",
        AS_OF,
        "--engine",
        engine,
        "--workers",
        str(workers),
    ]
    peak = [0]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    elapsed = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    return elapsed, peak[0]


def time_split(path: Path, limit: int = 10000) -> dict[str, float]:
    """Seconds spent in each step of one in-process pass (pure-Python executor)."""
    from bip_engine import Checker
    from bip_engine.caseload.batch import Row
    from bip_engine.caseload.readers import read_jsonl
    from bip_engine.facts import derive_facts

    checker = Checker(engine="python")
    as_of = dt.date.fromisoformat(AS_OF)
    spent = dict.fromkeys(("read", "validate", "facts", "rules", "write"), 0.0)
    sink = io.StringIO()
    items = read_jsonl(path)
    for _ in range(limit):
        t0 = time.perf_counter()
        item = next(items, None)
        if item is None:
            break
        t1 = time.perf_counter()
        record = checker.parse_record(item.data, item.source)
        t2 = time.perf_counter()
        facts = derive_facts(record, as_of, checker.rulebook.catalogue)
        t3 = time.perf_counter()
        outcome = checker.executor.run(facts.values)
        t4 = time.perf_counter()
        row = Row(
            record.id,
            outcome.phase_rule.conclusion if outcome.phase_rule else None,
            facts.values["confidence"],
            0,
            0,
            0,
            [rule.conclusion for rule in outcome.flag_rules],
            item.source,
        )
        sink.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
        t5 = time.perf_counter()
        for key, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            spent[key] += seconds
    return spent


def main() -> None:
    """Run the batch benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--skip-durable-above", type=int, default=100000)
    parser.add_argument(
        "--csv-sizes",
        type=int,
        nargs="*",
        default=[100000],
        help="Cohort sizes to run from CSV exports, grouped and shuffled (python executor).",
    )
    args = parser.parse_args()
    from bip_engine import durable_available

    configurations = [("python", 1), ("python", 2)]
    if durable_available():
        configurations += [("durable", 1), ("durable", 2)]
    print("| citizens | executor | workers | wall time | citizens/s | peak memory (all processes) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        path = cohort(size)
        for engine, workers in configurations:
            if engine == "durable" and size > args.skip_durable_above:
                continue
            seconds, peak = run_batch(path, engine, workers)
            print(
                f"| {size:,} | {engine} | {workers} | {seconds:.1f} s | {size / seconds:,.0f} | "
                f"{peak / 2**20:.0f} MB |",
                flush=True,
            )
    if args.csv_sizes:
        print(
            "\n| citizens | CSV exports | executor | workers | wall time | citizens/s | peak memory (all processes) |"
        )
        print("|---:|---|---|---:|---:|---:|---:|")
    for size in args.csv_sizes:
        for shuffle in (False, True):
            paths = csv_exports(size, shuffle)
            for workers in (1, 2):
                seconds, peak = run_batch(paths, "python", workers)
                print(
                    f"| {size:,} | {'shuffled' if shuffle else 'grouped'} | python | {workers} | {seconds:.1f} s | "
                    f"{size / seconds:,.0f} | {peak / 2**20:.0f} MB |",
                    flush=True,
                )
    split = time_split(cohort(min(10000, max(args.sizes))))
    total = sum(split.values())
    print("\n| step (one process, pure-Python executor) | share of time | µs per citizen |")
    print("|---|---:|---:|")
    count = min(10000, max(args.sizes))
    for step, seconds in split.items():
        print(f"| {step} | {seconds / total:.0%} | {seconds / count * 1e6:.0f} |")


if __name__ == "__main__":
    main()
