"""What-if records and what changed between two checks."""

from __future__ import annotations

import random

import pytest

from bip_engine import RecordError
from bip_engine.changes import Summary, compare
from bip_engine.whatif import what_if
from tests.conftest import AS_OF, months_before, record, scores

INTERNSHIPS = [
    {"type": "external_internship", "start": months_before(30 - 5 * i), "end": months_before(28 - 5 * i)}
    for i in range(4)
]


def test_a_fifth_internship_raises_the_flag_and_clears_no_intervention(checker):
    base = record(levels=[3, 3, 3], interventions=INTERNSHIPS)
    before = checker.check(base, AS_OF, "en")
    assert "no_intervention_3m" in {flag.id for flag in before.flags}
    proposed = checker.what_if(base, [{"type": "ekstern_praktik", "start": months_before(0.2)}])
    after = checker.check(proposed, AS_OF, "en")
    changes = compare(Summary.from_report(before), Summary.from_report(after))
    assert "fifth_internship" in changes.flags_new
    assert "no_intervention_3m" in changes.flags_resolved
    assert len(proposed.interventions) == len(base["interventions"]) + 1


def test_a_planned_intervention_and_a_new_caseworker(checker):
    base = checker.parse_record(record(levels=[3, 3, 3], caseworkers=[{"id": "cw-1", "from": months_before(20)}]))
    proposed = what_if(
        base,
        [{"type": "mentor", "start": "2027-01-04", "end": "2027-03-31"}],
        caseworker={"id": "cw-2", "from": AS_OF},
        catalogue=checker.rulebook.catalogue,
    )
    assert base.caseworkers[-1].id == "cw-1" and len(base.interventions) == 0  # the original is untouched
    after = checker.check(proposed, AS_OF, "en")
    assert after.facts["planned_count"] == 1
    assert "caseworker_change" in {flag.id for flag in after.flags}


def test_an_unknown_type_gets_the_same_located_problem_as_a_record(checker):
    base = record(levels=[3], interventions=INTERNSHIPS[:2])
    with pytest.raises(RecordError) as proposal:
        checker.what_if(base, [{"type": "ekstern_praktk", "start": "2026-12-01"}])
    bad = dict(base, interventions=[*base["interventions"], {"type": "ekstern_praktk", "start": "2026-12-01"}])
    with pytest.raises(RecordError) as as_record:
        checker.parse_record(bad)
    assert [(p.code, p.message) for p in proposal.value.problems] == [
        (p.code, p.message) for p in as_record.value.problems
    ]
    assert proposal.value.problems[0].code == "R004"
    assert "interventions[2].type" in proposal.value.problems[0].message
    assert "did you mean 'ekstern_praktik'" in proposal.value.problems[0].message


@pytest.mark.parametrize(
    "proposal, code",
    [
        ({"type": "mentor", "start": "2026-12-01", "end": "2026-11-01"}, "R005"),
        ({"type": "mentor", "start": "not a date"}, "R002"),
        ({"type": "mentor"}, "R002"),
    ],
)
def test_bad_proposals_are_refused_like_records(checker, proposal, code):
    with pytest.raises(RecordError) as error:
        checker.what_if(record(levels=[3]), [proposal])
    assert error.value.problems[0].code == code


def test_summary_from_a_logged_decision_equals_the_report(checker):
    report = checker.check(record(levels=[2, 3, 4], interventions=INTERNSHIPS), AS_OF, "en")
    entry = {
        "phase": report.phase.id,
        "as_of": report.as_of,
        "flags": [{"id": flag.id, "severity": flag.severity} for flag in report.flags],
        "facts": report.facts,
    }
    assert Summary.from_decision(entry) == Summary.from_report(report)
    assert not compare(Summary.from_decision(entry), Summary.from_report(report)).any


def test_indicators_moved_by_one_or_more_are_exactly_the_changed_ones():
    rng = random.Random(7)
    names = list(scores(3))
    for _ in range(200):
        old = {name: rng.choice([None, 1, 2, 3, 4, 5]) for name in names}
        new = {name: rng.choice([None, 1, 2, 3, 4, 5]) for name in names}
        changes = compare(Summary("standstill", {"a": "high"}, old), Summary("regress", {"b": "low"}, new))
        expected = {
            name for name in names if old[name] is not None and new[name] is not None and old[name] != new[name]
        }
        assert {move.indicator for move in changes.indicators_moved} == expected
        assert all(move.delta == new[move.indicator] - old[move.indicator] for move in changes.indicators_moved)
        assert changes.phase_changed and changes.flags_new == ["b"] and changes.flags_resolved == ["a"]


def test_severity_change_of_a_kept_flag():
    changes = compare(
        Summary("standstill", {"caseworker_change": "medium"}), Summary("standstill", {"caseworker_change": "high"})
    )
    assert changes.flags_severity == {"caseworker_change": ("medium", "high")}
    assert not changes.phase_changed and changes.any
    assert changes.as_dict()["flags_severity"] == {"caseworker_change": ["medium", "high"]}
