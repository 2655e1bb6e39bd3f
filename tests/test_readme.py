"""The README is the contract: check it against the code so the two cannot drift apart."""

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_facts_table_matches_the_fact_catalogue(rulebook):
    rows = dict(re.findall(r"^\| `([a-z0-9_<>]+)` \| (\w+) \|", README, flags=re.M))
    expected = {}
    for name, spec in rulebook.facts.items():
        expected["score_<indicator>" if name.startswith("score_") else name] = spec.type
    assert rows == expected


def test_every_problem_code_in_the_code_is_documented():
    documented = set()
    for first, last in re.findall(r"\b([A-Z]\d{3})(?:–([A-Z]\d{3}))?", README):
        start = int(first[1:])
        end = int(last[1:]) if last else start
        documented.update(f"{first[0]}{number:03d}" for number in range(start, end + 1))
    used = set()
    for path in (ROOT / "engine").rglob("*.py"):
        used.update(re.findall(r'"([A-Z]\d{3})"', path.read_text(encoding="utf-8")))
    assert used - documented == set()


def test_every_command_is_documented():
    commands = set(cli.main.commands) | {f"rules {name}" for name in cli.rules.commands}
    missing = [name for name in commands if f"bip {name}" not in README]
    assert missing == []


def test_exit_codes_table_matches_the_cli():
    table = set(re.findall(r"^\| (\d) \| ", README, flags=re.M))
    assert table == {"0", "1", "2", "3", "4"}
    assert (cli.EXIT_FLAGGED, cli.EXIT_USAGE, cli.EXIT_REJECTED, cli.EXIT_INVALID_RULES) == (1, 2, 3, 4)


def test_readme_commands_exist_in_the_makefile():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("example", "test", "bench"):
        assert f"make {target}" in README and re.search(rf"^{target}:", makefile, flags=re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_options_of_check_exist():
    help_text = CliRunner().invoke(cli.main, ["check", "--help"]).output
    for option in re.findall(r"\[(--[a-z-]+)", README.split("## The pre-meeting check")[1].split("```")[1]):
        assert option in help_text, option


@pytest.mark.slow
def test_policy_staff_walkthrough_commands_run(tmp_path):
    """The Danish walkthrough: a local rulebook that changes one threshold validates and changes a phase."""
    local = tmp_path / "kommunens-regler"
    local.mkdir()
    (local / "rulebook.yaml").write_text(
        'name: kommunens-regler\nversion: "2027.1"\nextends: default\n', encoding="utf-8"
    )
    (local / "faser.yaml").write_text(
        "stage: phase\nrules:\n  - id: regress_fall\n    when: change <= -0.5\n", encoding="utf-8"
    )
    scenario = README.split("```gherkin\n")[1].split("```")[0]
    features = tmp_path / "kommunens-scenarier"
    features.mkdir()
    (features / "tilbagegang.feature").write_text(scenario, encoding="utf-8")
    assert CliRunner().invoke(cli.main, ["rules", "validate", str(local)]).exit_code == 0
    result = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "rules", "test", str(local), "--features", str(features)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    default = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "rules", "test", "--features", str(features)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert default.returncode == 1  # under the default rules the same citizen is in regress


@pytest.mark.slow
def test_policy_staff_dated_threshold_walkthrough_runs(tmp_path):
    """The Danish walkthrough of a threshold that changes on a date: files, validate, test, diff, release."""
    import json as json_module

    section = README.split("### En grænse, der skifter på en dato")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 3
    for block in blocks:
        text = "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"
        name = text.splitlines()[0].lstrip("# ").strip()
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    local = tmp_path / "kommunens-regler"
    scenario = section.split("```gherkin\n")[1].split("```")[0]
    features = tmp_path / "kommunens-scenarier"
    features.mkdir()
    (features / "grænse.feature").write_text(
        "\n".join(line[3:] for line in scenario.splitlines()) + "\n", encoding="utf-8"
    )
    runner = CliRunner()
    assert runner.invoke(cli.main, ["rules", "validate", str(local)]).exit_code == 0
    result = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "rules", "test", str(local), "--features", str(features)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr
    caseload = tmp_path / "sagsstamme.jsonl"
    runner.invoke(cli.main, ["simulate", "--citizens", "200", "--out", str(caseload)])
    scores = {"health_coping": 3, "opportunity_knowledge": 3, "work_confidence": 3, "cooperation": 3, "wage_realism": 3}
    with caseload.open("a", encoding="utf-8") as stream:  # the scenario's citizen: a fall of exactly 0.4
        for index in range(3):
            stream.write(
                json_module.dumps(
                    {
                        "id": f"FALD-{index}",
                        "measurements": [
                            {"date": "2026-08-12", "scores": scores},
                            {"date": "2026-11-10", "scores": dict(scores, health_coping=2, opportunity_knowledge=2)},
                        ],
                    }
                )
                + "\n"
            )
    diff = runner.invoke(
        cli.main,
        [
            "rules",
            "diff",
            f"{local}@2026-12-31",
            f"{local}@2027-01-01",
            "--caseload",
            str(caseload),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
        ],
    )
    assert diff.exit_code == 0, diff.output
    table = json_module.loads(diff.stdout)["phases"]["table"]
    assert table["regress"]["standstill"] >= 3 and table["standstill"]["regress"] == 0
    store = tmp_path / "bip-releases"
    refused = runner.invoke(
        cli.main, ["rules", "release", str(local), "--approved-by", "Mette Sørensen", "--store", str(store)]
    )
    assert refused.exit_code == 2
    released = runner.invoke(
        cli.main,
        [
            "rules",
            "release",
            str(local),
            "--approved-by",
            "Jens Hansen",
            "--note",
            "Ny grænse fra 2027",
            "--store",
            str(store),
        ],
    )
    assert released.exit_code == 0 and "godkendt af Jens Hansen" in released.output
    assert "Ny grænse fra 2027" in runner.invoke(cli.main, ["rules", "releases", "--store", str(store)]).output
