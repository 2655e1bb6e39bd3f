"""The README's walkthrough for policy staff, run as written: a local dated rule, its threshold in a
spreadsheet, the impact report, two releases, a rollback and the caseworkers' agreement.

Each `bip` line of the README's block runs in a fresh folder holding a copy of `examples/`, in the
order written. The two things a person does by hand are done here the way the README says: the
sheet's cell C2 is changed from 42 to 35 after the export, and the decision log the page would have
written (one check, assessed with a disagreement) exists before `bip log agreement` reads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from bip_engine import Checker
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = "## For policy staff"


def walkthrough_lines() -> list[str]:
    """The `bip` commands of the README's policy-staff block, comments removed, in order."""
    section = README[README.index(SECTION) :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block is not None, "the policy staff's section has no sh block"
    return [line.split("   #")[0].strip() for line in block.group(1).splitlines() if line.startswith("bip ")]


def run(folder: Path, line: str) -> subprocess.CompletedProcess[str]:
    """One README line, as `python -m bip_engine.cli`, in `folder`."""
    args = shlex.split(line)[1:]
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *args], cwd=folder, capture_output=True, text=True, timeout=300
    )


def the_pages_log(folder: Path) -> None:
    """The decision log the page would have written: one check of the example citizen, assessed."""
    from bip_engine.log.assessments import append_assessment
    from bip_engine.log.decisions import append_decision, decision_entry
    from bip_engine.log.store import Store
    from bip_engine.log.tokens import Principal

    store = Store.open(f"sqlite:///{folder / 'bip-log.sqlite'}")
    checker = Checker()
    record, _, _ = checker.read_record(str(folder / "examples" / "stilstand.yaml"))
    report = checker.check(record, dt.date(2026, 11, 20), "da")
    anna = Principal("anna", "caseworker")
    entry = decision_entry(report, record, anna, "opfølgning", store)
    entry = dataclasses.replace(entry, time=dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC))
    append_decision(store, entry)
    append_assessment(store, entry.decision_id, anna, False, "regress", "Borgeren har mistet sin bolig", {})
    store.close()


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    lines = walkthrough_lines()
    assert [line.split()[1:3] for line in lines][:3] == [
        ["rules", "validate"],
        ["check", "examples/lokal/borger.yaml"],
        ["rules", "release"],
    ]
    outputs: dict[str, str] = {}
    for line in lines:
        if line.startswith("bip log agreement"):
            the_pages_log(tmp_path)
        if line.startswith("bip rules rollback HASH"):  # the README's placeholder: the first release, as listed
            listed = run(tmp_path, "bip rules releases").stdout.splitlines()
            line = line.replace("HASH", next(row for row in listed if "Samtale hver sjette uge" in row).split()[0])
        done = run(tmp_path, line)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs[" ".join(line.split()[1:3])] = outputs.get(" ".join(line.split()[1:3]), "") + done.stdout
        if line.startswith("bip rules sheet export"):  # the README's hand edit: C2 from 42 to 35
            sheet = tmp_path / "grænser.xlsx"
            book = openpyxl.load_workbook(sheet)
            assert book["Parametre"]["A2"].value == "meeting_interval_days" and book["Parametre"]["C2"].value == 42
            book["Parametre"]["C2"] = 35
            book.save(sheet)

    assert "Ingen samtale i seks uger" in outputs["check examples/lokal/borger.yaml"]
    assert "meeting_interval_days nr. 1: 42 → 35" in outputs["rules sheet"]
    report = (tmp_path / "konsekvens.html").read_text(encoding="utf-8")
    assert "<svg" in report and "<script" not in report and "meeting_interval_days" in report
    assert "35" in (tmp_path / "examples" / "lokal" / "regler" / "parameters.yaml").read_text(encoding="utf-8")

    listing = run(tmp_path, "bip rules releases").stdout.splitlines()
    first = next(line for line in listing if "Samtale hver sjette uge" in line)
    assert first.endswith("<- latest") and not any(
        line.endswith("<- latest") for line in listing if line is not first
    ), listing
    assert "0 af 1 enige" in outputs["log agreement"] and "Borgeren har mistet sin bolig" in outputs["log agreement"]


def test_the_readme_says_when_the_local_flag_is_raised(tmp_path):
    check = next(line for line in walkthrough_lines() if line.startswith("bip check"))
    assert "--as-of 2027-01-14" in check and "(43 days), not on 2027-01-13" in README
    raised = run(ROOT, check).stdout
    day_before = run(ROOT, check.replace("2027-01-14", "2027-01-13")).stdout
    not_yet_in_force = run(ROOT, check + " --rules-as-of 2026-12-31").stdout
    assert "Ingen samtale i seks uger" in raised and "43 dage" in raised
    assert "Ingen samtale i seks uger" not in day_before
    assert "Ingen samtale i seks uger" not in not_yet_in_force
