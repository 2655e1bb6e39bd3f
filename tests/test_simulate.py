"""Tests for the synthetic cohort (engine/simulate.py): determinism, validity and calibration."""

from __future__ import annotations

import inspect
import io
import shutil
from datetime import date, timedelta
from itertools import pairwise
from statistics import fmean

import pytest
import yaml

from bip_engine.caseload.readers import RawRecord, detect_and_read, read_csv_exports, read_jsonl
from bip_engine.caseload.simulate import (
    DEFAULT_AS_OF,
    STAIRCASE_PHRASES,
    calibration_summary,
    generate_cohort,
    write_csv,
    write_jsonl,
)
from bip_engine.paths import default_rules

AS_OF = DEFAULT_AS_OF
CITIZEN_RATED = (
    "health_coping",
    "opportunity_knowledge",
    "work_confidence",
    "cooperation",
    "wage_realism",
    "job_search",
)
ALL_INDICATORS = set(CITIZEN_RATED) | {"caseworker_belief", "goal_directed", "competence_realism"}


@pytest.fixture(scope="module")
def cohort() -> list[dict]:
    return list(generate_cohort(10_000, seed=0))


@pytest.fixture(scope="module")
def summary(cohort) -> dict:
    return calibration_summary(cohort, AS_OF)


def reference_phase(record: dict) -> str | None:
    """The phase under the default thresholds of DOMAIN.md, computed here independently of the engine."""
    measurements = sorted(record["measurements"], key=lambda m: m["date"])
    scores = [m["scores"] for m in measurements if CITIZEN_RATED[0] in m["scores"]]  # the citizen's own
    if not scores:
        return None
    level = fmean(scores[-1][name] for name in CITIZEN_RATED)
    change = fmean(scores[-1][n] - scores[-2][n] for n in CITIZEN_RATED) if len(scores) > 1 else 0.0
    if level <= 1.8 or change <= -1.0:
        return "derailment"
    if change <= -0.4:
        return "regress"
    if change >= 0.4:
        return "progress"
    return "standstill"


# --- Determinism and shape ----------------------------------------------------------------------


def test_same_seed_same_records_and_citizen_i_independent_of_n():
    assert list(generate_cohort(30, seed=7)) == list(generate_cohort(30, seed=7))
    assert list(generate_cohort(50, seed=7))[:10] == list(generate_cohort(10, seed=7))
    assert list(generate_cohort(10, seed=7)) != list(generate_cohort(10, seed=8))


def test_generate_cohort_is_lazy():
    cohort = generate_cohort(10**12)
    assert inspect.isgenerator(cohort)
    assert next(cohort)["id"] == "SIM-000001"


def test_ids_unique_and_pseudonymous(cohort):
    ids = [record["id"] for record in cohort]
    assert len(set(ids)) == len(ids)
    assert ids[0] == "SIM-000001" and ids[-1] == "SIM-010000"


def test_scores_are_integers_from_1_to_5_on_every_indicator(cohort):
    for record in cohort[:2000]:
        for index, measurement in enumerate(record["measurements"]):
            # every indicator, except a latest measurement that holds only the caseworker's (as kept)
            caseworker_only = set(measurement["scores"]) == ALL_INDICATORS - set(CITIZEN_RATED)
            all_caseworker_only = all(
                set(m["scores"]) == ALL_INDICATORS - set(CITIZEN_RATED) for m in record["measurements"]
            )  # about 1 %: the citizen was never asked
            assert set(measurement["scores"]) == ALL_INDICATORS or (
                caseworker_only and (index == len(record["measurements"]) - 1 or all_caseworker_only)
            )
            assert all(type(score) is int and 1 <= score <= 5 for score in measurement["scores"].values())


