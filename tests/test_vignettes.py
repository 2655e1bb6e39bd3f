"""Vignettes written from the seeds (tests/data/vignettes/*.yaml), checked on both executors.

Each vignette is a synthetic record with what the seeds say the engine should make of it: the
phase, the flags, facts, warnings and wording in the report and the citizen version. The
expectations are written from the slides (see each file's `seed`), not from `rules/`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bip_engine import Checker, durable_available, report_json

VIGNETTES = sorted((Path(__file__).parent / "data" / "vignettes").glob("*.yaml"))


def load(path: Path) -> dict:
    """One vignette, with its check date as a date."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["as_of"] = dt.date.fromisoformat(str(data["as_of"]))
    return data


@pytest.mark.parametrize("path", VIGNETTES, ids=[path.stem for path in VIGNETTES])
def test_vignette(path, checker):
    vignette = load(path)
    expect = vignette["expect"]
    report = checker.check(vignette["record"], vignette["as_of"], lang="da")
    phase = report.phase.id if report.phase else None
    flags = {flag.id for flag in report.flags}
    if "phase" in expect:
        assert phase == expect["phase"], report.phase
    if "phase_not" in expect:
        assert phase != expect["phase_not"], report.phase
    if "confidence" in expect:
        assert report.phase is not None and report.phase.confidence == expect["confidence"]
    assert set(expect.get("flags", [])) <= flags, flags
    assert not set(expect.get("flags_not", [])) & flags, flags
    points = {point.number for point in report.checklist if point.focus}
    assert not set(expect.get("checklist_not", [])) & points, points
    for name, value in expect.get("facts", {}).items():
        assert report.facts[name] == value, name
    for warning in expect.get("warnings", []):
        assert any(warning in given for given in report.warnings), report.warnings
    text = " ".join(checker.render(report, "text", width=1000).split())
    for wording in expect.get("report", []):
        assert wording in text
    for wording in expect.get("report_not", []):
        assert wording not in text
    citizen = " ".join(checker.render(report, "citizen", width=1000).split())
    for wording in expect.get("citizen", []):
        assert wording in citizen
    for wording in expect.get("citizen_not", []):
        assert wording not in citizen


@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
@pytest.mark.parametrize("path", VIGNETTES, ids=[path.stem for path in VIGNETTES])
def test_both_executors_give_the_same_report_for_each_vignette(path, rulebook):
    vignette = load(path)
    python, durable = Checker(rulebook, engine="python"), Checker(rulebook, engine="durable")
    reports = [c.check(vignette["record"], vignette["as_of"], lang="da") for c in (python, durable)]
    first, second = (report_json(r).replace(r.engine, "ENGINE") for r in reports)
    assert first == second


def test_a_completed_intervention_without_an_end_is_warned_at_its_line(tmp_path, checker):
    """Issue 17: the warning names the file and the line of the entry, so the end date can be added there."""
    vignette = load(next(path for path in VIGNETTES if path.stem == "completed_without_end"))
    path = tmp_path / "borger.yaml"
    path.write_text(yaml.safe_dump(vignette["record"], sort_keys=False, allow_unicode=True), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    entry = next(number for number, line in enumerate(lines, 1) if "wage_subsidy" in line)
    record, _, name = checker.read_record(str(path))
    report = checker.check(record, vignette["as_of"], lang="da")
    assert any(warning.startswith(f"{name}:{entry}: interventions[0].end:") for warning in report.warnings), (
        report.warnings
    )
