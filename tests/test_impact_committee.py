"""The impact report a committee can read (issue 18): a threshold change in `parameters.yaml` moves
citizens from Stilstand to Tilbagegang, which also changes a flag's severity and the checklist points
in focus. Every expectation is computed here from an independent evaluation of the same cohort."""

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bip_engine import Checker
from bip_engine.authoring.describe import describe, fact_labels, value_labels
from bip_engine.authoring.impact import MEETING_PHASES, REVIEW_WEEKS, compare_rule_folders, render_impact
from bip_engine.caseload.simulate import generate_cohort, write_jsonl
from bip_engine.messages import texts
from bip_engine.severity import SEVERITY_ORDER

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 22)
N = 800
OLD_VALUE, NEW_VALUE = -0.6, -0.5


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("committee")
    cohort = folder / "cohort.jsonl"
    with cohort.open("w", encoding="utf-8") as stream:
        write_jsonl(generate_cohort(N, seed=1, as_of=AS_OF), stream)
    new = folder / "new"
    shutil.copytree(ROOT / "rules", new)
    params = new / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    assert text.count(f"value: {OLD_VALUE}") == 1
    params.write_text(text.replace(f"value: {OLD_VALUE}", f"value: {NEW_VALUE}"), encoding="utf-8")
    report = compare_rule_folders(ROOT / "rules", new, [str(cohort)], AS_OF)
    return cohort, new, report


def severities(evaluation) -> dict[str, str]:
    shown: dict[str, str] = {}
    for rule in evaluation.outcome.flag_rules:
        if rule.conclusion not in shown or SEVERITY_ORDER[rule.severity] < SEVERITY_ORDER[shown[rule.conclusion]]:
            shown[rule.conclusion] = rule.severity
    return shown


@pytest.fixture(scope="module")
def expected(setup):
    """What the report must say, from evaluating every citizen under both rulebooks here."""
    cohort, new_dir, _ = setup
    old, new = Checker(ROOT / "rules", engine="python"), Checker(new_dir, engine="python")
    found = {"moved": [], "severity": Counter(), "focus": 0, "teams": Counter(), "meetings": [0, 0], "evals": {}}
    for line in cohort.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        before = old.evaluate(old.parse_record(data), AS_OF)
        after = new.evaluate(new.parse_record(data), AS_OF)
        found["teams"][data["caseworkers"][-1]["team"]] += 1
        found["meetings"][0] += before.phase in MEETING_PHASES
        found["meetings"][1] += after.phase in MEETING_PHASES
        if (before.phase, after.phase) == ("standstill", "regress"):
            found["moved"].append(data["id"])
            found["evals"][data["id"]] = after
        old_sev, new_sev = severities(before), severities(after)
        for flag in old_sev.keys() & new_sev.keys():
            if old_sev[flag] != new_sev[flag]:
                found["severity"][(flag, old_sev[flag], new_sev[flag])] += 1
        old_focus = {rule.conclusion for rule in before.outcome.checklist_rules}
        new_focus = {rule.conclusion for rule in after.outcome.checklist_rules}
        found["focus"] += old_focus != new_focus
    return found


def test_the_moves_the_severity_changes_and_the_checklist_focus_are_all_reported(setup, expected):
    _, _, report = setup
    # the cohort shows the defect's shape: citizens move, some change a flag's severity, some the focus
    assert expected["moved"] and expected["severity"] and expected["focus"]
    assert report.transitions[("standstill", "regress")] == len(expected["moved"])
    assert {(row["id"], row["old"], row["new"]): row["citizens"] for row in report.severity_rows()} == dict(
        expected["severity"]
    )
    assert report.focus_changed == expected["focus"]
    data = render_impact(report, "json", "en")
    assert json.loads(data)["checklist"]["changed"] == expected["focus"]
    text = render_impact(report, "text", "da")
    words = texts("docs", "da")["severities"]
    for (flag, old, new), count in expected["severity"].items():
        assert re.search(rf"^{flag}\s+{words[old]}\s+{words[new]}\s+{count}$", text, re.M), text
    assert f"{expected['focus']} borgere får andre tjeklistepunkter i fokus." in text


def test_each_moved_citizen_has_the_cause_with_its_values_and_the_condition_in_words(setup, expected):
    _, new_dir, report = setup
    data = json.loads(render_impact(report, "json", "da"))
    citizens = {citizen["citizen_id"]: citizen for citizen in data["citizens"]}
    rulebook = Checker(new_dir, engine="python").rulebook.at(AS_OF)
    rule = next(rule for rule in rulebook.all_rules() if rule.id == "regress_steady_fall")
    words = describe(
        rule.condition,
        rulebook.facts,
        "da",
        labels=fact_labels(rulebook.catalogue),
        values=value_labels(rulebook, "da"),
    )
    assert "−0,5" in words  # the words `bip rules docs` uses, with the value in force
    for citizen_id in expected["moved"]:
        causes = {cause["rule"]: cause for cause in citizens[citizen_id]["causes"]}
        cause = causes["regress_steady_fall"]
        assert cause["parameters"] == {"steady_fall_threshold": {"old": OLD_VALUE, "new": NEW_VALUE}}
        value = expected["evals"][citizen_id].facts["change_two_intervals"]
        assert cause["facts"]["new"] == {"change_two_intervals": value}
        assert OLD_VALUE < value <= NEW_VALUE
        assert cause["condition"]["new"] == words
    text = render_impact(report, "text", "da")
    assert "steady_fall_threshold −0,6 → −0,5" in " ".join(text.split())


def test_breakdowns_and_the_workload_estimate(setup, expected):
    _, _, report = setup
    teams = {row["group"]: row["evaluated"] for row in report.as_dict()["breakdowns"]["team"]}
    assert teams == dict(expected["teams"])
    phases = {row["group"]: row for row in report.as_dict()["breakdowns"]["phase"]}
    assert phases["standstill"]["phase_changed"] == len(expected["moved"])
    assert sum(row["evaluated"] for row in phases.values()) == N
    workload = report.workload
    assert (workload.meetings_old, workload.meetings_new) == tuple(expected["meetings"])
    assert workload.meetings_per_week == round((expected["meetings"][1] - expected["meetings"][0]) / REVIEW_WEEKS, 1)
    text = render_impact(report, "text", "en")
    assert f"reviewed every {REVIEW_WEEKS} weeks" in text  # the assumption is stated


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_html_report_is_self_contained_printable_and_in_the_language(setup, tmp_path, lang):
    cohort, new_dir, report = setup
    out = tmp_path / "impact.html"
    args = [sys.executable, "-m", "bip_engine.cli", "rules", "diff", str(ROOT / "rules"), str(new_dir)]
    args += ["--caseload", str(cohort), "--as-of", AS_OF.isoformat(), "--format", "html", "-o", str(out)]
    if lang == "en":
        args += ["--lang", "en", "--review-weeks", "4"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    assert page.count("<svg") == 2 and "@media print" in page
    assert "<script" not in page and not re.search(r'(src|href)="', page)  # no external assets
    title = "Regelændring: konsekvenser for sagsstammen" if lang == "da" else "Rule change: impact on the caseload"
    assert f"<h1>{title}</h1>" in page
    for citizen in report.citizens:
        assert f"<td>{citizen.citizen_id}</td>" in page
    weeks = 4 if lang == "en" else REVIEW_WEEKS
    assert (f"reviewed every {weeks} weeks" if lang == "en" else f"gennemgås hver {weeks}. uge") in page
