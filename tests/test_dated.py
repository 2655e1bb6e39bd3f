"""Dated rules, catalogue entries and parameters: selection by the rules date, validation, diff, Gherkin, docs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bip_engine import Checker, RulebookError, cli, load_rulebook
from bip_engine.authoring.impact import compare_rule_folders
from bip_engine.authoring.validate import validate
from bip_engine.periods import Period, Timeline, covered
from tests.conftest import EXECUTORS, ROOT

AS_OF = dt.date(2026, 11, 22)
BEFORE, AFTER = dt.date(2026, 12, 31), dt.date(2027, 1, 1)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def dated_rulebook(root: Path) -> Path:
    """A local rulebook over the default one: a dated parameter, a rule in two dated variants, dated catalogue entries."""
    folder = root / "kommune"
    write(folder, "rulebook.yaml", 'name: kommune\nversion: "2027.1"\nextends: default\nauthor: Mette\n')
    write(
        folder,
        "parameters.yaml",
        """\
regress_threshold:
  description: {da: Fald der tæller som tilbagegang, en: Fall that counts as regress}
  unit: point
  source: danneris_phases
  values:
    - value: -0.4
      valid_to: 2026-12-31
    - value: -0.5
      valid_from: 2027-01-01
""",
    )
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= regress_threshold\n")
    write(
        folder,
        "flag.yaml",
        """\
stage: flag
rules:
  - id: measurement_overdue
    valid_to: 2026-12-31
  - id: measurement_overdue
    valid_from: 2027-01-01
    when: months_since_measurement > 6
  - id: meeting_required
    severity: medium
    valid_from: 2027-01-01
    when: months_since_measurement > 2
    reason: Loven kræver en samtale.
    source: lov_samtale
""",
    )
    write(
        folder,
        "findings.yaml",
        """\
findings:
  - id: lov_samtale
    kind: law
    valid_from: 2027-01-01
    title: {da: Samtale hver anden måned, en: A meeting every other month}
    statement: {da: Loven kræver en samtale., en: The law requires a meeting.}
    reference: Lov om en aktiv beskæftigelsesindsats (eksempel)
