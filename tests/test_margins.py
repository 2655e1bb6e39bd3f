"""What would change the phase: margins worked out from the rule conditions, checked against the executors.

The cohort is generated; for every margin of every citizen the changed facts are run through the
real executor (both executors, via the `checker` fixture), so a margin can only pass when the rules
really give the phase it names. Every phase rule of the bundled rulebook decides some citizen of
the cohort, so every rule's boundaries are exercised, none hand-picked.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.caseload.simulate import generate_cohort
from bip_engine.check import Checker
from bip_engine.expr import parse_condition
from bip_engine.margins import phase_margins, solve
from tests.conftest import AS_OF, ROOT, record, replace_in


@pytest.fixture(scope="module")
def cohort():
    return list(generate_cohort(300, seed=3, as_of=AS_OF))


def decide(checker, facts):
    """The phase rule the executor (of the rules in force on AS_OF) picks for these facts."""
    return checker.run_facts(dict(facts), AS_OF).phase_rule


def changed(facts, changes):
    return {**facts, **{change.fact: change.target for change in changes}}


def test_every_margin_gives_the_phase_it_names(checker, cohort):
    deciders = set()
    for data in cohort:
        evaluation = checker.evaluate(data, AS_OF)
        facts = evaluation.facts
        winner = evaluation.outcome.phase_rule
        deciders.add(winner.id if winner else None)
        for margin in phase_margins(evaluation.rulebook, facts):
            assert margin.changes, margin
            after = decide(checker, changed(facts, margin.changes))
            assert (after.id if after else None) == margin.result_rule, (data["id"], margin)
            assert (after.conclusion if after else None) == margin.result_phase
            for change in margin.changes:
                assert change.value == facts[change.fact]
                if change.distance is not None:
                    assert change.distance == pytest.approx(change.target - change.value, abs=1e-4)
            if margin.position == "decides":
                assert margin.rule == winner.id and margin.matched
                assert margin.result_rule != winner.id
            else:
                assert margin.phase != winner.conclusion if winner else True
    assert {rule.id for rule in checker.rulebook.rules["phase"]} <= deciders, "some phase rule decided no citizen"


def test_halfway_to_a_boundary_the_phase_stays(checker, cohort):
    """Moving a number only half the distance must not change the deciding rule: the margin is the boundary."""
    tried = 0
    for data in cohort[:120]:
        evaluation = checker.evaluate(data, AS_OF)
        winner = evaluation.outcome.phase_rule
        for margin in phase_margins(evaluation.rulebook, evaluation.facts):
            if margin.position != "decides" or margin.changes[0].type != "number":
                continue
            change = margin.changes[0]
            halfway = dict(evaluation.facts)
            halfway[change.fact] = change.value + change.distance / 2
            assert decide(checker, halfway).id == winner.id, (data["id"], change)
            tried += 1
    assert tried > 50


def test_the_issue_example_in_words(checker):
    data = record(levels=[3, 3, 3], id="M-1")
    data["measurements"][-1]["scores"].update(health_coping=2, work_confidence=2)  # mean change -0.33
    report = checker.check(data, AS_OF, "en", margins=True)
    assert report.facts["change"] == pytest.approx(-0.3333, abs=1e-4)
    texts = [margin.text for margin in report.phase_margins]
    assert any("is −0.33; at −0.4 or lower the phase would be Regress." in text for text in texts), texts
    danish = checker.check(data, AS_OF, "da", margins=True)
    assert any("er −0,33; ved −0,4 eller lavere ville fasen være Tilbagegang." in m.text for m in danish.phase_margins)


def test_margins_are_in_the_json_report_when_asked_for_and_in_explain(checker):
    plain = checker.check_file(str(ROOT / "examples" / "stilstand.yaml"), AS_OF, "en")
    assert json.loads(checker.render(plain, "json"))["phase_margins"] is None  # not asked for (1.2)
    report = checker.check_file(str(ROOT / "examples" / "stilstand.yaml"), AS_OF, "en", margins=True)
    data = json.loads(checker.render(report, "json"))
    assert data["schema_version"] == "1.3"
    assert {key: value for key, value in data.items() if key != "phase_margins"} == {
        key: value for key, value in json.loads(checker.render(plain, "json")).items() if key != "phase_margins"
    }
    margins = data["phase_margins"]
    assert margins and {"rule", "phase", "matched", "position", "changes", "result_phase", "text"} <= set(margins[0])
    assert {"fact", "value", "operator", "threshold", "target", "distance"} <= set(margins[0]["changes"][0])
    evaluation = checker.evaluate(checker.read_record(str(ROOT / "examples" / "stilstand.yaml"))[0], AS_OF)
    for lang, heading in (("en", "What would change the phase:"), ("da", "Hvad ville ændre fasen:")):
        text = checker.render_explanation(evaluation, checker.report(evaluation, lang, margins=True))
        assert heading in text
        for margin in checker.report(evaluation, lang, margins=True).phase_margins:
            assert margin.text.split()[0] in text


def test_bip_check_adds_the_margins_when_asked_for(checker):
    example = str(ROOT / "examples" / "stilstand.yaml")
    args = ["check", example, "--format", "json", "--as-of", AS_OF.isoformat(), "--engine", "python", "--lang", "en"]
    plain, asked = (CliRunner().invoke(cli.main, args + extra) for extra in ([], ["--margins"]))
    assert plain.exit_code == asked.exit_code == 0
    assert json.loads(plain.output)["phase_margins"] is None
    expected = checker.check_file(example, AS_OF, "en", margins=True).phase_margins
    assert json.loads(asked.output)["phase_margins"] == [margin.model_dump(mode="json") for margin in expected]
    assert expected


def test_no_measurement_says_what_would_give_a_phase(checker):
    report = checker.check(record(levels=[]), AS_OF, "en", margins=True)
    assert report.phase is None
    standstill = [m for m in report.phase_margins if m.result_phase == "standstill"]
    assert (
        standstill and standstill[0].changes[0].fact == "rated_measurement_count"
    )  # the phase needs the citizen's own ratings
    assert standstill[0].changes[0].target == 1


def test_non_numeric_facts_say_what_would_have_to_be_true(rules_copy):
    """A municipality's rule on a boolean, a list and an unknown value: the margins name what must hold."""
    replace_in(
        rules_copy / "phases.yaml",
        "  - id: standstill_flat",
        """  - id: progress_social_job
    phase: progress
    priority: 33
    when: job_oriented_active and "social" in active_types and change is none
    reason: {da: Job og socialt sammen., en: Job and social together.}
    source: danneris_phases

  - id: standstill_flat""",
    )
    checker = Checker(rules_copy, engine="python")
    data = record(
        levels=[3],
        interventions=[{"type": "social_mentor", "start": "2026-01-01"}, {"type": "mentor", "start": "2026-01-01"}],
    )
    report = checker.check(data, AS_OF, "en", margins=True)
    assert report.phase.rule == "progress_social_job"
    flips = {margin.changes[0].fact: margin for margin in report.phase_margins if margin.position == "decides"}
    assert set(flips) == {"job_oriented_active", "active_types", "change"}
    assert flips["job_oriented_active"].changes[0].target is False
    assert "no job-oriented intervention under way (now: yes)" in flips["job_oriented_active"].text
    assert flips["active_types"].changes[0].operator == "lacks"
    assert "social" not in flips["active_types"].changes[0].target
    assert "no “social” among the main types active" in flips["active_types"].text
    assert flips["change"].changes[0].operator == "known"
    for margin in report.phase_margins:
        after = checker.run_facts(changed(report.facts, margin.changes), AS_OF).phase_rule
        assert (after.id if after else None) == margin.result_rule != "progress_social_job"
    danish = checker.check(data, AS_OF, "da", margins=True)
    assert any("ingen jobrettet indsats i gang (nu: ja)" in margin.text for margin in danish.phase_margins)


