"""The trajectory: scores over time, level, intervention bands, caseworker changes, past phases."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bip_engine.caseload.simulate import generate_cohort
from tests.conftest import AS_OF, months_before, record, scores


@pytest.fixture(scope="module")
def cohort():
    return list(generate_cohort(40, seed=11, as_of=AS_OF))


def test_one_point_per_measurement_and_the_level_of_the_check(checker, cohort):
    for data in cohort:
        report = checker.check(data, AS_OF, "en")
        trajectory = report.trajectory
        kept = sorted(m["date"] for m in data["measurements"] if m["date"] <= AS_OF.isoformat())
        assert trajectory.dates == kept
        assert len(trajectory.level) == len(kept)
        rated = [point.level for point in trajectory.level if point.level is not None]
        if rated:  # the level of the check is that of the latest measurement with the citizen's own ratings
            assert rated[-1] == pytest.approx(report.facts["level"])
        else:
            assert report.facts["level"] is None
        by_date = {m["date"]: m["scores"] for m in data["measurements"]}
        for series in trajectory.indicators:
            assert len(series.scores) == len(kept)
            assert [(p["date"], p["score"]) for p in series.points] == [
                (day, by_date[day][series.id]) for day in kept if series.id in by_date[day]
            ]
            assert series.rated_by == checker.rulebook.catalogue.indicators[series.id].rated_by
        assert trajectory.phases is None  # only Checker.trajectory re-runs the past


def test_phase_at_each_measurement_is_the_check_as_of_that_date(checker, cohort):
    for data in cohort[:15]:
        trajectory = checker.trajectory(data, AS_OF, "da")
        assert [point.date for point in trajectory.phases] == trajectory.dates
        for point in trajectory.phases:
            again = checker.check(data, dt.date.fromisoformat(point.date), "da")
            assert point.phase == (again.phase.id if again.phase else None)
            assert point.rule == (again.phase.rule if again.phase else None)
            assert point.label == (again.phase.label if again.phase else None)


def test_measurements_after_the_check_date_are_left_out(checker):
    data = record(levels=[2, 3, 4])
    data["measurements"].append({"date": (AS_OF + dt.timedelta(days=20)).isoformat(), "scores": scores(1)})
    trajectory = checker.trajectory(data, AS_OF, "en")
    assert len(trajectory.dates) == len(trajectory.phases) == 3
    assert all(day <= AS_OF.isoformat() for day in trajectory.dates)


def test_bands_by_main_type_and_caseworker_markers(checker):
    data = record(
        levels=[3, 3],
        interventions=[
            {"type": "ekstern_praktik", "start": months_before(8), "end": months_before(5)},
            {"type": "hverdagsmestring", "start": months_before(2)},
            {"type": "treatment", "start": months_before(4), "status": "cancelled"},
            {"type": "wage_subsidy", "start": (AS_OF + dt.timedelta(days=30)).isoformat()},
        ],
        caseworkers=[
            {"id": "cw-1", "from": months_before(12)},
            {"id": "cw-1", "from": months_before(9)},
            {"id": "cw-2", "from": months_before(3)},
        ],
    )
    trajectory = checker.check(data, AS_OF, "da").trajectory
    bands = {band.type: band for band in trajectory.interventions}
    assert set(bands) == {"external_internship", "everyday_coping", "wage_subsidy"}
    assert bands["external_internship"].main_type == "job_oriented"
    assert bands["external_internship"].main_type_label == "Jobrettet"
    assert bands["external_internship"].status == "ended"
    assert bands["everyday_coping"].until == AS_OF.isoformat() and bands["everyday_coping"].end is None
    assert bands["wage_subsidy"].status == "planned"
    assert [(m.previous, m.caseworker, m.date) for m in trajectory.caseworker_changes] == [
        ("cw-1", "cw-2", months_before(3))
    ]


def test_text_row_and_markdown_table(checker):
    rng = random.Random(5)
    path = [rng.randint(1, 5) for _ in range(4)]
    data = record(levels=[scores(3, work_confidence=value) for value in path])
    for lang in ("da", "en"):
        report = checker.check(data, AS_OF, lang)
        text = checker.render(report, "text")
        ids = [series.id for series in report.trajectory.indicators]
        lines = text.splitlines()
        first = next(number for number, line in enumerate(lines) if "2026 (4)" in line) + 1  # after the dates line
        row = lines[first + ids.index("work_confidence")]  # one row per indicator, by its name in words
        assert row.split("  ")[1].strip()[:31] == report.trajectory.indicators[ids.index("work_confidence")].label[:31]
        assert row.rsplit("  ", 1)[1].strip() == " → ".join(map(str, path))
        markdown = checker.render(report, "markdown")
        table = [line for line in markdown.splitlines() if line.startswith("| ")]
        assert len(table) == 1 + len(report.trajectory.indicators) + 1  # header, indicators, level
        assert all(line.count("|") == len(report.trajectory.dates) + 2 for line in table)
        confidence = next(line for line in table if "`work_confidence`" in line)
        assert [cell.strip() for cell in confidence.split("|")[2:-1]] == list(map(str, path))


def test_no_measurement_no_trajectory_rows(checker):
    report = checker.check(record(levels=[]), AS_OF, "en")
    assert report.trajectory.dates == [] and report.trajectory.indicators == []
    assert "TRAJECTORY" not in checker.render(report, "text")
    assert checker.trajectory(record(levels=[]), AS_OF).phases == []
