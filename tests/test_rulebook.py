"""Loading rulebooks: the default one is valid; broken ones report every problem with file and line."""

import pytest

from bip_engine import RulebookError, load_rulebook
from tests.conftest import replace_in

replace = replace_in


def line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems(folder):
    with pytest.raises(RulebookError) as info:
        load_rulebook(folder)
    return [str(problem) for problem in info.value.problems]


def test_default_rulebook_loads_with_every_phase_and_flag(rulebook):
    assert set(rulebook.phases) == {"progress", "standstill", "regress", "derailment"}
    assert set(rulebook.flag_ids) == {
        "no_measurement",
        "no_own_ratings",
        "latest_without_own_ratings",
        "long_measurement_gap",
        "measurement_overdue",
        "no_intervention_3m",
        "no_job_oriented_element",
        "job_oriented_only",
        "fifth_internship",
        "caseworker_change",
        "low_caseworker_belief",
        "belief_gap",
        "indicator_drop",
        "staircase_language",
    }
    assert sorted(rulebook.catalogue.checklist) == list(range(1, 11))
    assert len(rulebook.catalogue.interventions) == 21 and len(rulebook.catalogue.indicators) == 9
    assert all(rule.source in rulebook.catalogue.findings for rule in rulebook.all_rules())


def test_content_hash_changes_with_the_rules(rules_copy, rulebook):
    assert load_rulebook(rules_copy).content_hash == rulebook.content_hash
    replace(rules_copy / "phases.yaml", "when: change <= -0.4", "when: change <= -0.5")
    assert load_rulebook(rules_copy).content_hash != rulebook.content_hash


def test_unknown_fact_names_file_line_and_suggestion(rules_copy):
    path = rules_copy / "phases.yaml"
    replace(path, "when: change <= -0.4", "when: chnage <= -0.4")
    assert problems(rules_copy) == [
        f"{path}:{line_of(path, 'chnage')}: E102 rule 'regress_fall': unknown fact 'chnage' "
        "(did you mean 'change'?) (column 1 of the condition)"
    ]


def test_later_stage_fact_in_an_earlier_stage_is_explained(rules_copy):
    replace(rules_copy / "phases.yaml", "when: change <= -0.4", """when: '"no_measurement" in flags'""")
    assert "'flags' is only known after the flag stage, not in phase rules" in problems(rules_copy)[0]


def test_type_mismatch_and_impossible_condition(rules_copy):
    path = rules_copy / "flags.yaml"
    replace(path, "when: internship_count >= 5", 'when: internship_count >= "five"')
    replace(path, "when: belief_gap >= 2", "when: belief_gap > 4")
    found = problems(rules_copy)
    assert f"{path}:{line_of(path, 'five')}: E103" in found[0]
    assert f"{path}:{line_of(path, 'belief_gap > 4')}: E105" in found[1] and "can never be true" in found[1]


def test_duplicate_rule_id_and_duplicate_yaml_key(rules_copy):
    flags = rules_copy / "flags.yaml"
    replace(flags, "  - id: belief_gap", "  - id: low_caseworker_belief")
    assert "S004 rule id 'low_caseworker_belief' is used twice" in "\n".join(problems(rules_copy))
    replace(flags, "    severity: low\n", "    severity: low\n    severity: high\n")
    assert problems(rules_copy)[0].endswith(
        f"Y002 duplicate key 'severity' (first given on line {line_of(flags, 'severity: low')})"
    )


def test_schema_errors_name_the_field(rules_copy):
    flags = rules_copy / "flags.yaml"
    replace(
        flags,
        "    severity: medium\n    when: months_since_measurement > 3",
        "    severity: urgent\n    when: months_since_measurement > 3",
    )
    found = problems(rules_copy)
    assert (
        f"{flags}:{line_of(flags, 'severity: urgent')}: S002 rule 'measurement_overdue': severity: should be 'high', 'medium' or 'low'"
        in found[0]
    )


def test_unknown_phase_source_and_checklist_point(rules_copy):
    replace(rules_copy / "phases.yaml", "phase: regress\n", "phase: regres\n")
    replace(rules_copy / "flags.yaml", "source: bip_progression", "source: bip_progresion")
    replace(rules_copy / "checklist_rules.yaml", "point: 8", "point: 11")
    found = "\n".join(problems(rules_copy))
    assert "S005 rule 'regress_fall': unknown phase 'regres' (did you mean 'regress'?)" in found
    assert "S007 rule 'no_measurement': unknown source finding 'bip_progresion'" in found
    assert "S006 rule 'focus_upskilling_alongside': there is no checklist point 11" in found


def test_every_problem_is_reported_not_just_the_first(rules_copy):
    replace(rules_copy / "phases.yaml", "when: level <= 1.8", "when: levl <= 1.8")
    replace(rules_copy / "flags.yaml", "when: measurement_count == 0", "when: measurement_count = 0")
    assert len(problems(rules_copy)) == 2


def test_missing_catalogue_and_missing_folder(rules_copy, tmp_path):
    (rules_copy / "findings.yaml").unlink()
    assert "F003 the rulebook has no findings.yaml" in problems(rules_copy)[0]
    assert "F001 rulebook folder not found" in problems(tmp_path / "nowhere")[0]


def test_rule_file_without_stage(rules_copy):
    (rules_copy / "extra.yaml").write_text("stag: flag\nrules: []\n", encoding="utf-8")
    assert "S001 a rule file needs 'stage: phase'" in problems(rules_copy)[0]