""",
    )
    write(folder, "staircase.yaml", "phrases:\n  - phrase: venter på afklaring\n    valid_from: 2027-01-01\n")
    guidance = root / "tekster"
    for lang in ("da", "en"):
        write(
            guidance / lang / "flags",
            "meeting_required.j2",
            "{% block title %}Samtale{% endblock %}{% block message %}Holdes nu.{% endblock %}",
        )
    return folder


def falling_record(notes: str | None = None) -> dict:
    """Level 3 -> 2.6: a fall of 0.4 (regress under -0.4, not under -0.5); last measurement 3.4 months old."""
    data = {
        "id": "D-1",
        "measurements": [
            {
                "date": "2026-05-01",
                "scores": {
                    "health_coping": 3,
                    "opportunity_knowledge": 3,
                    "work_confidence": 3,
                    "cooperation": 3,
                    "wage_realism": 3,
                },
            },
            {
                "date": "2026-08-10",
                "scores": {
                    "health_coping": 2,
                    "opportunity_knowledge": 2,
                    "work_confidence": 3,
                    "cooperation": 3,
                    "wage_realism": 3,
                },
            },
        ],
        "interventions": [{"type": "mentor", "start": "2026-01-01"}],
    }
    if notes:
        data["notes"] = notes
    return data


@pytest.fixture
def dated(tmp_path):
    return dated_rulebook(tmp_path)


@pytest.fixture
def texts(dated):
    """The guidance folder with the template of the local flag."""
    return [dated.parent / "tekster"]


# --- the constructs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", EXECUTORS)
def test_parameter_value_is_the_one_in_force_on_the_rules_date(dated, texts, engine):
    checker = Checker(dated, texts, engine=engine)
    before = checker.evaluate(falling_record(), AS_OF)
    after = checker.evaluate(falling_record(), AS_OF, rules_as_of=AFTER)
    assert (before.phase, before.outcome.phase_rule.id) == ("regress", "regress_fall")
    assert after.phase == "standstill"
    assert before.rules_as_of == AS_OF and after.rules_as_of == AFTER
    assert after.facts["change"] == before.facts["change"]  # the facts come from the check date either way
    assert checker.check(falling_record(), AS_OF, "da", rules_as_of=AFTER).rules_as_of == "2027-01-01"


@pytest.mark.parametrize("engine", EXECUTORS)
def test_dated_variants_of_one_rule_and_a_rule_that_starts_on_a_date(dated, texts, engine):
    checker = Checker(dated, texts, engine=engine)
    before = checker.evaluate(falling_record(), AS_OF)  # 3.4 months since the measurement
    after = checker.evaluate(falling_record(), AS_OF, rules_as_of=AFTER)
    assert "measurement_overdue" in before.flags and "meeting_required" not in before.flags
    assert "measurement_overdue" not in after.flags and "meeting_required" in after.flags
    variants = [rule for rule in checker.rulebook.all_rules() if rule.id == "measurement_overdue"]
    assert [(rule.valid_from, rule.valid_to) for rule in variants] == [(None, BEFORE), (AFTER, None)]
    assert variants[1].when == "months_since_measurement > 6" and variants[1].severity == "medium"  # inherited


@pytest.mark.parametrize("engine", EXECUTORS)
def test_a_staircase_phrase_in_force_from_a_date(dated, texts, engine):
    checker = Checker(dated, texts, engine=engine)
    record = falling_record("Vi venter på afklaring fra lægen.")
    assert "staircase_language" not in checker.evaluate(record, AS_OF).flags
    assert "staircase_language" in checker.evaluate(record, AS_OF, rules_as_of=AFTER).flags


def test_law_findings_are_marked_in_the_report_and_the_text(dated, tmp_path):
    checker = Checker(dated, [tmp_path / "tekster"], engine="python")
    report = checker.check(falling_record(), AS_OF, "da", rules_as_of=AFTER)
    flag = next(flag for flag in report.flags if flag.id == "meeting_required")
    assert (flag.finding.kind, flag.finding.law_reference) == (
        "law",
        "Lov om en aktiv beskæftigelsesindsats (eksempel)",
    )
    assert report.phase.finding.kind == "research" and report.phase.finding.law_reference is None
    text = checker.render(report, "text")
    assert "[Lov] Samtale hver anden måned" in text and "[Forskning] Fire faser" in text
    assert "regler pr. 1. januar 2027" in " ".join(text.split())
    english = checker.render(checker.check(falling_record(), AS_OF, "en", rules_as_of=AFTER), "markdown")
    assert "[Law] A meeting every other month" in english
    reference = flag.finding.law_reference  # the statute is named in text and Markdown too, not only in JSON
    assert f"[Lov] Samtale hver anden måned – {reference}" in " ".join(text.split())
    assert f"[Law] A meeting every other month – {reference}" in english


def test_one_executor_per_stretch_of_unchanged_rules(dated, texts):
    checker = Checker(dated, texts, engine="python")
    for day in (dt.date(2026, 1, 1), dt.date(2026, 6, 1), BEFORE):
        checker.evaluate(falling_record(), AS_OF, rules_as_of=day)
    executors = checker._state.executors
    assert len({id(executor) for _, executor in executors.values()}) == len(executors)
    assert checker.rulebook.timeline.cuts == (AFTER,)
    assert checker.rulebook.at(BEFORE) is checker.rulebook.at(dt.date(2020, 1, 1))
    assert checker.rulebook.at(AFTER).period == Period(AFTER, None)


def test_the_bundled_rulebook_has_a_parameter_used_by_a_rule(rulebook):
    parameter = rulebook.parameters.items["steady_fall_threshold"]
    assert parameter.candidates == (-0.6,)
    rule = next(rule for rule in rulebook.all_rules() if rule.id == "regress_steady_fall")
    assert rule.when == "change_two_intervals <= steady_fall_threshold"
    assert rulebook.at(AS_OF).rules["phase"][3].condition.value == -0.6


def test_override_addresses_one_dated_variant_by_its_valid_from(dated, tmp_path):
    top = tmp_path / "bydel"
    write(top, "rulebook.yaml", 'name: bydel\nversion: "1"\nextends: ../kommune\n')
    write(
        top,
        "flag.yaml",
        "stage: flag\nrules:\n  - id: measurement_overdue\n    valid_from: 2027-01-01\n    severity: high\n",
    )
    rules = [rule for rule in load_rulebook(top).all_rules() if rule.id == "measurement_overdue"]
    assert [(rule.valid_from, rule.severity, rule.when) for rule in rules] == [
        (None, "medium", "months_since_measurement > 3"),
        (AFTER, "high", "months_since_measurement > 6"),
    ]
    assert rules[1].overrides.endswith("flag.yaml:5")


def test_a_new_dated_variant_in_the_same_file_is_added_not_an_override(dated, texts):
    """The 2027 variant of measurement_overdue (flag.yaml:5) overrides nothing, least of all line 3 of its own file."""
    output = CliRunner().invoke(cli.main, ["rules", "validate", str(dated), "--guidance", str(texts[0])]).output
    line = next(
        line for line in output.splitlines() if line.strip().startswith("measurement_overdue:") and ":5 " in line
    )
    assert "(tilføjet)" in line and "flag.yaml:3" not in line, output


def test_period_helpers():
    assert covered([Period(None, BEFORE)], Period(dt.date(2026, 1, 1), AFTER)) == [Period(AFTER, AFTER)]
    assert covered([Period(None, BEFORE), Period(AFTER, None)], Period()) == []
    timeline = Timeline([Period(AFTER, None), Period(None, BEFORE)])
    assert timeline.stretches() == [Period(None, BEFORE), Period(AFTER, None)]
    assert timeline.index(BEFORE) == 0 and timeline.index(AFTER) == 1


# --- validation problems, each with its file and line ---------------------------------------------


def problems_of(folder: Path) -> list[str]:
    result = validate(folder)
    return [f"{Path(p.path).name}:{p.line}: {p.code}" for p in result.errors]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("  - id: measurement_overdue\n    valid_to: 2027-02-30\n", "flag.yaml:4: D001"),
        ("  - id: measurement_overdue\n    valid_from: 2027-01-01\n    valid_to: 2026-01-01\n", "flag.yaml:5: D002"),
        (
            "  - id: measurement_overdue\n    valid_to: 2026-12-31\n  - id: measurement_overdue\n    valid_from: 2026-06-01\n",
            "flag.yaml:5: D003",
        ),
        ("  - id: measurement_overdue\n  - id: measurement_overdue\n", "flag.yaml:4: S004"),
    ],
)
def test_date_problems_in_rules(tmp_path, text, expected):
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(folder, "flag.yaml", "stage: flag\nrules:\n" + text)
    assert expected in problems_of(folder)
    result = CliRunner().invoke(cli.main, ["rules", "validate", str(folder)])
    assert result.exit_code == 4 and expected.split(": ")[1] in result.output


def test_overlapping_parameter_values_and_a_parameter_gap(tmp_path):
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(
        folder,
        "parameters.yaml",
        "t:\n  values:\n    - value: -0.4\n      valid_to: 2026-12-31\n"
        "    - value: -0.5\n      valid_from: 2026-12-01\n",
    )
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= t\n")
    assert "parameters.yaml:5: D003" in problems_of(folder)
    write(folder, "parameters.yaml", "t:\n  values:\n    - value: -0.4\n      valid_to: 2026-12-31\n")
    assert problems_of(folder) == ["parameters.yaml:3: D006"]  # the value that ends before the gap


def test_a_parameter_gap_points_at_the_local_parameters_file_not_the_bundled_rule(tmp_path):
    """A local steady_fall_threshold from 2026-07-01 only: the bundled rule needs it before that too."""
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(
        folder,
        "parameters.yaml",
        "steady_fall_threshold:\n  values:\n    - value: -0.55\n      valid_from: 2026-07-01\n",
    )
    errors = [e for e in validate(folder).errors if e.code == "D006"]
    assert [(e.path, e.line) for e in errors] == [(str(folder / "parameters.yaml"), 3)]
    assert "regress_steady_fall" in errors[0].message and "phases.yaml:" in errors[0].message


def test_parameters_are_type_checked_like_facts(tmp_path):
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(folder, "parameters.yaml", "t:\n  values:\n    - value: lav\n")
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= t\n")
    assert problems_of(folder) == ["faser.yaml:4: E103"]
    write(
        folder,
        "parameters.yaml",
        "t:\n  values:\n    - value: 9\n      valid_to: 2026-12-31\n    - value: 2\n      valid_from: 2027-01-01\n",
    )
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: derailment_low_level\n    when: level >= t\n")
    errors = validate(folder).errors
    assert [(e.code, e.line) for e in errors] == [("E105", 4)] and "parameter 't' = 9" in errors[0].message
    write(folder, "parameters.yaml", "level:\n  values:\n    - value: 2\n")
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: derailment_low_level\n    when: level <= 1.8\n")
    assert problems_of(folder) == ["parameters.yaml:1: D007"]
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= treshold\n")
    write(folder, "parameters.yaml", "threshold:\n  values:\n    - value: -0.4\n")
    errors = validate(folder).errors
    assert [(e.code, e.line) for e in errors] == [("E102", 4)] and "did you mean 'threshold'" in errors[0].message


def test_a_gap_in_the_phase_stage_over_time(tmp_path):
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(folder, "faser.yaml", "stage: phase\nrules:\n  - id: standstill_default\n    valid_to: 2027-12-31\n")
    errors = validate(folder).errors
    assert [(e.code, Path(e.path).name, e.line) for e in errors] == [("D004", "faser.yaml", 3)]
    assert "from 2028-01-01 to the end of time" in errors[0].message


@pytest.mark.parametrize(
    ("stage", "rule", "effect"),
    [
        ("flag", "measurement_overdue", "the flag 'measurement_overdue' is never raised"),
        ("checklist", "focus_core_task_no_intervention", "checklist point 1 is never put in focus"),
    ],
)
def test_a_gap_between_the_dated_variants_of_a_flag_or_checklist_rule(dated, texts, stage, rule, effect):
    """valid_to 2026-06-30, then valid_from 2026-07-15: the two weeks between are named, with what they mean."""
    write(
        dated,
        "flag.yaml" if stage == "flag" else "tjekliste.yaml",
        f"stage: {stage}\nrules:\n  - id: {rule}\n    valid_to: 2026-06-30\n"
        f"  - id: {rule}\n    valid_from: 2026-07-15\n",
    )
    result = validate(dated, texts)
    gaps = [w for w in result.warnings if w.code == "D008"]
    file = "flag.yaml" if stage == "flag" else "tjekliste.yaml"
    assert [(Path(w.path).name, w.line) for w in gaps] == [(file, 5)]  # the variant after the gap
    assert "from 2026-07-01 to 2026-07-14" in gaps[0].message and effect in gaps[0].message
    assert f"{file}:3" in gaps[0].message  # the variant before the gap
    shown = CliRunner().invoke(cli.main, ["rules", "validate", str(dated), "--guidance", str(texts[0])]).output
    assert "D008" in shown and "0 warning" not in shown


def test_a_rule_that_refers_to_a_finding_not_in_force_in_its_whole_period(dated, texts):
    write(
        dated,
        "flag.yaml",
        "stage: flag\nrules:\n  - id: meeting_required\n    severity: medium\n"
        "    valid_from: 2026-06-01\n    when: months_since_measurement > 2\n"
        "    reason: Loven kræver en samtale.\n    source: lov_samtale\n",
    )
    errors = validate(dated, texts).errors
    assert [(e.code, Path(e.path).name, e.line) for e in errors] == [("D005", "flag.yaml", 3)]
    assert "2026-06-01 – 2026-12-31" in errors[0].message


def test_overlapping_catalogue_entries(dated, texts):
    write(
        dated,
        "staircase.yaml",
        "phrases:\n  - phrase: venter\n    valid_from: 2027-01-01\n  - phrase: venter\n    valid_to: 2027-03-01\n",
    )
    assert "staircase.yaml:4: D003" in problems_of(dated)


def test_the_dated_rulebook_itself_is_valid(dated, tmp_path):
    result = validate(dated, [tmp_path / "tekster"])
    assert result.errors == [] and result.ok


# --- diff across dates ---------------------------------------------------------------------------


def test_diff_of_one_rulebook_across_its_date(dated, tmp_path):
    caseload = tmp_path / "c.jsonl"
    records = [dict(falling_record(), id=f"D-{index}") for index in range(3)]
    caseload.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    report = compare_rule_folders(f"{dated}@2026-12-31", f"{dated}@2027-01-01", [str(caseload)], AS_OF)
    assert report.transitions == {("regress", "standstill"): 3}
    assert (report.old.rules_as_of, report.new.rules_as_of) == ("2026-12-31", "2027-01-01")
    changed = {change.id: change.changes for change in report.rules.changed}
    assert changed["regress_fall"]["when"] == (
        "change <= regress_threshold [regress_threshold = -0.4]",
        "change <= regress_threshold [regress_threshold = -0.5]",
    )
    assert [rule["id"] for rule in report.rules.added] == ["meeting_required"]
    result = CliRunner().invoke(
        cli.main,
        [
            "rules",
            "diff",
            f"{dated}@2026-12-31",
            f"{dated}@2027-01-01",
            "--caseload",
            str(caseload),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["phases"]["table"]["regress"]["standstill"] == 3
    bad = CliRunner().invoke(
        cli.main, ["rules", "diff", f"{dated}@2027-02-30", str(dated), "--caseload", str(caseload), "--lang", "en"]
    )
    assert bad.exit_code == 2 and "not a real date" in bad.output


# --- the command line, Gherkin and docs ---------------------------------------------------------


def test_check_explain_and_batch_take_rules_as_of(dated, texts, tmp_path):
    record = tmp_path / "b.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    runner = CliRunner()
    base = ["--rules", str(dated), "--as-of", "2026-11-22", "--engine", "python"]
    shown = [*base, "--guidance", str(texts[0])]
    before = json.loads(runner.invoke(cli.main, ["check", str(record), *shown, "--format", "json"]).stdout)
    after = json.loads(
        runner.invoke(
            cli.main, ["check", str(record), *shown, "--format", "json", "--rules-as-of", "2027-01-01"]
        ).stdout
    )
    assert (before["phase"]["id"], before["rules_as_of"]) == ("regress", "2026-11-22")
    assert (after["phase"]["id"], after["rules_as_of"]) == ("standstill", "2027-01-01")
    explained = runner.invoke(cli.main, ["explain", str(record), *shown, "--rules-as-of", "2027-01-01"]).stdout
    assert "meeting_required" in explained and "change <= -0.5" in explained
    caseload = tmp_path / "c.jsonl"
    caseload.write_text(json.dumps(falling_record()) + "\n", encoding="utf-8")
    rows = [
        runner.invoke(cli.main, ["batch", str(caseload), *base, "--format", "jsonl", *extra]).stdout
        for extra in ([], ["--rules-as-of", "2027-01-01"])
    ]
    first, second = (json.loads(output.splitlines()[0]) for output in rows)
    assert first["phase"] == "regress" and second["phase"] == "standstill"


@pytest.mark.slow
def test_a_gherkin_scenario_before_and_after_the_date(dated, tmp_path):
    features = tmp_path / "scenarier"
    table = (
        "      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |\n"
        "      | 2026-05-01 | 3             | 3                     | 3               | 3           | 3            |\n"
        "      | 2026-08-10 | 2             | 2                     | 3               | 3           | 3            |\n"
    )
    write(
        features,
        "dato.feature",
        "# language: da\nEgenskab: Ny grænse fra 2027\n"
        "  Scenarie: Før datoen\n    Givet en borger med disse målinger:\n"
        + table
        + "    Og reglerne gælder pr. 2026-12-31\n    Når tjekket køres den 2026-11-22\n    Så er fasen Tilbagegang\n\n"
        "  Scenarie: Efter datoen\n    Givet en borger med disse målinger:\n"
        + table
        + "    Og reglerne gælder pr. 2027-01-01\n    Når tjekket køres den 2026-11-22\n    Så er fasen Stilstand\n",
    )
    run = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "rules", "test", str(dated), "--features", str(features)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    wrong = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "rules", "test", "--features", str(features)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert wrong.returncode == 1  # under the default rules the fall is regress in 2027 too
    from bip_engine.authoring.gherkin_steps import STEPS

    assert any(example == "Givet reglerne gælder pr. 2027-01-01" for _, example, _ in STEPS)


def test_docs_show_parameters_with_their_history_and_rule_periods(dated, texts):
    guidance = ["--guidance", str(texts[0])]
    result = CliRunner().invoke(cli.main, ["rules", "docs", str(dated), "--no-examples", *guidance])
    assert result.exit_code == 0, result.output
    text = result.stdout
    section = text.split("### `regress_threshold`")[1].split("\n## ")[0]
    assert "| \u22120,4 | … – 2026-12-31 |" in section and "| \u22120,5 | 2027-01-01 – … |" in section  # −0,4, Danish
    assert "**Gælder:** 2027-01-01 – …" in text
    assert "### [Lov] Samtale hver anden måned" in text
    html = (
        CliRunner()
        .invoke(cli.main, ["rules", "docs", str(dated), "--format", "html", "--no-examples", *guidance])
        .stdout
    )
    assert 'id="parameter-regress_threshold"' in html and "<td>\u22120,5</td><td>2027-01-01 – …</td>" in html


def test_invalid_dated_rulebook_is_refused_at_load(tmp_path):
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    write(folder, "flag.yaml", "stage: flag\nrules:\n  - id: measurement_overdue\n    valid_from: 2027-13-01\n")
    with pytest.raises(RulebookError) as error:
        load_rulebook(folder)
    assert [(p.code, p.line) for p in error.value.problems] == [("D001", 4)]


@pytest.mark.parametrize("dated_change", [True, False])
def test_a_threshold_change_no_record_can_feel_is_a_warning_naming_the_nearest_value_that_would(tmp_path, dated_change):
    """-0.6 -> -0.55: averages of k whole-number scores (k up to the citizen indicators) never fall between."""
    from fractions import Fraction

    citizen = load_rulebook(ROOT / "rules").catalogue.citizen_indicators()
    averages = {Fraction(j, k) for k in range(1, len(citizen) + 1) for j in range(-4 * k, 4 * k + 1)}
    assert not [x for x in averages if Fraction(-6, 10) < x < Fraction(-55, 100)]  # the premise, from the domain
    nearest = min((x for x in averages if x > Fraction(-6, 10)), key=lambda x: x)
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    history = "    - value: -0.6\n      valid_to: 2026-06-30\n" if dated_change else ""
    start = "      valid_from: 2026-07-01\n" if dated_change else ""
    write(folder, "parameters.yaml", f"steady_fall_threshold:\n  values:\n{history}    - value: -0.55\n{start}")
    warnings = [w for w in validate(folder).warnings if w.code == "V004"]
    assert [(Path(w.path).name, w.line) for w in warnings] == [("parameters.yaml", 5 if dated_change else 3)]
    assert "from -0.6 to -0.55" in warnings[0].message
    assert f"nearest value that would change an outcome is {float(nearest):g}" in warnings[0].message
    write(
        folder,
        "parameters.yaml",
        f"steady_fall_threshold:\n  values:\n{history}    - value: {float(nearest):g}\n{start}",
    )
    assert [w for w in validate(folder).warnings if w.code == "V004"] == []


def test_what_changes_on_a_date(dated):
    """bip rules changes --on 2027-01-01: the fixture's threshold, the new measurement rule and the new flag."""
    flag_file = (dated / "flag.yaml").read_text(encoding="utf-8").splitlines()
    starts = next(number for number, line in enumerate(flag_file, 1) if "id: meeting_required" in line)
    output = CliRunner().invoke(cli.main, ["rules", "changes", str(dated), "--on", "2027-01-01"]).output
    lines = output.splitlines()
    assert lines[0] == "Det ændrer sig i kommune 2027.1 den 2027-01-01:"
    assert (
        f"  regel meeting_required træder i kraft: months_since_measurement > 2 (medium) ({dated / 'flag.yaml'}:{starts})"
        in lines
    )
    assert any("parameter regress_threshold ændres: -0.4 → -0.5" in line for line in lines)
    assert any(line.startswith("  regel measurement_overdue ændres:") and "> 6" in line for line in lines)
    assert (
        len(lines) == 5
    )  # the head, regress_fall (by its parameter), measurement_overdue, meeting_required, the value
    quiet = CliRunner().invoke(cli.main, ["rules", "changes", str(dated), "--on", "2026-11-22", "--lang", "en"]).output
    assert quiet.splitlines()[1] == "nothing: the same rules and values are in force the day before and on the day"


def test_a_schema_problem_in_a_local_catalogue_counts_the_entries_of_that_file(tmp_path):
    """The second finding of the local findings.yaml is findings[1], not its place in the list merged with the base."""
    folder = tmp_path / "lokal"
    write(folder, "rulebook.yaml", 'name: lokal\nversion: "1"\nextends: default\n')
    path = write(
        folder,
        "findings.yaml",
        "findings:\n  - id: lokal_a\n    kind: local\n    title: {da: A, en: A}\n    statement: {da: A, en: A}\n"
        "    reference: Byrådet\n"
        "  - id: lokal_b\n    kind: bogus\n    title: {da: B, en: B}\n    statement: {da: B, en: B}\n"
        "    reference: Byrådet\n",
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    bogus = next(number for number, line in enumerate(lines, 1) if "bogus" in line)
    errors = validate(folder).errors
    assert [(e.code, e.path, e.line) for e in errors] == [("S002", str(path), bogus)], errors
    assert "findings[1].kind" in errors[0].message
