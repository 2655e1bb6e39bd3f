"""CSV exports in any order: shuffled exports give the same records and the same batch output as grouped ones.

The exports are generated (a synthetic cohort written as the three CSV files), then every file's
rows are shuffled, each file with its own seed, so no file is grouped by citizen and the three
files list the citizens in different orders.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bip_engine.caseload.readers import RawRecord, ReadProblem, read_csv_exports
from bip_engine.caseload.simulate import generate_cohort, write_csv

AS_OF = "2026-11-22"


def exports(folder: Path, citizens: int, seed: int = 3) -> dict[str, Path]:
    """The cohort's three CSV exports, grouped by citizen and in the same citizen order."""
    return write_csv(generate_cohort(citizens, seed=seed), folder)


def shuffled(paths: dict[str, Path], folder: Path, seed: int) -> dict[str, Path]:
    """Copies of the exports with their data rows shuffled (the header stays first)."""
    folder.mkdir(parents=True, exist_ok=True)
    result = {}
    for offset, (kind, path) in enumerate(sorted(paths.items())):
        header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
        random.Random(seed + offset).shuffle(rows)
        result[kind] = folder / path.name
        result[kind].write_text(header + "".join(rows), encoding="utf-8")
    return result


def by_citizen(items) -> dict[str, dict]:
    found = {}
    for item in items:
        assert isinstance(item, RawRecord), item
        assert item.data["id"] not in found
        found[item.data["id"]] = item.data
    return found


def read(paths: dict[str, Path]):
    return list(read_csv_exports(paths["measurements"], paths["interventions"], paths["caseworkers"]))


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_exports_give_the_same_records(tmp_path, seed):
    grouped = exports(tmp_path / "grouped", 150)
    mixed = shuffled(grouped, tmp_path / f"mixed-{seed}", seed)
    assert mixed["measurements"].read_text() != grouped["measurements"].read_text()
    expected, actual = by_citizen(read(grouped)), by_citizen(read(mixed))
    assert len(expected) == 150
    assert set(actual) == set(expected)
    for citizen_id, data in expected.items():
        other = actual[citizen_id]
        # Measurement dates keep the order they first appear in; compare them as a set of dated scores.
        assert sorted(other["measurements"], key=lambda m: m["date"]) == sorted(
            data["measurements"], key=lambda m: m["date"]
        ), citizen_id
        for kind in ("interventions", "caseworkers"):
            assert sorted(map(repr, other[kind])) == sorted(map(repr, data[kind])), (citizen_id, kind)


def test_records_come_in_the_order_citizens_first_appear_in_measurements(tmp_path):
    mixed = shuffled(exports(tmp_path / "grouped", 40), tmp_path / "mixed", 5)
    first_seen: list[str] = []
    for line in mixed["measurements"].read_text().splitlines()[1:]:
        citizen_id = line.split(",", 1)[0]
        if citizen_id not in first_seen:
            first_seen.append(citizen_id)
    items = read(mixed)
    assert [item.data["id"] for item in items] == first_seen
    lines = mixed["measurements"].read_text().splitlines()
    for item in items:  # each record's source is its citizen's first measurements row
        number = int(item.source.rsplit(":", 1)[1])
        assert lines[number - 1].startswith(item.data["id"] + ",")
        assert not any(line.startswith(item.data["id"] + ",") for line in lines[1 : number - 1])


@pytest.mark.slow
def test_shuffled_exports_give_the_same_batch_output(tmp_path):
    grouped = exports(tmp_path / "grouped", 200, seed=11)
    mixed = shuffled(grouped, tmp_path / "mixed", 7)

    def batch(paths: dict[str, Path], fmt: str) -> str:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bip_engine.cli",
                "batch",
                *map(str, paths.values()),
                "--format",
                fmt,
                "--as-of",
                AS_OF,
                "--engine",
                "python",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    for fmt in ("jsonl", "csv"):
        expected = batch(grouped, fmt)
        assert expected.count("\n") >= 200
        assert batch(mixed, fmt) == expected


def test_stray_rows_in_shuffled_exports_are_still_reported_with_file_and_line(tmp_path):
    grouped = exports(tmp_path / "grouped", 30)
    with grouped["interventions"].open("a", encoding="utf-8") as stream:
        stream.write("NOBODY-1,mentor,2026-01-01,,\nNOBODY-2,mentor,2026-01-01,,\n")
    mixed = shuffled(grouped, tmp_path / "mixed", 9)
    items = list(read_csv_exports(mixed["measurements"], mixed["interventions"], mixed["caseworkers"]))
    problems = [item for item in items if isinstance(item, ReadProblem)]
    assert len([item for item in items if isinstance(item, RawRecord)]) == 30
    lines = mixed["interventions"].read_text().splitlines()
    assert len(problems) == 2
    for problem in problems:
        path, number = problem.source.rsplit(":", 1)
        assert path == str(mixed["interventions"])
        citizen_id = lines[int(number) - 1].split(",", 1)[0]
        assert citizen_id.startswith("NOBODY-") and f"citizen {citizen_id} is not in" in problem.message


def _peak_python_memory(paths: dict[str, Path]) -> int:
    tracemalloc.start()
    try:
        for _ in read_csv_exports(paths["measurements"], paths["interventions"], paths["caseworkers"]):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_memory_for_shuffled_exports_does_not_grow_with_the_citizens(tmp_path):
    small = shuffled(exports(tmp_path / "small", 300), tmp_path / "small-mixed", 1)
    large = shuffled(exports(tmp_path / "large", 1200), tmp_path / "large-mixed", 1)
    small_peak, large_peak = _peak_python_memory(small), _peak_python_memory(large)
    # Four times the citizens; the rows are sorted on disk, so the peak stays about the same.
    assert large_peak < 1.5 * small_peak + 256 * 1024, (small_peak, large_peak)
