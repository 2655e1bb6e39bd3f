"""Local rulebooks that extend the default: overrides by id, disabled rules, additions, origins."""

import datetime as dt

import pytest

from bip_engine import Checker, RulebookError, durable_available, load_rulebook
from tests.conftest import ROOT, record


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


@pytest.fixture
def local(tmp_path):
    folder = tmp_path / "aarhus"
    write(folder, "rulebook.yaml", "name: aarhus\nversion: '3'\nextends: default\ndisable:\n  - job_oriented_only\n")
    write(folder, "lokale_faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= -0.6\n")
    write(
        folder,
        "lokale_flag.yaml",
        "stage: flag\nrules:\n"
        "  - id: measurement_overdue\n    severity: high\n"
        "  - id: many_planned\n    severity: low\n    when: planned_count >= 2\n"
        "    reason: {da: Mange planlagte indsatser., en: Many planned interventions.}\n"
        "    source: bip_parallel_interventions\n",
    )
    write(folder, "staircase.yaml", "phrases:\n  - skal lige falde til ro\n")
    return folder


def test_local_rulebook_overrides_disables_and_adds(local):
    rulebook = load_rulebook(local)
    rules = {rule.id: rule for rule in rulebook.all_rules()}
    assert rulebook.name == "aarhus" and [name for name, _ in rulebook.layers] == ["bip-standard", "aarhus"]
    assert "job_oriented_only" not in rules
    assert rules["regress_fall"].when == "change <= -0.6"
    assert rules["regress_fall"].reason.da.startswith("Vurderingerne er tydeligt faldet")  # kept from the base
    assert rules["regress_fall"].origin == "aarhus"
    assert rules["regress_fall"].overrides.startswith(str(ROOT / "rules" / "phases.yaml") + ":")
    assert rules["regress_fall"].path == str(local / "lokale_faser.yaml")
    assert rules["measurement_overdue"].severity == "high"
    assert rules["many_planned"].origin == "aarhus"
    assert rules["derailment_low_level"].origin == "bip-standard" and rules["derailment_low_level"].overrides is None
    assert "brug for ro" in rulebook.catalogue.phrases and "skal lige falde til ro" in rulebook.catalogue.phrases
    assert rulebook.content_hash != load_rulebook(ROOT / "rules").content_hash


def test_local_rules_change_the_result(local):
    data = record([3, 3, {"health_coping": 3, "job_search": 3, "work_confidence": 2, "cooperation": 2}])
    default, municipal = Checker(engine="python"), Checker(local, engine="python")
    as_of = dt.date(2026, 11, 22)
    assert default.evaluate(data, as_of).phase == "regress"
    assert municipal.evaluate(data, as_of).phase == "standstill"


def test_relative_extends_path(tmp_path, local):
    team = tmp_path / "team"
    write(team, "rulebook.yaml", "name: team\nversion: '1'\nextends: ../aarhus\n")
    rulebook = load_rulebook(team)
    assert [name for name, _ in rulebook.layers] == ["bip-standard", "aarhus", "team"]
    assert "job_oriented_only" not in {rule.id for rule in rulebook.all_rules()}


def problems(folder):
    with pytest.raises(RulebookError) as info:
        load_rulebook(folder)
    return [str(problem) for problem in info.value.problems]


def test_errors_in_a_local_override_point_at_the_local_file(local):
    path = write(local, "lokale_faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: chnage <= -0.6\n")
    assert problems(local) == [
        f"{path}:4: E102 rule 'regress_fall': unknown fact 'chnage' (did you mean 'change'?)"
        " (column 1 of the condition)"
    ]


def test_override_from_the_wrong_stage(local):
    path = write(local, "lokale_flag.yaml", "stage: flag\nrules:\n  - id: progress_rise\n    severity: high\n")
    assert f"{path}:3: S008 rule 'progress_rise' overrides a phase rule from a flag file" in problems(local)


def test_disabling_an_unknown_rule(local):
    write(local, "rulebook.yaml", "name: aarhus\nversion: '3'\nextends: default\ndisable:\n  - job_orientd_only\n")
    assert any(
        ":5: S009 disable: no base rule 'job_orientd_only' (did you mean 'job_oriented_only'?)" in item
        for item in problems(local)
    )