def test_dates_are_iso_and_not_after_as_of_except_planned(cohort):
    for record in cohort[:2000]:
        days = [m["date"] for m in record["measurements"]] + [c["from"] for c in record["caseworkers"]]
        for item in record["interventions"]:
            if item.get("status") != "planned":
                days += [item["start"], *([item["end"]] if "end" in item else [])]
            else:
                assert date.fromisoformat(item["start"]) > AS_OF
            if "end" in item:
                assert item["end"] >= item["start"]
        for day in days:
            assert isinstance(day, str) and date.fromisoformat(day) <= AS_OF, (record["id"], day)


def test_measurements_about_every_three_months(cohort):
    gaps = []
    for record in cohort[:2000]:
        days = [date.fromisoformat(m["date"]) for m in record["measurements"]]
        gaps += [(later - earlier).days for earlier, later in pairwise(days)]
    assert all(gap >= 70 for gap in gaps)
    assert 80 <= fmean(gaps) <= 110


def test_rules_dir_drives_the_indicators(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(default_rules(), rules)
    catalogue = yaml.safe_load((rules / "indicators.yaml").read_text(encoding="utf-8"))
    catalogue["indicators"].append({"id": "own_indicator", "rated_by": "citizen", "label": {"da": "x", "en": "x"}})
    (rules / "indicators.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    record = next(r for r in generate_cohort(20, rules_dir=rules) if r["measurements"])
    assert "own_indicator" in record["measurements"][0]["scores"]


# --- Calibration --------------------------------------------------------------------------------


def test_intervention_mix_matches_bip(summary):
    assert summary["citizens"] == 10_000
    assert summary["no_intervention"] == pytest.approx(0.23, abs=0.03)
    assert summary["one_intervention"] == pytest.approx(0.50, abs=0.04)
    assert summary["combined"] == pytest.approx(0.26, abs=0.04)
    assert summary["combined_with_job_oriented"] == pytest.approx(0.18, abs=0.03)
    assert summary["single_job_oriented"] == pytest.approx(0.24, abs=0.03)
    assert summary["single_health"] == pytest.approx(0.14, abs=0.03)
    assert summary["single_social"] == pytest.approx(0.06, abs=0.02)
    assert summary["single_upskilling"] == pytest.approx(0.06, abs=0.02)


def test_flags_occur_at_the_calibrated_rates(summary):
    assert 0.02 <= summary["internships_5_plus"] <= 0.06
    assert 0.15 <= summary["measurement_overdue"] <= 0.25
    assert summary["caseworker_change_6m"] == pytest.approx(0.25, abs=0.04)
    assert summary["with_notes"] == pytest.approx(0.30, abs=0.04)
    assert 0.05 <= summary["notes_with_staircase_phrase"] < summary["with_notes"]


def test_all_four_phases_occur_under_default_thresholds(cohort):
    phases = [reference_phase(record) for record in cohort]
    for phase in ("progress", "standstill", "regress", "derailment"):
        assert phases.count(phase) / len(phases) >= 0.03, phase


def calibration_keys(record: dict) -> set[str]:
    """The calibration keys (such as single_health) that one record counts towards."""
    summary = calibration_summary([record], AS_OF)
    return {key for key, share in summary.items() if key != "citizens" and share}


def test_trajectories_follow_the_findings(cohort):
    changes: dict[str, list[float]] = {}
    for record in cohort:
        rated = [m["scores"] for m in record["measurements"] if CITIZEN_RATED[0] in m["scores"]]
        if len(rated) >= 2:
            first, last = rated[0], rated[-1]
            change = fmean(last[name] - first[name] for name in CITIZEN_RATED)
            for key in calibration_keys(record):
                changes.setdefault(key, []).append(change)
    mean = {key: fmean(values) for key, values in changes.items()}
    assert mean["no_intervention"] < -0.3
    assert abs(mean["single_health"]) < 0.2 and abs(mean["single_social"]) < 0.2
    assert 0.1 < mean["single_job_oriented"] < mean["combined_with_job_oriented"]


def test_caseworker_belief_sometimes_low_and_sometimes_far_from_the_citizens(cohort):
    latest = [r["measurements"][-1]["scores"] for r in cohort if r["measurements"]]
    latest = [scores for scores in latest if "work_confidence" in scores]  # the citizen's own ratings
    assert sum(s["caseworker_belief"] <= 2 for s in latest) / len(latest) > 0.05
    assert sum(abs(s["caseworker_belief"] - s["work_confidence"]) >= 2 for s in latest) / len(latest) > 0.03


def test_some_notes_use_staircase_phrases_and_some_do_not(cohort):
    notes = [record["notes"].casefold() for record in cohort if "notes" in record]
    with_phrase = [note for note in notes if any(phrase in note for phrase in STAIRCASE_PHRASES)]
    assert 0 < len(with_phrase) < len(notes)
    assert len({note for note in notes}) > 50


def test_calibration_summary_uses_the_three_month_window():
    def record(*interventions):
        return {"id": "X", "measurements": [], "caseworkers": [], "interventions": list(interventions)}

    day = lambda n: (AS_OF - timedelta(days=n)).isoformat()  # noqa: E731
    cohort = [
        record({"type": "mentor", "start": day(200), "end": day(91), "status": "completed"}),
        record({"type": "mentor", "start": day(200), "end": day(92), "status": "completed"}),
        record({"type": "virksomhedspraktik", "start": day(50)}, {"type": "treatment", "start": day(40)}),
        record(
            {"type": "treatment", "start": day(50), "status": "cancelled"},
            {"type": "network", "start": (AS_OF + timedelta(days=3)).isoformat(), "status": "planned"},
        ),
    ]
    summary = calibration_summary(cohort, AS_OF.isoformat())
    assert summary["single_job_oriented"] == 0.25
    assert summary["no_intervention"] == 0.5
    assert summary["combined_with_job_oriented"] == 0.25
    assert summary["measurement_overdue"] == 1.0


# --- Writing and reading back -------------------------------------------------------------------


def test_write_jsonl_round_trips_through_read_jsonl():
    records = list(generate_cohort(40, seed=3))
    buffer = io.StringIO()
    assert write_jsonl(records, buffer) == 40
    buffer.seek(0)
    items = list(read_jsonl(buffer))
    assert all(isinstance(item, RawRecord) for item in items)
    assert [item.data for item in items] == records


def test_write_csv_round_trips_through_the_csv_reader(tmp_path):
    records = list(generate_cohort(300, seed=4))
    assert any(not record["measurements"] for record in records)
    paths = write_csv(iter(records), tmp_path / "export")
    assert sorted(path.name for path in paths.values()) == ["caseworkers.csv", "interventions.csv", "measurements.csv"]
    expected = [{key: value for key, value in record.items() if key not in ("notes", "meetings")} for record in records]
    items = list(read_csv_exports(paths["measurements"], paths["interventions"], paths["caseworkers"]))
    assert all(isinstance(item, RawRecord) for item in items)
    assert [item.data for item in items] == expected
    detected = list(
        detect_and_read([str(paths["caseworkers"]), str(paths["measurements"]), str(paths["interventions"])])
    )
    assert [item.data for item in detected] == expected


def test_a_bad_size_is_a_keyed_error_in_both_languages():
    from bip_engine.errors import KeyedError

    with pytest.raises(KeyedError) as caught:
        next(generate_cohort(-1))
    assert caught.value.key == "simulate.bad_size"
    assert caught.value.text("da") != caught.value.text("en")


def test_a_catalogue_without_a_main_type_is_a_keyed_error_naming_the_type(tmp_path):
    from bip_engine.errors import KeyedError

    rules = tmp_path / "rules"
    shutil.copytree(default_rules(), rules)
    catalogue = yaml.safe_load((rules / "interventions.yaml").read_text(encoding="utf-8"))
    catalogue["interventions"] = [item for item in catalogue["interventions"] if item["type"] != "health"]
    (rules / "interventions.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KeyedError) as caught:
        next(generate_cohort(1, rules_dir=rules))
    assert caught.value.key == "simulate.missing_types"
    assert "health" in caught.value.text("da") and "health" in caught.value.text("en")
