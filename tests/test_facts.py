"""Deriving facts from a record on a check date."""

import datetime as dt

import pytest

from bip_engine.facts import derive_facts
from bip_engine.record import validate_record
from tests.conftest import AS_OF, months_before, record, scores


def facts_of(data, rulebook, as_of=AS_OF):
    return derive_facts(validate_record(data), as_of, rulebook.catalogue)


def test_level_is_the_mean_of_the_latest_citizen_rated_scores(rulebook):
    latest = scores(2, health_coping=4, caseworker_belief=5, goal_directed=5)
    values = facts_of(record([latest]), rulebook).values
    assert values["level"] == pytest.approx((4 + 2 * 5) / 6, abs=1e-4)
    assert values["measurement_count"] == 1
    assert values["change"] is None and values["change_prev"] is None
    assert values["confidence"] == "low"
    assert values["score_caseworker_belief"] == 5


def test_change_and_previous_change(rulebook):
    values = facts_of(record([2, 2, 3]), rulebook).values
    assert values["change"] == 1.0
    assert values["change_prev"] == 0.0
    assert values["confidence"] == "high"


def test_change_uses_only_indicators_present_in_both(rulebook):
    older = {"health_coping": 2, "job_search": 1}
    newer = {"health_coping": 3, "cooperation": 5}
    assert facts_of(record([older, newer]), rulebook).values["change"] == 1.0


def test_measurements_after_the_check_date_are_left_out(rulebook):
    data = record([3, 3])
    data["measurements"].append({"date": "2027-01-10", "scores": scores(1)})
    derived = facts_of(data, rulebook)
    assert derived.values["measurement_count"] == 2
    assert [item.kind for item in derived.left_out] == ["measurement"]
    assert derived.left_out[0].date == dt.date(2027, 1, 10)


def test_months_since_measurement(rulebook):
    data = {"id": "X", "measurements": [{"date": months_before(4.5), "scores": scores(3)}]}
    assert facts_of(data, rulebook).values["months_since_measurement"] == pytest.approx(4.5, abs=0.05)


def test_active_interventions_types_and_aliases(rulebook):
    data = record(
        [3],
        interventions=[
            {"type": "Ekstern_Praktik", "start": months_before(2)},
            {"type": "hverdagsmestring", "start": months_before(6), "end": months_before(-1)},
            {"type": "diet_exercise", "start": months_before(8), "end": months_before(5)},
            {"type": "wage_subsidy", "start": months_before(1), "status": "cancelled"},
        ],
    )
    values = facts_of(data, rulebook).values
    assert values["active_interventions"] == ["everyday_coping", "external_internship"]
    assert values["active_types"] == ["job_oriented", "social"]
    assert values["job_oriented_active"] is True
    assert values["active_type_count"] == 2
    assert values["months_without_intervention"] == 0


def test_months_without_intervention_counts_from_the_last_end(rulebook):
    data = record([3], interventions=[{"type": "mentor", "start": months_before(9), "end": months_before(4)}])
    values = facts_of(data, rulebook).values
    assert values["months_without_intervention"] == pytest.approx(4, abs=0.05)
    assert values["job_oriented_active"] is False


def test_months_without_intervention_counts_from_first_measurement_when_none_ever(rulebook):
    values = facts_of(record([3, 3], spacing=5), rulebook).values
    assert values["months_without_intervention"] == pytest.approx(6, abs=0.05)


def test_internships_count_planned_and_ongoing_not_cancelled(rulebook):
    data = record(
        [3],
        interventions=[
            {"type": "internal_internship", "start": "2024-01-01", "end": "2024-03-01"},
            {"type": "external_internship", "start": "2024-06-01", "end": "2024-09-01"},
            {"type": "external_internship", "start": "2025-06-01", "end": "2025-09-01", "status": "completed"},
            {"type": "ekstern_praktik", "start": months_before(1)},
            {"type": "external_internship", "start": "2027-01-05"},
            {"type": "external_internship", "start": "2025-01-05", "status": "cancelled"},
        ],
    )
    values = facts_of(data, rulebook).values
    assert values["internship_count"] == 5
    assert values["planned_count"] == 1


def test_future_intervention_not_marked_planned_is_left_out(rulebook):
    data = record([3], interventions=[{"type": "mentor", "start": "2027-02-01", "status": "ongoing"}])
    derived = facts_of(data, rulebook)
    assert derived.values["planned_count"] == 0
    assert derived.left_out[0].kind == "intervention"


def test_caseworker_changes(rulebook):
    data = record(
        [3],
        caseworkers=[
            {"id": "a", "from": "2024-01-01"},
            {"id": "b", "from": months_before(10)},
            {"id": "c", "from": months_before(2)},
            {"id": "d", "from": "2027-03-01"},
        ],
    )
    derived = facts_of(data, rulebook)
    assert derived.values["caseworker_changes_12m"] == 2
    assert derived.values["caseworker_changes_6m"] == 1
    assert derived.values["months_since_caseworker_change"] == pytest.approx(2, abs=0.05)
    assert [item.kind for item in derived.left_out] == ["caseworker"]


def test_belief_gap_and_largest_drop(rulebook):
    data = record([scores(4), scores(4, work_confidence=5, caseworker_belief=2, job_search=1)])
    values = facts_of(data, rulebook).values
    assert values["belief_gap"] == 3
    assert values["largest_drop"] == 3
    assert values["largest_drop_indicator"] == "job_search"


def test_staircase_phrases_are_found_case_insensitively(rulebook):
    values = facts_of(record([3], notes="Borgeren er IKKE KLAR og har brug for ro."), rulebook).values
    assert values["staircase_phrases"] == ["ikke klar / ikke motiveret", "brug for ro"]
    assert values["has_notes"] is True
    assert facts_of(record([3], notes="Aftalt praktik i Netto."), rulebook).values["staircase_phrase_count"] == 0


def test_every_derived_fact_is_in_the_catalogue(rulebook):
    values = facts_of(record([3, 2, 4]), rulebook).values
    stage_facts = {name for name, spec in rulebook.facts.items() if spec.stage != "facts"}
    assert set(values) == set(rulebook.facts) - stage_facts
    from bip_engine.authoring.describe import fact_description

    for name, spec in rulebook.facts.items():
        assert fact_description(spec, "en", rulebook.catalogue), name