def test_extending_a_missing_folder_and_a_loop(tmp_path):
    lost = tmp_path / "lost"
    write(lost, "rulebook.yaml", "name: lost\nversion: '1'\nextends: ../nowhere\n")
    assert "S010 extends '../nowhere': no rulebook folder" in problems(lost)[0]
    loop = tmp_path / "loop"
    write(loop, "rulebook.yaml", "name: loop\nversion: '1'\nextends: ../loop\n")
    assert "S010 the rulebook extends itself" in problems(loop)[0]


def test_reload_keeps_the_old_rulebook_when_the_new_one_is_invalid(local):
    checker = Checker(local, engine="python")
    data = record([3, 3, {"health_coping": 3, "job_search": 3, "work_confidence": 2, "cooperation": 2}])
    as_of = dt.date(2026, 11, 22)
    assert checker.evaluate(data, as_of).phase == "standstill"
    write(local, "lokale_faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <== -0.3\n")
    problems = checker.reload()
    assert problems and "E100" in str(problems[0]) and "lokale_faser.yaml:4" in str(problems[0])
    assert checker.evaluate(data, as_of).phase == "standstill"  # still the old rules
    write(local, "lokale_faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= -0.3\n")
    assert checker.reload() == []
    assert checker.evaluate(data, as_of).phase == "regress"


@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
def test_reload_with_durable_replaces_the_ruleset(local):
    checker = Checker(local, engine="durable")
    old = checker.executor
    data = record([3, 3, {"health_coping": 3, "job_search": 3, "work_confidence": 2, "cooperation": 2}])
    assert checker.evaluate(data, dt.date(2026, 11, 22)).phase == "standstill"
    write(local, "lokale_faser.yaml", "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= -0.3\n")
    assert checker.reload() == []
    assert checker.executor is not old and checker.engine == "durable"
    assert checker.evaluate(data, dt.date(2026, 11, 22)).phase == "regress"


def local_guidance(local):
    """Templates for the local rulebook's new flag."""
    guidance = local.parent / "tekster"
    for lang in ("da", "en"):
        write(
            guidance / lang / "flags",
            "many_planned.j2",
            "{% block title %}Mange planlagte{% endblock %}{% block message %}Se planen.{% endblock %}",
        )
    return guidance


def test_docs_and_validate_show_where_rules_come_from(local):
    from click.testing import CliRunner

    from bip_engine import cli

    guidance = local_guidance(local)
    docs = CliRunner().invoke(cli.main, ["rules", "docs", str(local), "--no-examples", "--guidance", str(guidance)])
    assert docs.exit_code == 0, docs.output
    assert "lokale_faser.yaml:3 (aarhus; ændrer " in docs.output and "(bip-standard)" in docs.output
    validate = (
        CliRunner()
        .invoke(cli.main, ["rules", "validate", str(local), "--guidance", str(guidance), "--lang", "en"])
        .output
    )
    assert "layers: bip-standard <- aarhus" in validate
    assert "many_planned: " in validate and "(added)" in validate
    missing = CliRunner().invoke(cli.main, ["rules", "validate", str(local), "--lang", "en"])
    assert missing.exit_code == 4 and "T002 no template 'flags/many_planned.j2'" in missing.output


def test_explain_shows_where_an_overriding_rule_comes_from(local):
    from click.testing import CliRunner

    from bip_engine import cli

    result = CliRunner().invoke(
        cli.main,
        [
            "explain",
            str(ROOT / "examples" / "stilstand.yaml"),
            "--rules",
            str(local),
            "--as-of",
            "2026-11-22",
            "--engine",
            "python",
            "--lang",
            "en",
            "--guidance",
            str(local_guidance(local)),
        ],
    )
    text = " ".join(result.output.split())
    assert f"From: {local / 'lokale_faser.yaml'}:3 (aarhus; overrides {ROOT / 'rules' / 'phases.yaml'}:" in text
