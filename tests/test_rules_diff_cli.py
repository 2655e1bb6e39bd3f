"""`bip rules diff` through the command line."""

import json
import shutil

from click.testing import CliRunner

from bip_engine import cli
from bip_engine.caseload.simulate import generate_cohort, write_jsonl
from tests.conftest import ROOT, replace_in


def test_diff_reports_phase_moves_and_rejections(tmp_path, rules_copy):
    new = rules_copy
    replace_in(new / "phases.yaml", "when: change <= -0.4", "when: change <= -0.3")
    caseload = tmp_path / "caseload.jsonl"
    with caseload.open("w", encoding="utf-8") as stream:
        write_jsonl(generate_cohort(200, seed=4), stream)
        stream.write("{not json\n")
    result = CliRunner().invoke(
        cli.main,
        [
            "rules",
            "diff",
            str(ROOT / "rules"),
            str(new),
            "--caseload",
            str(caseload),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"]["read"] == 201 and report["counts"]["rejected"] == 1
    assert [change["id"] for change in report["rules"]["changed"]] == ["regress_fall"]
    moved = [c for c in report["citizens"] if c["phase"]["old"] != c["phase"]["new"]]
    assert moved and all(c["phase"]["new"] == "regress" and c["rule"]["new"] == "regress_fall" for c in moved)
    assert f"{caseload}:201" in result.stderr


def test_diff_with_an_invalid_rulebook_exits_4(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(ROOT / "rules", broken)
    (broken / "flags.yaml").write_text("stage: flag\nrules:\n  - id: x\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli.main, ["rules", "diff", str(ROOT / "rules"), str(broken), "--caseload", str(ROOT / "examples")]
    )
    assert result.exit_code == 4 and "S002" in result.output
