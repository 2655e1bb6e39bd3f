"""`bip log agreement`: the share of checks the caseworkers agreed with, per phase and flag, over a
period and per team, with the disagreements grouped. The expectations are counted here from the
assessments the test writes."""

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from itertools import islice

from bip_engine import Checker, clock
from bip_engine.caseload.simulate import generate_cohort
from bip_engine.log.assessments import append_assessment
from bip_engine.log.decisions import append_decision, decision_entry
from bip_engine.log.store import Store
from bip_engine.log.tokens import Principal
from tests.conftest import ROOT

AS_OF = dt.date(2026, 11, 22)
PEOPLE = {"anna": "Team A", "bo": "Team A", "cem": "Team B"}
REASONS = ["Borgeren er i gang med en ny praktik", "borgeren er i gang med en ny  praktik", "Nyt helbredsforløb"]


def test_agreement_counts_per_phase_flag_team_and_groups_the_disagreements(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    store = Store.open(url)
    checker = Checker(ROOT / "rules", engine="python")
    people = list(PEOPLE)
    expected_overall, phases, moves, reasons, flags = Counter(), {}, Counter(), Counter(), {}
    teams: dict[str, Counter] = {}
    for index, data in enumerate(islice(generate_cohort(40, seed=3, as_of=AS_OF), 40)):
        parsed = checker.parse_record(data)
        report = checker.check(parsed, AS_OF, "da")
        user = people[index % 3]
        entry = decision_entry(report, parsed, Principal(user, "caseworker"), "opfølgning", store)
        in_period = index % 5 != 0
        if not in_period:  # logged and assessed before the period: left out
            entry = dataclasses.replace(entry, time=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
        append_decision(store, entry)
        agrees = index % 4 != 0
        chosen = None if agrees else "regress"
        reason = None if agrees else REASONS[index % 3]
        decided_flags = [flag["id"] for flag in entry.flags]
        notes = {decided_flags[0]: {"status": "not_relevant", "note": ""}} if decided_flags and index % 7 == 0 else {}
        append_assessment(store, entry.decision_id, Principal(user, "caseworker"), agrees, chosen, reason, notes)
        if not in_period:
            continue
        expected_overall[agrees] += 1
        teams.setdefault(PEOPLE[user], Counter())[agrees] += 1
        phases.setdefault(entry.phase or "none", Counter())[agrees] += 1
        for flag in decided_flags:
            verdict = notes[flag]["status"] == "acted" if flag in notes else agrees
            flags.setdefault(flag, Counter())[verdict] += 1
        if not agrees:
            moves[(entry.phase or "none", "regress")] += 1
            reasons[" ".join(reason.split()).casefold()] += 1
    store.close()
    assert expected_overall[False] and len(reasons) == 2  # two wordings of one reason are one group
    team_file = tmp_path / "teams.csv"
    team_file.write_text("user,team\n" + "".join(f"{u},{t}\n" for u, t in PEOPLE.items()), encoding="utf-8")
    args = [sys.executable, "-m", "bip_engine.cli", "log", "agreement", "--database", url]
    args += ["--since", "2026-02-01", "--until", clock.today().isoformat(), "--teams", str(team_file)]
    done = subprocess.run([*args, "--format", "json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)

    def share(counter: Counter) -> dict:
        total = counter[True] + counter[False]
        return {"agreed": counter[True], "assessed": total, "percent": round(100 * counter[True] / total, 1)}

    assert data["overall"] == share(expected_overall)
    assert data["phases"] == {phase: share(counter) for phase, counter in sorted(phases.items())}
    assert data["flags"] == {flag: share(counter) for flag, counter in sorted(flags.items())}
    assert {(row["decided"], row["chosen"]): row["count"] for row in data["disagreements"]["phases"]} == dict(moves)
    assert sorted(row["count"] for row in data["disagreements"]["reasons"]) == sorted(reasons.values())
    assert {team: item["overall"] for team, item in data["teams"].items()} == {
        team: share(counter) for team, counter in teams.items()
    }
    only_b = subprocess.run([*args, "--team", "Team B"], capture_output=True, text=True, timeout=120)
    assert only_b.returncode == 0, only_b.stderr
    b = teams["Team B"]
    assert f"{b[True]} af {b[True] + b[False]} enige" in only_b.stdout
    plain = subprocess.run(args, capture_output=True, text=True, timeout=120).stdout
    labels = {"progress": "Fremgang", "standstill": "Stilstand", "regress": "Tilbagegang", "derailment": "Afsporing"}
    for (decided, chosen), number in moves.items():  # phases by the rulebook's labels
        assert f"{labels.get(decided, decided)} → {labels[chosen]}: {number}" in plain
    english = subprocess.run([*args, "--lang", "en", "--format", "markdown"], capture_output=True, text=True)
    assert english.stdout.startswith("# Caseworkers' assessments: agreement with the checks")
    page_file = tmp_path / "agreement.html"
    html = subprocess.run([*args, "--format", "html", "-o", str(page_file)], capture_output=True, text=True)
    assert html.returncode == 0, html.stderr
    page = page_file.read_text(encoding="utf-8")
    assert '<html lang="da">' in page and "@media print" in page and "<svg" in page
    assert "<script" not in page and 'src="' not in page and 'href="' not in page
    overall = data["overall"]
    assert f"{overall['agreed']} af {overall['assessed']} enige" in page
    for team in teams:
        assert f"Team {team}: Enighed i alt" in page


def test_agreement_per_phase_rule_with_older_entries_under_an_unknown_rule(tmp_path):
    """Each assessment counts under the phase rule its check logged; entries logged before the log kept
    the rule (no `phase_rule`) are one group, shown as "(ukendt regel)"."""
    from bip_engine.log.agreement import NO_RULE, agreement, render_agreement

    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    checker = Checker(ROOT / "rules", engine="python")
    expected: dict[str, Counter] = {}
    try:
        for index, data in enumerate(islice(generate_cohort(30, seed=11, as_of=AS_OF), 30)):
            parsed = checker.parse_record(data)
            report = checker.check(parsed, AS_OF, "da")
            entry = decision_entry(report, parsed, Principal("anna", "caseworker"), "opfølgning", store)
            if index % 6 == 0:  # as an entry of the previous log schema: no phase rule
                entry = dataclasses.replace(entry, phase_rule=None)
            append_decision(store, entry)
            agrees = index % 3 != 0
            append_assessment(store, entry.decision_id, Principal("anna", "caseworker"), agrees, None, None, {})
            rule = entry.phase_rule or NO_RULE
            expected.setdefault(rule, Counter())[agrees] += 1
        found = agreement(store, AS_OF - dt.timedelta(days=1), clock.today() + dt.timedelta(days=1))
    finally:
        store.close()
    assert len(expected) > 2 and NO_RULE in expected
    assert {rule: (share.agreed, share.assessed) for rule, share in found.total.rules.items()} == {
        rule: (counter[True], counter[True] + counter[False]) for rule, counter in expected.items()
    }
    assert found.as_dict()["phase_rules"][NO_RULE]["assessed"] == sum(expected[NO_RULE].values())
    text = render_agreement(found, "text", "da")
    section = text.split("Efter faseregel:")[1].split("\n\n")[0]
    unknown = expected[NO_RULE]
    assert f"(ukendt regel): {unknown[True]} af {sum(unknown.values())}" in section
    for rule in expected.keys() - {NO_RULE}:
        assert f"  {rule}: {expected[rule][True]} af " in section
    assert "(unknown rule)" in render_agreement(found, "html", "en")
