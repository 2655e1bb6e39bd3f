"""`bip rules test` and `bip rules steps`, run as a user would (a separate process)."""

import shutil
import subprocess
import sys

import pytest

from bip_engine import load_rulebook
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # each test runs `bip rules test`, a pytest run of its own

SCENARIO = """# language: da
Egenskab: Lokale scenarier
  Scenarie: Et tydeligt fald
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 2    |
    Når tjekket køres den 2026-11-22
    Så er fasen {phase}
"""


def bip(*args):
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def features(tmp_path, text):
    folder = tmp_path / "features"
    folder.mkdir()
    (folder / "lokal.feature").write_text(text, encoding="utf-8")
    return folder


def test_bundled_scenarios_pass_and_cover_every_rule():
    result = bip("rules", "test", "--coverage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout and "failed" not in result.stdout
    assert "regler blev ramt" in result.stdout


def test_a_wrong_expectation_fails_with_exit_1(tmp_path):
    result = bip("rules", "test", "--features", features(tmp_path, SCENARIO.format(phase="Fremgang")))
    assert result.returncode == 1
    assert "1 failed" in result.stdout


def test_a_right_expectation_passes(tmp_path):
    result = bip("rules", "test", "--features", features(tmp_path, SCENARIO.format(phase="Afsporing")))
    assert result.returncode == 0, result.stdout


def test_a_misspelt_keyword_is_reported_not_skipped(tmp_path):
    folder = features(tmp_path, SCENARIO.format(phase="Afsporing").replace("    Når tjekket", "    Naar tjekket"))
    result = bip("rules", "test", "--features", folder)
    assert result.returncode == 1
    assert "lokal.feature:8: G002" in result.stderr and "intet scenarie blev kørt" in result.stderr


def test_local_rules_with_an_untested_rule_show_in_coverage(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "flags.yaml").open("a", encoding="utf-8") as stream:
        stream.write(
            "\n  - id: many_planned\n    severity: low\n    when: planned_count >= 3\n"
            "    reason: Mange planlagte indsatser.\n    source: bip_parallel_interventions\n"
        )
    folder = features(tmp_path, SCENARIO.format(phase="Afsporing"))
    result = bip("rules", "test", rules, "--features", folder, "--coverage")
    assert result.returncode == 0
    assert "many_planned" in result.stdout


def test_an_invalid_rulebook_exits_4(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "flags.yaml").write_text("stage: flag\nrules:\n  - id: x\n    when: levl > 2\n", encoding="utf-8")
    assert bip("rules", "test", rules).returncode == 4


def test_steps_page_lists_every_step():
    from bip_engine.authoring.gherkin_steps import STEPS

    output = bip("rules", "steps").stdout
    assert all(pattern in output for pattern, _, _ in STEPS)


def test_lang_en_gives_the_failure_text_in_english(tmp_path):
    """`bip rules test --lang en`: the step phrases stay Danish, the failure and its explanation are English."""
    result = bip("rules", "test", "--lang", "en", "--features", features(tmp_path, SCENARIO.format(phase="Fremgang")))
    assert result.returncode == 1
    assert "Expected the phase Progress (progress), but got Derailment (derailment)." in result.stdout
    assert "The engine concluded on 2026-11-22:" in result.stdout
    assert "Forventede" not in result.stdout and "Motoren konkluderede" not in result.stdout


def test_lang_da_keeps_the_danish_failure_text(tmp_path):
    result = bip("rules", "test", "--lang", "da", "--features", features(tmp_path, SCENARIO.format(phase="Fremgang")))
    assert result.returncode == 1
    assert "Forventede fasen Fremgang (progress), men fik Afsporing (derailment)." in result.stdout
    assert "Motoren konkluderede den 2026-11-22:" in result.stdout


def test_a_failure_names_the_feature_file_and_line_and_the_threshold_met(tmp_path):
    """The heading is lokal.feature:LINE of the failing step; each comparison shows its threshold (a parameter's value)."""
    steady = SCENARIO.replace(
        "| 2026-08-12 | 3    |\n      | 2026-11-10 | 2    |", "| 2026-08-12 | 4    |\n      | 2026-11-10 | 4    |"
    )
    folder = features(tmp_path, steady.format(phase="Tilbagegang"))
    result = bip("rules", "test", "--features", folder)
    assert result.returncode == 1
    lines = SCENARIO.splitlines()
    step = next(number for number, line in enumerate(lines, 1) if "Så er fasen" in line)
    assert f"lokal.feature:{step}: Scenarie: Et tydeligt fald" in result.stdout, result.stdout
    threshold = load_rulebook(ROOT / "rules").parameters.items["steady_fall_threshold"].values[0].value
    assert f"change_two_intervals <= {threshold}" in result.stdout, result.stdout
    assert "test_bip_scenarios.py" not in result.stdout


def test_a_bad_date_in_a_step_is_one_danish_line_without_the_exception_chain(tmp_path):
    text = SCENARIO.replace("    Givet en borger", "    Givet reglerne gælder pr. 2027-02-30\n    Og en borger")
    result = bip("rules", "test", "--features", features(tmp_path, text.format(phase="Tilbagegang")))
    assert result.returncode == 1
    assert "Datoen '2027-02-30' kan ikke læses" in result.stdout
    assert "During handling" not in result.stdout and "out of range" not in result.stdout
    assert "lokal.feature:4: Scenarie" in result.stdout