def test_solve_finds_the_nearest_value():
    specs = Checker(engine="python").rulebook.facts
    condition = parse_condition("change > -0.4 and change < 0.4", specs)
    assert solve(list(condition.terms), 0.9, specs["change"]) == pytest.approx(0.39)
    assert solve(list(condition.terms), -2, specs["change"]) == pytest.approx(-0.39)
    assert solve(list(condition.terms), 0.1, specs["change"]) == 0.1
    count = parse_condition("internship_count > 4", specs)
    assert solve([count], 2, specs["internship_count"]) == 5


def test_solve_reads_a_list_fact_as_the_analysis_does():
    """`not in` also holds for an unknown value; `in` needs a known one (`bip_engine.normal_form.Bounds`)."""
    from bip_engine.margins import _NO
    from tests.test_expr import FACTS as specs

    unknown_and_lacks = parse_condition('types is none and "social" not in types', specs)
    assert solve(list(unknown_and_lacks.terms), ["social"], specs["types"]) is None
    unknown_and_has = parse_condition('types is none and "social" in types', specs)
    assert solve(list(unknown_and_has.terms), ["social"], specs["types"]) is _NO  # no value can
    assert solve([parse_condition('"social" in types', specs)], ["job_oriented"], specs["types"]) == [
        "job_oriented",
        "social",
    ]


def test_margins_are_the_same_on_any_check_date_order(checker):
    """Same facts, same margins: the report stays byte-identical."""
    data = record(levels=[2, 3, 3])
    first = checker.render(checker.check(data, AS_OF, "da", margins=True), "json")
    second = checker.render(checker.check(data, AS_OF, "da", margins=True), "json")
    assert first == second
    assert dt.date.fromisoformat(json.loads(first)["as_of"]) == AS_OF
