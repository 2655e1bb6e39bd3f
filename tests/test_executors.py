"""Both executors run the same intermediate form and must agree on every record."""

import datetime as dt
import random

import pytest

from bip_engine import Checker, durable_available
from bip_engine.facts import derive_facts
from bip_engine.record import validate_record
from tests.conftest import AS_OF

INTERVENTIONS = [
    "external_internship",
    "internal_internship",
    "wage_subsidy",
    "mentor",
    "general_education",
    "rehabilitation",
    "network",
    "everyday_coping",
    "treatment",
    "addiction_treatment",
]
INDICATORS = [
    "health_coping",
    "opportunity_knowledge",
    "work_confidence",
    "cooperation",
    "wage_realism",
    "job_search",
    "caseworker_belief",
    "goal_directed",
    "competence_realism",
]


def varied_record(rng: random.Random, index: int) -> dict:
    """A random but valid record: 0-5 measurements, partial scores, interventions, caseworkers, notes."""
    day = AS_OF - dt.timedelta(days=rng.randint(0, 200))
    measurements, level = [], rng.uniform(1, 5)
    for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 5])):
        names = rng.sample(INDICATORS, rng.randint(1, len(INDICATORS)))
        measurements.append(
            {
                "date": day.isoformat(),
                "scores": {name: max(1, min(5, round(level + rng.gauss(0, 0.8)))) for name in names},
            }
        )
        day -= dt.timedelta(days=rng.randint(60, 120))
        level = max(1, min(5, level + rng.choice([-1.5, -0.6, 0, 0, 0.6, 1.2])))
    interventions = []
    for _ in range(rng.choice([0, 1, 2, 3, 4, 6, 9])):
        start = AS_OF - dt.timedelta(days=rng.randint(-60, 900))
        item = {"type": rng.choice(INTERVENTIONS), "start": start.isoformat()}
        if rng.random() < 0.6:
            item["end"] = (start + dt.timedelta(days=rng.randint(10, 200))).isoformat()
        if rng.random() < 0.3:
            item["status"] = rng.choice(["planned", "ongoing", "completed", "cancelled"])
        interventions.append(item)
    caseworkers = [
        {"id": f"cw-{rng.randint(1, 4)}", "from": (AS_OF - dt.timedelta(days=rng.randint(0, 700))).isoformat()}
        for _ in range(rng.randint(0, 3))
    ]
    data = {
        "id": f"R-{index}",
        "measurements": measurements,
        "interventions": interventions,
        "caseworkers": caseworkers,
    }
    if rng.random() < 0.4:
        data["notes"] = rng.choice(["Ikke klar til praktik endnu.", "Aftalt samtale med virksomhed.", "Brug for ro."])
    return data


@pytest.mark.slow
@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
def test_durable_and_python_executors_agree_on_many_varied_records(rulebook):
    python, durable = Checker(rulebook, engine="python"), Checker(rulebook, engine="durable")
    rng = random.Random(20261122)
    phases_seen, flags_seen = set(), set()
    for index in range(1500):
        record = validate_record(varied_record(rng, index))
        left, right = python.evaluate(record, AS_OF), durable.evaluate(record, AS_OF)
        assert (left.phase, left.outcome.phase_matches) == (right.phase, right.outcome.phase_matches), record.id
        assert left.flags == right.flags, record.id
        assert [r.id for r in left.outcome.checklist_rules] == [r.id for r in right.outcome.checklist_rules]
        phases_seen.add(left.phase)
        flags_seen.update(left.flags)
    assert phases_seen == {None, "progress", "standstill", "regress", "derailment"}
    assert flags_seen == set(rulebook.flag_ids)


@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
def test_durable_sessions_are_deleted_after_each_evaluation(rulebook):
    durable = Checker(rulebook, engine="durable")
    record = validate_record(varied_record(random.Random(1), 1))
    for _ in range(1100):  # more than durable_rules' 1,024 live sessions
        durable.evaluate(record, AS_OF)


def test_python_executor_first_phase_match_by_priority_wins(rulebook):
    checker = Checker(rulebook, engine="python")
    facts = derive_facts(
        validate_record(
            {
                "id": "P",
                "measurements": [
                    {"date": "2026-05-01", "scores": {"health_coping": 3, "job_search": 3}},
                    {"date": "2026-08-01", "scores": {"health_coping": 1, "job_search": 1}},
                ],
            }
        ),
        AS_OF,
        rulebook.catalogue,
    )
    outcome = checker.executor.run(facts.values)
    assert outcome.phase_rule.id == "derailment_low_level"
    assert outcome.phase_matches[:3] == ["derailment_low_level", "derailment_steep_fall", "regress_fall"]


def test_unknown_executor_name_is_refused(rulebook):
    with pytest.raises(ValueError, match="unknown executor"):
        Checker(rulebook, engine="drools")


@pytest.mark.parametrize("engine", ["python"] + (["durable"] if durable_available() else []))
def test_one_checker_shared_by_threads_gives_the_same_results(rulebook, engine):
    from concurrent.futures import ThreadPoolExecutor

    checker = Checker(rulebook, engine=engine)
    rng = random.Random(99)
    records = [validate_record(varied_record(rng, index)) for index in range(300)]

    def summary(record):
        evaluation = checker.evaluate(record, AS_OF)
        return evaluation.phase, evaluation.flags, [rule.id for rule in evaluation.outcome.checklist_rules]

    sequential = [summary(record) for record in records]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(summary, records))
    assert parallel == sequential


@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
def test_executors_agree_under_dated_rules_before_and_after_the_date(tmp_path):
    """A dated parameter, a rule in two dated variants and a dated phrase: both executors, both sides of the date."""
    from tests.test_dated import dated_rulebook

    folder = dated_rulebook(tmp_path)
    texts = [tmp_path / "tekster"]
    python, durable = Checker(folder, texts, engine="python"), Checker(folder, texts, engine="durable")
    rng = random.Random(20270101)
    seen = {}
    for index in range(400):
        record = validate_record(varied_record(rng, index))
        for day in (dt.date(2026, 12, 31), dt.date(2027, 1, 1)):
            left = python.evaluate(record, AS_OF, rules_as_of=day)
            right = durable.evaluate(record, AS_OF, rules_as_of=day)
            assert (left.phase, left.outcome.phase_matches) == (right.phase, right.outcome.phase_matches), record.id
            assert left.flags == right.flags, record.id
            assert [r.id for r in left.outcome.checklist_rules] == [r.id for r in right.outcome.checklist_rules]
            seen.setdefault(day, set()).update(left.flags)
    assert "meeting_required" in seen[dt.date(2027, 1, 1)] and "meeting_required" not in seen[dt.date(2026, 12, 31)]
