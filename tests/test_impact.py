"""The impact of a rule change on a caseload: counts checked against an independent evaluation."""

import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bip_engine import Checker
from bip_engine.authoring.impact import NONE, compare_caseload, compare_rule_folders, diff_rulebooks, render_impact
from bip_engine.caseload.readers import RawRecord, ReadProblem, detect_and_read
from bip_engine.caseload.simulate import generate_cohort, write_jsonl
from bip_engine.errors import problem

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 22)
N = 300


def edited_rules(tmp_path: Path, name: str, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of the bundled rules with `old` replaced by `new` (exactly once) in each named file."""
    folder = tmp_path / name
    shutil.copytree(ROOT / "rules", folder)
    for file_name, (old, new) in edits.items():
        path = folder / file_name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not in {file_name} exactly once"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("impact") / "cohort.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        write_jsonl(generate_cohort(N, seed=11), stream)
    return path


@pytest.fixture(scope="module")
def old_checker() -> Checker:
    return Checker(ROOT / "rules", engine="python")


@pytest.fixture(scope="module")
def regress_rules(tmp_path_factory) -> Path:
    """NEW: a citizen is in regress from a fall of 0.2 (was 0.4)."""
    return edited_rules(
        tmp_path_factory.mktemp("regress"), "new", {"phases.yaml": ("when: change <= -0.4", "when: change <= -0.2")}
    )


@pytest.fixture(scope="module")
def regress_report(old_checker, regress_rules, cohort):
    return compare_caseload(old_checker, Checker(regress_rules, engine="python"), detect_and_read([str(cohort)]), AS_OF)


def independent(old: Checker, new: Checker, path: Path) -> dict:
    """Evaluate every record with both checkers directly: transitions, flag counts, changed ids."""
    transitions, flags_old, flags_new, changed = Counter(), Counter(), Counter(), {}
    for line in path.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        before = old.evaluate(old.parse_record(data), AS_OF)
        after = new.evaluate(new.parse_record(data), AS_OF)
        transitions[(before.phase or NONE, after.phase or NONE)] += 1
        flags_old.update(before.flags)
        flags_new.update(after.flags)
        if before.phase != after.phase or set(before.flags) != set(after.flags):
            changed[data["id"]] = (before, after)
    return {"transitions": transitions, "flags_old": flags_old, "flags_new": flags_new, "changed": changed}


def test_phase_table_matches_an_independent_count(regress_report, old_checker, regress_rules, cohort):
    expected = independent(old_checker, Checker(regress_rules, engine="python"), cohort)
    table = regress_report.phase_table()
    off_diagonal = {
        (old, new): count for old, row in table.items() for new, count in row.items() if old != new and count
    }
    assert off_diagonal == {key: count for key, count in expected["transitions"].items() if key[0] != key[1]}
    assert off_diagonal, "the threshold change should move some citizens"
    # Lowering the regress threshold only moves citizens into regress.
    assert all(new == "regress" for _, new in off_diagonal)
    assert regress_report.phase_changes == sum(off_diagonal.values())
    assert sum(regress_report.old_totals().values()) == sum(regress_report.new_totals().values()) == N
    assert (
        regress_report.old_totals()["regress"] + regress_report.phase_changes == regress_report.new_totals()["regress"]
    )
    assert set(table) == {"progress", "standstill", "regress", "derailment", NONE}
    assert (regress_report.read, regress_report.evaluated, regress_report.rejected) == (N, N, 0)


def test_changed_citizens_are_exactly_those_that_changed(regress_report, old_checker, regress_rules, cohort):
    expected = independent(old_checker, Checker(regress_rules, engine="python"), cohort)["changed"]
    listed = {citizen.citizen_id: citizen for citizen in regress_report.citizens}
    assert len(listed) == len(regress_report.citizens), "a citizen is listed twice"
    assert set(listed) == set(expected)
    for citizen_id, (before, after) in expected.items():
        citizen = listed[citizen_id]
        assert (citizen.old_phase, citizen.new_phase) == (before.phase, after.phase)
        assert citizen.old_rule == before.outcome.phase_rule.id
        assert citizen.new_rule == after.outcome.phase_rule.id == "regress_fall"
        assert set(citizen.flags_added) == set(after.flags) - set(before.flags)
        assert set(citizen.flags_removed) == set(before.flags) - set(after.flags)


def test_flag_counts_match_and_follow_the_phase(regress_report, old_checker, regress_rules, cohort):
    expected = independent(old_checker, Checker(regress_rules, engine="python"), cohort)
    rows = {row["id"]: row for row in regress_report.flag_rows()}
    assert set(rows) == set(old_checker.rulebook.flag_ids)
    for flag, row in rows.items():
        assert row["old"] == expected["flags_old"][flag]
        assert row["new"] == expected["flags_new"][flag]
        assert row["difference"] == row["new"] - row["old"]


def test_rule_diff_names_the_changed_rule(regress_report):
    rules = regress_report.rules
    assert (rules.added, rules.removed) == ([], [])
    assert [change.id for change in rules.changed] == ["regress_fall"]
    assert rules.changed[0].changes == {"when": ("change <= -0.4", "change <= -0.2")}
    assert regress_report.old.hash != regress_report.new.hash
    assert regress_report.old.name == regress_report.new.name == "bip-standard"


def test_identical_rulebooks_change_nothing(old_checker, cohort):
    report = compare_caseload(
        old_checker, Checker(ROOT / "rules", engine="python"), detect_and_read([str(cohort)]), AS_OF
    )
    assert report.citizens == [] and report.changed == 0 and report.phase_changes == 0
    assert report.rules.empty and report.rules.ids == []
    assert report.as_dict()["rules"] == {"added": [], "removed": [], "changed": []}
    assert report.old == report.new
    assert all(row["difference"] == 0 for row in report.flag_rows())
    assert report.evaluated == N
    assert sum(report.transitions.values()) == N


def test_flag_severity_change_is_a_rule_change_but_not_a_phase_change(tmp_path, old_checker, cohort):
    new = edited_rules(
        tmp_path,
        "new",
        {
            "flags.yaml": (
                "severity: medium\n    when: months_since_measurement > 3",
                "severity: high\n    when: months_since_measurement > 3",
            )
        },
    )
    report = compare_rule_folders(ROOT / "rules", new, [str(cohort)], AS_OF)
    assert [(change.id, change.stage, change.changes) for change in report.rules.changed] == [
        ("measurement_overdue", "flag", {"severity": ("medium", "high")})
    ]
    assert report.phase_changes == 0
    assert all(row["difference"] == 0 for row in report.flag_rows())
    # every citizen with the flag keeps it at another severity: they are changed citizens, and counted
    with_flag = report.flags_old["measurement_overdue"]
    assert with_flag > 0
    assert report.severity_rows() == [
        {"id": "measurement_overdue", "old": "medium", "new": "high", "citizens": with_flag}
    ]
    assert len(report.citizens) == with_flag
    assert all(c.severity_changed == {"measurement_overdue": ("medium", "high")} for c in report.citizens)
    text = render_impact(report, "text", "en")
    assert "measurement_overdue (flag)" in text and "severity: medium → high" in text
    assert "No citizen changes phase." in text


def test_flags_added_name_the_new_rules_and_removed_the_old(tmp_path, old_checker, cohort):
    new_dir = edited_rules(
        tmp_path,
        "new",
        {"flags.yaml": ("when: months_without_intervention >= 3", "when: months_without_intervention >= 2")},
    )
    report = compare_rule_folders(ROOT / "rules", new_dir, [str(cohort)], AS_OF)
    expected = independent(old_checker, Checker(new_dir, engine="python"), cohort)
    rows = {row["id"]: row for row in report.flag_rows()}
    assert rows["no_intervention_3m"]["difference"] > 0
    assert rows["no_intervention_3m"]["new"] == expected["flags_new"]["no_intervention_3m"]
    assert {citizen.citizen_id for citizen in report.citizens} == set(expected["changed"])
    assert report.citizens and all(
        citizen.flags_added == {"no_intervention_3m": ["no_intervention_3m"]} for citizen in report.citizens
    )
    # The other way round, the same citizens lose the flag, with the rule that had raised it.
    back = compare_rule_folders(new_dir, ROOT / "rules", [str(cohort)], AS_OF)
    assert [citizen.citizen_id for citizen in back.citizens] == [citizen.citizen_id for citizen in report.citizens]
    assert all(
        citizen.flags_removed == {"no_intervention_3m": ["no_intervention_3m"]} and not citizen.flags_added
        for citizen in back.citizens
    )


def test_renamed_rule_is_removed_and_added(tmp_path):
    new = edited_rules(tmp_path, "new", {"phases.yaml": ("id: regress_fall", "id: regress_clear_fall")})
    diff = diff_rulebooks(Checker(ROOT / "rules").rulebook, Checker(new).rulebook)
    assert [rule["id"] for rule in diff.removed] == ["regress_fall"]
    assert [rule["id"] for rule in diff.added] == ["regress_clear_fall"]
    assert diff.added[0]["priority"] == 20 and diff.changed == []


def test_rejected_records_are_counted_and_the_rest_processed(tmp_path, regress_rules, monkeypatch):
    records = list(generate_cohort(40, seed=2))
    monkeypatch.chdir(tmp_path)  # a short relative path, so the text report does not wrap it
    path = Path("mixed.jsonl")
    with path.open("w", encoding="utf-8") as stream:
        write_jsonl(records[:20], stream)
        stream.write('{"id": "BROKEN", "measurements": [\n')
        stream.write(
            json.dumps(
                dict(records[20], id="BAD-SCORE", measurements=[{"date": "2026-05-01", "scores": {"job_search": 9}}])
            )
            + "\n"
        )
        write_jsonl(records[21:], stream)
    seen = []
    report = compare_rule_folders(ROOT / "rules", regress_rules, [str(path)], AS_OF, on_rejection=seen.append)
    assert (report.read, report.evaluated, report.rejected) == (41, 39, 2)
    assert sum(report.transitions.values()) == 39
    broken, bad = report.rejections
    assert (
        broken.source == f"{path}:21"
        and broken.invalid_under == "read"
        and "not valid JSON" in broken.problems[0].message
    )
    assert bad.source == f"{path}:22" and bad.citizen_id == "BAD-SCORE" and bad.invalid_under == "both"
    assert len(bad.problems) == 1 and bad.problems[0].code == "R002"
    assert seen == report.rejections
    assert "BAD-SCORE" not in {citizen.citizen_id for citizen in report.citizens}
    text = render_impact(report, "text", "da")
    assert "41 læst, 39 vurderet, 2 afvist" in text and f"{path}:21" in text


def test_record_invalid_under_one_rulebook_only(tmp_path):
    new = edited_rules(
        tmp_path,
        "new",
        {"interventions.yaml": ("aliases: [intern_praktik]", "aliases: [intern_praktik, kommunekode_77]")},
    )
    record = dict(next(generate_cohort(1, seed=4)), id="ALIAS-1")
    record["interventions"] = [{"type": "kommunekode_77", "start": "2026-10-01"}]
    items = [RawRecord("a.json", record), ReadProblem("b.json", problem("R001.file_empty", "b.json"))]
    report = compare_caseload(Checker(ROOT / "rules", engine="python"), Checker(new, engine="python"), items, AS_OF)
    assert (report.read, report.evaluated, report.rejected) == (2, 0, 2)
    assert [(r.source, r.citizen_id, r.invalid_under) for r in report.rejections] == [
        ("a.json", "ALIAS-1", "old"),
        ("b.json", None, "read"),
    ]
    assert report.rejections[0].problems[0].code == "R004"
    assert report.rules.empty  # a catalogue change is not a rule change


@pytest.mark.parametrize("lang", ["da", "en"])
def test_text_fits_80_columns_in_both_languages(regress_report, lang):
    text = render_impact(regress_report, "text", lang)
    assert max(len(line) for line in text.splitlines()) <= 80
    heading = {"da": "Ændrede borgere", "en": "Changed citizens"}[lang]
    assert f"{heading} ({regress_report.changed})" in text
    assert {"da": "Tilbagegang", "en": "Regress"}[lang] in text
    for citizen in regress_report.citizens:
        assert f"{citizen.citizen_id}: " in text


def test_text_wraps_long_conditions(tmp_path, cohort):
    long = "change <= -0.2 and " + " and ".join(f"level >= {value / 10}" for value in range(10, 20))
    new = edited_rules(tmp_path, "new", {"phases.yaml": ("when: change <= -0.4", f"when: {long}")})
    report = compare_rule_folders(ROOT / "rules", new, [str(cohort)], AS_OF)
    text = render_impact(report, "text", "da")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "level >= 1.9" in " ".join(text.split())


def test_json_round_trips_and_is_deterministic(regress_report, regress_rules, cohort):
    rendered = render_impact(regress_report, "json", "da")
    data = json.loads(rendered)
    assert data == json.loads(json.dumps(regress_report.as_dict("da")))
    assert list(data) == [
        "as_of",
        "rulebooks",
        "rules",
        "counts",
        "phases",
        "flags",
        "severity_changes",
        "checklist",
        "breakdowns",
        "workload",
        "citizens",
        "rejected",
    ]
    assert data["counts"] == {
        "read": N,
        "evaluated": N,
        "rejected": 0,
        "changed": regress_report.changed,
        "phase_changed": regress_report.phase_changes,
    }
    assert data["phases"]["table"]["standstill"]["regress"] == regress_report.transitions.get(
        ("standstill", "regress"), 0
    )
    assert data["citizens"][0]["rule"]["new"] == "regress_fall"
    again = compare_rule_folders(ROOT / "rules", regress_rules, [str(cohort)], AS_OF)
    assert render_impact(again, "json", "da") == rendered
    assert rendered == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_markdown_has_tables(regress_report):
    markdown = render_impact(regress_report, "markdown", "en")
    assert "| **Standstill** |" in markdown and "|---|---:|" in markdown
    assert "| `regress_fall` | phase |" in markdown
    assert markdown.count("| SIM-") == regress_report.changed


def test_unknown_format_is_refused(regress_report):
    with pytest.raises(ValueError):
        render_impact(regress_report, "pdf", "da")
