"""`bip rules validate`: one broken rulebook per kind of problem, with the exact path:line."""

import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.paths import default_guidance
from tests.conftest import replace_in

edit = replace_in


@pytest.fixture
def book(rules_copy):
    return rules_copy


def line_of(path, needle):
    return next(
        number for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


def validate(*args):
    result = CliRunner().invoke(cli.main, ["rules", "validate", "--lang", "en", *map(str, args)])
    return result.exit_code, result.output


def test_default_rulebook_is_valid():
    code, output = validate()
    assert code == 0 and output.startswith("OK: bip-standard")


@pytest.mark.parametrize(
    "file, old, new, needle, expected",
    [
        (
            "flags.yaml",
            "when: belief_gap >= 2",
            "when: belief_gap >= 2: x",
            "belief_gap >= 2: x",
            "Y001 YAML syntax error",
        ),
        (
            "flags.yaml",
            "    severity: low\n",
            "    severity: low\n    severity: medium  # twice\n",
            "# twice",
            "Y002 duplicate key 'severity'",
        ),
        (
            "flags.yaml",
            "    severity: low\n    when: belief_gap >= 2",
            "    when: belief_gap >= 2",
            "  - id: belief_gap",
            "S002 rule 'belief_gap': severity: is required",
        ),
        (
            "flags.yaml",
            "  - id: belief_gap\n",
            "  - id: belief_gap\n    colour: red\n",
            "colour: red",
            "S002 rule 'belief_gap': colour: is not a known field",
        ),
        (
            "phases.yaml",
            "    priority: 20\n",
            "    priority: high\n",
            "priority: high",
            "S002 rule 'regress_fall': priority: should be a valid integer",
        ),
        (
            "flags.yaml",
            "when: belief_gap >= 2",
            "when: belief_gapp >= 2",
            "belief_gapp",
            "E102 rule 'belief_gap': unknown fact 'belief_gapp' (did you mean 'belief_gap'?)",
        ),
        (
            "flags.yaml",
            "when: score_caseworker_belief <= 2",
            "when: score_caseworker_believe <= 2",
            "score_caseworker_believe",
            "E102 rule 'low_caseworker_belief': unknown fact 'score_caseworker_believe' "
            "(did you mean 'score_caseworker_belief'?)",
        ),
        (
            "flags.yaml",
            "when: internship_count >= 5",
            "when: '\"ekstern_praktik\" in active_interventions'",
            "ekstern_praktik",
            "E104 rule 'fifth_internship': 'ekstern_praktik' is not a known value of 'active_interventions'",
        ),
        (
            "flags.yaml",
            'phase == "standstill"',
            'phase == "stilstand"',
            "stilstand",
            "E104 rule 'caseworker_change_in_standstill': 'stilstand' is not a known value of 'phase'",
        ),
        (
            "checklist_rules.yaml",
            '"job_oriented_only" in flags',
            '"job_orientated_only" in flags',
            "job_orientated_only",
            "E104 rule 'focus_upskilling_alongside': 'job_orientated_only' is not a known value "
            "of 'flags' (did you mean 'job_oriented_only'?)",
        ),
        (
            "phases.yaml",
            "    phase: regress\n",
            "    phase: tilbagegang\n",
            "phase: tilbagegang",
            "S005 rule 'regress_fall': unknown phase 'tilbagegang'",
        ),
        (
            "checklist_rules.yaml",
            "point: 8",
            "point: 12",
            "point: 12",
            "S006 rule 'focus_upskilling_alongside': there is no checklist point 12",
        ),
        (
            "flags.yaml",
            "when: internship_count >= 5",
            'when: internship_count >= "5"',
            'internship_count >= "5"',
            "E103 rule 'fifth_internship': 'internship_count' is a number",
        ),
        (
            "flags.yaml",
            "when: belief_gap >= 2",
            "when: belief_gap > 4",
            "belief_gap > 4",
            "E105 rule 'belief_gap': 'belief_gap > 4' can never be true",
        ),
        (
            "flags.yaml",
            "when: belief_gap >= 2",
            "when: belief_gap >= 2 and belief_gap < 1",
            "  - id: belief_gap",
            "E106 rule 'belief_gap': the condition can never be true",
        ),
        (
            "phases.yaml",
            "    when: change >= 0.4\n",
            "    when: change >= 0.4 and level >= 2\n",
            "  - id: progress_rise",
            "V001 phase rule 'progress_rise' can never win",
        ),
    ],
)
def test_each_kind_of_problem(book, file, old, new, needle, expected):
    path = book / file
    edit(path, old, new)
    if expected.startswith("V001"):  # make an earlier rule cover the edited one
        edit(path, "    when: change <= -0.4\n", "    when: change <= -0.4 or change >= 0.3\n")
    code, output = validate(book)
    assert code == 4
    assert f"{path}:{line_of(path, needle)}:" in output
    assert expected in output


def test_no_phase_for_some_records_with_measurements(book):
    path = book / "phases.yaml"
    edit(path, "    when: rated_measurement_count >= 1\n", "    when: level >= 2.5\n")
    edit(
        path,
        "    when: change > -0.4 and change < 0.4 and change_prev > -0.4 and change_prev < 0.4\n",
        "    when: change_prev > 3\n",
    )
    code, output = validate(book)
    assert code == 4
    assert (
        f"{path}:{line_of(path, '  - id: standstill_default')}: V002 some records with the citizen's own ratings get no phase"
        in output
    )


def test_every_problem_is_listed_with_a_summary(book):
    edit(book / "flags.yaml", "when: belief_gap >= 2", "when: belief_gapp >= 2")
    edit(book / "phases.yaml", "    phase: regress\n", "    phase: regres\n")
    edit(book / "checklist_rules.yaml", "point: 8", "point: 12")
    code, output = validate(book)
    assert code == 4
    assert "E102" in output and "S005" in output and "S006" in output
    assert output.strip().endswith("3 error(s) and 0 warning(s) in 3 file(s)")


@pytest.fixture
def templates(tmp_path):
    return tmp_path / "guidance"


def write_template(templates, name, text, langs=("da", "en")):
    for lang in langs:
        path = templates / lang / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return templates / langs[0] / name


@pytest.mark.parametrize(
    "name, text, langs, line, expected",
    [
        (
            "flags/belief_gap.j2",
            "{% block title %}x{% endblock %}\n{% block message %}{% if %}{% endblock %}\n",
            ("da", "en"),
            2,
            "T001 template syntax error",
        ),
        (
            "flags/belief_gap.j2",
            "{% block title %}x{% endblock %}\n{% block message %}{{ flags }}{% endblock %}\n",
            ("da", "en"),
            2,
            "T003 'flags' is not given to this template",
        ),
        (
            "flags/belief_gap.j2",
            "{% block title %}x{% endblock %}\n{% block message %}{{ facts.belief_gapp }}{% endblock %}\n",
            ("da", "en"),
            2,
            "T004 unknown fact 'facts.belief_gapp' (did you mean 'belief_gap'?)",
        ),
        (
            "flags/belief_gap.j2",
            '{% block title %}x{% endblock %}\n{% block message %}{{ facts.get("belief_gapp") }}{% endblock %}\n',
            ("da", "en"),
            2,
            "T004 unknown fact 'facts.belief_gapp' (did you mean 'belief_gap'?)",
        ),
    ],
)
def test_template_problems(book, templates, name, text, langs, line, expected):
    path = write_template(templates, name, text, langs)
    code, output = validate(book, "--guidance", templates)
    assert code == 4
    assert f"{path}{':' + str(line) if line else ''}: {expected}" in output


def test_a_flag_without_templates(book):
    with (book / "flags.yaml").open("a", encoding="utf-8") as stream:
        stream.write(
            "\n  - id: belief_distance\n    severity: low\n    when: belief_gap >= 3\n"
            "    reason: Stor afstand.\n    source: bip_caseworker_belief\n"
        )
    code, output = validate(book)
    assert code == 4
    assert "T002 no template 'flags/belief_distance.j2' in any guidance folder for 'da'" in output
    assert "T002 no template 'flags/belief_distance.j2' in any guidance folder for 'en'" in output


def test_danish_only_guidance_is_allowed_with_the_english_fallback_stated(book, templates):
    """A municipality's Danish flag text over a bundled one: English reports keep the bundled English text."""
    path = write_template(
        templates,
        "flags/belief_gap.j2",
        "{% block title %}Lokal{% endblock %}{% block message %}y{% endblock %}\n",
        ("da",),
    )
    code, output = validate(book, "--guidance", templates)
    assert code == 0, output
    bundled = default_guidance() / "en" / "flags" / "belief_gap.j2"
    assert f"{path}: T005 da/flags/belief_gap.j2 has no en/flags/belief_gap.j2 in the same folder" in output
    assert f"reports in en use {bundled}" in output
