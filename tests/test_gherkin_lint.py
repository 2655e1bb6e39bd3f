"""The feature-file lint, the Danish step vocabulary, and proof that a wrong scenario fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bip_engine.authoring import gherkin_steps
from bip_engine.authoring.gherkin_lint import (
    BACKGROUND_KEYWORDS,
    EXAMPLES_KEYWORDS,
    FEATURE_KEYWORDS,
    OUTLINE_KEYWORDS,
    RULE_KEYWORDS,
    SCENARIO_KEYWORDS,
    STEP_KEYWORDS,
    lint_feature_text,
    lint_features,
)

ROOT = Path(__file__).resolve().parent.parent


def feature(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def codes(text: str) -> list[tuple[str, int]]:
    return [(problem.code, problem.line) for problem in lint_feature_text(feature(text), "x.feature")]


GOOD = """
    # language: da
    Egenskab: Et eksempel
      Beskrivelse af, hvorfor det er vigtigt.

      Baggrund:
        Givet en borger uden målinger

      Scenarie: Ingen fase
        Når tjekket køres den 2026-11-22
        Så er der ingen fase
        Og flaget "no_measurement" rejses

      Abstrakt Scenario: Datoer
        Givet en borger med disse målinger:
          | dato   | alle |
          | <dato> | 3    |
        Når tjekket køres den 2026-11-22
        Så er fasen Stilstand
        \"\"\"
        Fritekst i en docstring: Saa, Givett.
        \"\"\"

        # En kommentar
        @eksempler
        Eksempler:
          | dato       |
          | 2026-11-10 |
    """


# --- the lint rules ---------------------------------------------------------------------------------


def test_a_good_feature_is_clean():
    assert codes(GOOD) == []


def test_g001_language_line_missing():
    assert codes(GOOD.replace("# language: da\n", "")) == [("G001", 1)]


def test_g001_other_language():
    problems = lint_feature_text(feature(GOOD).replace("# language: da", "# language: en"), "x.feature")
    assert (problems[0].code, problems[0].line) == ("G001", 1)
    assert "'# language: en'" in problems[0].message


def test_g001_language_after_a_comment_is_accepted():
    assert codes("# Et notat\n" + feature(GOOD)) == []


@pytest.mark.parametrize(
    "line, suggestion",
    [
        ("Givett en borger uden målinger", "Givet"),
        ("Naar tjekket køres den 2026-11-22", "Når"),
        ("Saa er der ingen fase", "Så"),
        ("Then er der ingen fase", "Så"),
        ('og flaget "no_measurement" rejses', "Og"),
    ],
)
def test_g002_misspelt_step_keyword(line, suggestion):
    text = f"""
        # language: da
        Egenskab: x
          Scenarie: y
            {line}
            Så er der ingen fase
        """
    problems = lint_feature_text(feature(text), "x.feature")
    assert [(p.code, p.line) for p in problems] == [("G002", 4)]
    assert f"is not a step (did you mean '{suggestion}'?)" in problems[0].message
    assert problems[0].path == "x.feature"


def test_g002_first_step_misspelt_becomes_description():
    text = """
        # language: da
        Egenskab: x
          Scenarie: y
            Givett en borger uden målinger
            Når tjekket køres den 2026-11-22
            Så er der ingen fase
        """
    assert codes(text) == [("G002", 4)]


def test_g002_plain_text_inside_a_scenario():
    problems = lint_feature_text(
        feature("""
        # language: da
        Egenskab: x
          Scenarie: y
            Givet en borger uden målinger
            Borgeren har ingen målinger
            Så er der ingen fase
        """),
        "x.feature",
    )
    assert [(p.code, p.line) for p in problems] == [("G002", 5)]
    assert "a step starts with Givet, Når, Så, Og or Men" in problems[0].message


def test_g002_step_after_the_examples():
    text = """
        # language: da
        Egenskab: x
          Abstrakt Scenario: y
            Givet en borger uden målinger
            Så er der ingen fase

            Eksempler:
              | a |
              | 1 |
            Og flaget "no_measurement" rejses
        """
    assert codes(text) == [("G002", 10)]


def test_g003_scenarieskabelon():
    problems = lint_feature_text(
        feature("""
        # language: da
        Egenskab: x
          Scenarie: y
            Givet en borger uden målinger
            Så er der ingen fase

          Scenarieskabelon: z
            Givet en borger uden målinger
            Så er der ingen fase
        """),
        "x.feature",
    )
    assert [(p.code, p.line) for p in problems] == [("G003", 7)]
    assert "Abstrakt Scenario" in problems[0].message and "Eksempler" in problems[0].message


def test_g004_scenario_without_saa():
    text = """
        # language: da
        Egenskab: x
          Scenarie: checker intet
            Givet en borger uden målinger
            Når tjekket køres den 2026-11-22

          Scenarie: checker noget
            Givet en borger uden målinger
            Når tjekket køres den 2026-11-22
            Så er der ingen fase
        """
    assert codes(text) == [("G004", 3)]


def test_g005_feature_without_scenarios():
    assert codes("""
        # language: da
        Egenskab: x
          Bare en beskrivelse.
        """) == [("G005", 2)]


@pytest.mark.parametrize(
    "header, suggestion",
    [
        ("Scenario: y", "Scenarie:"),
        ("scenarie: y", "Scenarie:"),
        ("Scenarie 2: y", "Scenarie:"),
        ("Senarie: y", "Scenarie:"),
    ],
)
def test_g006_misspelt_block_keyword(header, suggestion):
    problems = lint_feature_text(
        feature(f"""
        # language: da
        Egenskab: x
          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase

          {header}
            Givet en borger uden målinger
            Så er der ingen fase
        """),
        "x.feature",
    )
    assert [(p.code, p.line) for p in problems] == [("G006", 7)]
    assert f"did you mean '{suggestion}'" in problems[0].message


def test_g006_english_feature_keyword():
    assert ("G006", 2) in codes("""
        # language: da
        Feature: x
          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase
        """)


def test_prose_with_a_colon_in_a_description_is_not_flagged():
    assert (
        codes("""
        # language: da
        Egenskab: x
          Bemærk: grænserne er vores egne.
          eksempel: en borger, der venter på svar.

          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase
        """)
        == []
    )


def test_g007_step_in_the_feature_description():
    text = """
        # language: da
        Egenskab: x
          En beskrivelse.
          Så skal borgeren have en fase.

          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase
        """
    assert codes(text) == [("G007", 4)]


def test_g008_duplicate_scenario_name():
    text = """
        # language: da
        Egenskab: x
          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase

          Scenarie: a
            Givet en borger uden målinger
            Så rejses flaget "no_measurement"
        """
    assert codes(text) == [("G008", 7)]


def test_g009_first_step_is_og():
    text = """
        # language: da
        Egenskab: x
          Scenarie: a
            Og en borger uden målinger
            Så er der ingen fase
        """
    assert codes(text) == [("G009", 4)]


def test_g010_other_gherkin_errors():
    text = """
        # language: da
        Egenskab: x
          Scenarie: a
            Givet en borger med disse målinger:
              | dato       | alle |
              | 2026-11-10 |
            Så er der ingen fase
        """
    problems = lint_feature_text(feature(text), "x.feature")
    assert [(p.code, p.line) for p in problems] == [("G010", 6)]
    assert "inconsistent cell count" in problems[0].message


def test_g010_second_feature():
    text = """
        # language: da
        Egenskab: x
          Scenarie: a
            Givet en borger uden målinger
            Så er der ingen fase
        Egenskab: y
        """
    assert codes(text) == [("G010", 6)]


def test_g011_folder_without_features(tmp_path):
    assert [p.code for p in lint_features(tmp_path)] == ["G011"]


def test_g012_not_utf8(tmp_path):
    (tmp_path / "a.feature").write_bytes("# language: da\nEgenskab: æøå\n".encode("latin-1"))
    assert [p.code for p in lint_features(tmp_path)] == ["G012"]


def test_lint_features_names_each_file(tmp_path):
    (tmp_path / "a.feature").write_text(feature(GOOD), encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.feature").write_text(
        feature(GOOD).replace("Så er fasen Stilstand", "Saa er fasen Stilstand"), encoding="utf-8"
    )
    problems = lint_features(tmp_path)
    assert [(Path(p.path).name, p.code, p.line) for p in problems] == [
        ("b.feature", "G004", 13),
        ("b.feature", "G002", 18),
    ]
    assert str(problems[1]).startswith(str(tmp_path / "sub" / "b.feature") + ":18: G002")


def test_keywords_are_the_danish_gherkin_keywords():
    import gherkin

    languages = json.loads((Path(gherkin.__file__).parent / "gherkin-languages.json").read_text(encoding="utf-8"))
    da = languages["da"]
    strip = lambda words: sorted({w.strip() for w in words})  # noqa: E731
    assert strip(FEATURE_KEYWORDS) == strip(da["feature"])
    assert strip(BACKGROUND_KEYWORDS) == strip(da["background"])
    assert strip(SCENARIO_KEYWORDS) == strip(da["scenario"])
    assert strip(OUTLINE_KEYWORDS) == strip(da["scenarioOutline"])
    assert strip(EXAMPLES_KEYWORDS) == strip(da["examples"])
    assert strip(RULE_KEYWORDS) == strip(da["rule"])
    assert strip(STEP_KEYWORDS) == strip(da["given"] + da["when"] + da["then"] + da["and"] + da["but"])


def test_the_bundled_features_are_lint_clean():
    problems = lint_features(ROOT / "features")
    assert problems == [], "\n".join(map(str, problems))


# --- the step vocabulary ----------------------------------------------------------------------------


def _step_regexes() -> list[tuple[str, str]]:
    regexes = []
    for name in gherkin_steps.__all__:
        match = re.fullmatch(r"pytestbdd_stepdef_(given|when|then)_(.*)", name, re.S)
        if match:
            regexes.append((match.group(1), match.group(2)))
    return regexes


KEYWORD_TYPE = {"Givet": "given", "Når": "when", "Så": "then"}


def test_every_listed_example_matches_exactly_one_step():
    regexes = _step_regexes()
    assert len(gherkin_steps.STEPS) == len(regexes) == len({regex for _, regex in regexes})
    for pattern, example, explanation in gherkin_steps.STEPS:
        assert pattern and explanation
        keyword, text = example.splitlines()[0].split(" ", 1)
        matches = [(kind, regex) for kind, regex in regexes if re.fullmatch(regex, text)]
        assert len(matches) == 1, (example, matches)
        assert KEYWORD_TYPE.get(keyword, matches[0][0]) == matches[0][0], example


# --- running scenarios: a wrong scenario must fail, in Danish ---------------------------------------


def run_features(tmp_path: Path, text: str, *options: str, rules: Path | None = None) -> subprocess.CompletedProcess:
    """Run one feature file through pytest in a subprocess, with the step plugin."""
    (tmp_path / "features").mkdir(exist_ok=True)
    (tmp_path / "features" / "x.feature").write_text(feature(text), encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_scenarier.py").write_text(
        "from pathlib import Path\nfrom pytest_bdd import scenarios\n"
        "scenarios(str(Path(__file__).parent / 'features'))\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "bip_engine.authoring.gherkin_steps",
        "--bip-rules",
        str(rules or ROOT / "rules"),
        "-p",
        "no:cacheprovider",
        # Its own configuration, as `bip rules test` has: the rules path given above would otherwise make
        # pytest read this repository's pyproject.toml (and run the scenarios in parallel).
        "-c",
        str(tmp_path / "pytest.ini"),
        "--rootdir",
        str(tmp_path),
        "-q",
        *options,
        str(tmp_path),
    ]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


WRONG_PHASE = """
    # language: da
    Egenskab: En forkert forventning
      Scenarie: Et meget lavt niveau kaldt fremgang
        Givet en borger med disse målinger:
          | dato       | alle |
          | 2026-08-12 | 1    |
          | 2026-11-10 | 1    |
        Når tjekket køres den 2026-11-22
        Så er fasen Fremgang
    """


@pytest.mark.slow
def test_a_scenario_asserting_the_wrong_phase_fails(tmp_path):
    result = run_features(tmp_path, WRONG_PHASE)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout
    assert "Forventede fasen Fremgang (progress), men fik Afsporing (derailment)." in result.stdout
    assert "afgjort af reglen derailment_low_level (level <= 1.8)" in result.stdout
    assert "phases.yaml:" in result.stdout


@pytest.mark.slow
def test_the_same_scenario_with_the_right_phase_passes(tmp_path):
    result = run_features(tmp_path, WRONG_PHASE.replace("Så er fasen Fremgang", "Så er fasen Afsporing"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_a_wrong_flag_expectation_fails_with_the_flags_raised(tmp_path):
    result = run_features(
        tmp_path,
        """
        # language: da
        Egenskab: x
          Scenarie: Ingen måling
            Givet en borger uden målinger
            Når tjekket køres den 2026-11-22
            Så rejses flaget "no_measurement" ikke
        """,
    )
    assert result.returncode == 1
    assert "Forventede, at flaget no_measurement ikke blev rejst, men det blev det." in result.stdout
    assert "flag rejst: no_measurement (høj)" in result.stdout


@pytest.mark.slow
def test_a_misspelt_flag_id_fails_instead_of_passing(tmp_path):
    result = run_features(
        tmp_path,
        """
        # language: da
        Egenskab: x
          Scenarie: Stavefejl i flaget
            Givet en borger uden målinger
            Når tjekket køres den 2026-11-22
            Så rejses flaget "no_measurment" ikke
        """,
    )
    assert result.returncode == 1
    assert "Regelbogen har intet flag 'no_measurment'. Mente du 'no_measurement'?" in result.stdout


@pytest.mark.slow
def test_an_unknown_step_fails_naming_file_and_line(tmp_path):
    result = run_features(
        tmp_path,
        """
        # language: da
        Egenskab: x
          Scenarie: Et trin, der ikke findes
            Givet en borger uden målinger
            Når tjekket køres i dag
            Så er der ingen fase
        """,
    )
    assert result.returncode == 1
    assert "Ukendt trin i features/x.feature:5: 'Når tjekket køres i dag' – se trinlisten" in result.stdout


@pytest.mark.slow
def test_record_errors_fail_with_the_record_error_text(tmp_path):
    result = run_features(
        tmp_path,
        """
        # language: da
        Egenskab: x
          Scenarie: Ugyldige data
            Givet en borger med disse målinger:
              | dato       | alle | helth_coping |
              | 2026-11-10 | 3    | 3            |
            Når tjekket køres den 2026-11-22
            Så er fasen Stilstand
        """,
    )
    assert result.returncode == 1
    assert "Borgerens data i scenariet er ugyldige:" in result.stdout
    assert "R003 measurements[0].scores:" in result.stdout and "health_coping" in result.stdout


@pytest.mark.slow
def test_coverage_lists_the_rules_no_scenario_matched(tmp_path):
    result = run_features(tmp_path, WRONG_PHASE.replace("Fremgang", "Afsporing"), "--bip-coverage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BIP regeldækning" in result.stdout
    assert re.search(r"\d+ af \d+ regler blev ramt", result.stdout)
    assert re.search(r"  regress_fall \(faseregel\) .*phases\.yaml:\d+", result.stdout)
    assert "derailment_low_level (faseregel)" not in result.stdout


@pytest.mark.slow
def test_bip_lang_en_gives_english_failures_and_coverage(tmp_path):
    """`--bip-lang en`: the failure, the engine's summary, the rule traces and the coverage lines in English."""
    result = run_features(
        tmp_path,
        """
        # language: da
        Egenskab: x
          Scenarie: Ingen måling
            Givet en borger uden målinger
            Når tjekket køres den 2026-11-22
            Så rejses flaget "no_measurement" ikke
        """,
        "--bip-lang",
        "en",
        "--bip-coverage",
    )
    assert result.returncode == 1
    assert "Expected the flag no_measurement not to be raised, but it was." in result.stdout
    assert "flags raised: no_measurement (high)" in result.stdout
    assert ": matched; values:" in result.stdout
    assert "BIP rule coverage" in result.stdout
    assert re.search(r"\d+ of \d+ rules matched in at least one scenario", result.stdout)
    assert re.search(r"  regress_fall \(phase rule\) .*phases\.yaml:\d+", result.stdout)


@pytest.mark.slow
def test_no_coverage_report_without_the_option(tmp_path):
    result = run_features(tmp_path, WRONG_PHASE.replace("Fremgang", "Afsporing"))
    assert "regeldækning" not in result.stdout


@pytest.mark.slow
def test_the_bundled_scenarios_catch_a_moved_boundary(tmp_path):
    """Change `change <= -0.4` to `change < -0.4` in a copy of the rules: a boundary scenario must fail."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    phases = rules / "phases.yaml"
    text = phases.read_text(encoding="utf-8")
    assert "when: change <= -0.4" in text
    phases.write_text(text.replace("when: change <= -0.4", "when: change < -0.4"), encoding="utf-8")
    features = (ROOT / "features" / "faser.feature").read_text(encoding="utf-8")
    result = run_features(tmp_path, features, rules=rules)
    assert result.returncode == 1, result.stdout
    assert "Forventede fasen Tilbagegang (regress), men fik Stilstand (standstill)." in result.stdout
