"""The policy staff's guide (docs/guide/regler.md): the impact report, the spreadsheet and the
assessments sections, run as written. The commands are taken from the page, so the page and the
program cannot drift apart."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from openpyxl import load_workbook

from tests.conftest import ROOT

GUIDE = (ROOT / "docs" / "guide" / "regler.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return GUIDE.split(f"## {title}")[1].split("\n## ")[0]


def bip(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def local_rules(folder) -> None:
    """kommunens-regler: the bundled rules with the regress threshold of the walkthrough changed."""
    shutil.copytree(ROOT / "rules", folder / "kommunens-regler")
    params = folder / "kommunens-regler" / "parameters.yaml"
    params.write_text(params.read_text(encoding="utf-8").replace("value: -0.6", "value: -0.5"), encoding="utf-8")
    shutil.copytree(ROOT / "rules", folder / "rules")


def test_the_impact_report_commands_run_as_written(tmp_path):
    local_rules(tmp_path)
    block = section("Konsekvensen af en ændring").split("```text\n")[1].split("```")[0]
    lines = [line.split()[1:] for line in block.splitlines() if line.startswith("bip ")]
    assert [line[:2] for line in lines] == [["simulate", "--citizens"], ["rules", "diff"]]
    lines[0] = [*lines[0], "--seed", "1"]
    for args in lines:
        done = bip(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    page = (tmp_path / "konsekvens.html").read_text(encoding="utf-8")
    assert "Stilstand → Tilbagegang" in page and "steady_fall_threshold −0,6 → −0,5" in page
    for heading in ("Flag der skifter alvor", "Tjeklistepunkter i fokus", "Efter team", "Arbejdsbyrde (skøn)"):
        assert heading in page


def test_the_spreadsheet_steps_run_as_written(tmp_path):
    local_rules(tmp_path)
    steps = section("Grænser i et regneark")
    export, import_ = re.findall(r"`(bip rules sheet (?:export|import) [^`]+)`", steps)
    done = bip(*export.split()[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sheet = tmp_path / "grænser.xlsx"
    book = load_workbook(sheet)
    book["Parametre"]["C2"] = -0.55
    book.save(sheet)
    done = bip(*import_.split()[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = re.search(r"hver ændring \(`([^`]+)`\)", steps).group(1)
    assert shown.replace("-0.6", "-0.5") in done.stdout  # the page's example, from this walkthrough's value
    book["Parametre"]["C2"] = "minus en halv"
    book.save(sheet)
    done = bip(*import_.split()[1:], cwd=tmp_path)
    assert done.returncode == 6
    example = re.search(r"fx\s+`([^`]+)`", steps).group(1)
    assert example in done.stderr
