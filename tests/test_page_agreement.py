"""The team lead's agreement view on a real `bip serve`: the counts of `bip log agreement`, in the
page's frame, for a team lead only."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import pytest

from bip_engine import Checker, clock
from bip_engine.log.agreement import agreement
from bip_engine.log.assessments import append_assessment
from bip_engine.log.decisions import append_decision, decision_entry
from bip_engine.log.store import Store
from bip_engine.log.tokens import Principal
from tests.conftest import ROOT, record
from tests.service_server import start_server

pytestmark = pytest.mark.service

AS_OF = dt.date(2026, 11, 22)


#: Who assessed which citizens, and each caseworker's team as the caseload names it.
TEAMS = {"anna": "Nord", "bo": "Syd"}
CITIZENS = {"anna": ([3, 3, 3], [4, 3, 2], [2], [5, 4, 2], [1, 2, 3]), "bo": ([3, 2, 2], [2, 2])}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    caseload = tmp_path_factory.mktemp("agreement-caseload")
    checker = Checker(ROOT / "rules", engine="python")
    entries = []
    for user, levels_list in CITIZENS.items():
        assignment = [{"id": user, "from": "2025-01-01", "team": TEAMS[user]}]
        for index, levels in enumerate(levels_list):
            data = record(levels, id=f"{user}-{index}", caseworkers=assignment)
            (caseload / f"{user}-{index}.json").write_text(json.dumps(data), encoding="utf-8")
            entries.append((user, index, checker.parse_record(data)))
    running = start_server(tmp_path_factory.mktemp("agreement"), "--engine", "python", "--caseload", caseload)
    store = Store.open(running.database)
    for user, index, parsed in entries:
        who = Principal(user, "caseworker")
        entry = decision_entry(checker.check(parsed, AS_OF, "da"), parsed, who, "opfølgning", store)
        append_decision(store, entry)
        agrees = user == "anna" and index % 2 == 0
        reason = None if agrees else "Borgeren har fået nyt job på prøve"
        append_assessment(store, entry.decision_id, who, agrees, None if agrees else "progress", reason, {})
    store.close()
    yield running
    running.stop()


def client_for(server, role: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    assert client.post("/login", data={"csrf": csrf, "token": server.tokens[role]}).status_code == 303
    return client


def _row(table: str, marker: str) -> tuple[str, list[str]]:
    """The row of an HTML table holding `marker`: its heading cell's text and its data cells' texts."""
    row = next(part for part in table.split("<tr>") if marker in part)
    heading = re.sub(r"<[^>]+>", "", row.split("</th>")[0])
    return heading, re.findall(r"<td[^>]*>([^<]*)</td>", row)


def test_a_team_lead_sees_the_share_agreed_and_the_reasons(server):
    store = Store.open(server.database)
    try:
        total = agreement(store, clock.today() - dt.timedelta(days=30), clock.today()).total
        expected = total.overall
    finally:
        store.close()
    assert expected.assessed == 7 and expected.agreed == 3
    client = client_for(server, "team_lead")
    try:
        page = client.get("/agreement")
        assert page.status_code == 200
        assert f"enige i {expected.agreed} af {expected.assessed} vurderede tjek" in page.text
        assert "4 × Borgeren har fået nyt job på prøve" in page.text
        assert "→ Fremgang:" in page.text  # the chosen phase by its label
        rules = page.text[page.text.index('id="agreement-phase_rules"') :].split("</table>")[0]
        assert total.rules and sum(share.assessed for share in total.rules.values()) == expected.assessed
        reasons = {rule.id: rule.reason.get("da") for rule in Checker(engine="python").rulebook.rules["phase"]}
        for rule, share in total.rules.items():  # per phase rule too, each with its counts (issue 18)
            heading, counts = _row(rules, f">{rule}</code>")
            assert counts[:2] == [str(share.agreed), str(share.assessed)]
            assert reasons[rule] in heading  # named in words, the id beside them
        flags = page.text[page.text.index('id="agreement-flags"') :].split("</table>")[0]
        assert total.flags
        for flag, share in total.flags.items():  # flags by their titles as the templates write them
            heading, counts = _row(flags, f">{flag}</code>")
            assert counts[:2] == [str(share.agreed), str(share.assessed)]
            template = (ROOT / "guidance" / "da" / "flags" / f"{flag}.j2").read_text(encoding="utf-8")
            title = re.search(r"{% block title %}(.*?){% endblock %}", template, re.S).group(1)
            if "{" not in title:  # a title that does not depend on the citizen
                assert title.strip() in heading
        english = client.get("/agreement?lang=en&since=2020-01-01")
        assert f"agreed with {expected.agreed} of {expected.assessed} assessed checks" in english.text
        empty = client.get("/agreement?since=2020-01-01&until=2020-12-31")
        assert "0 of 0" in empty.text or "0 af 0" in empty.text
        bad = client.get("/agreement?since=2026-13-01")
        assert bad.status_code == 422
    finally:
        client.close()


def test_a_caseworker_is_refused(server):
    client = client_for(server, "caseworker")
    try:
        assert client.get("/agreement").status_code == 403
    finally:
        client.close()


def test_a_team_lead_sees_each_team_and_can_narrow_the_page_to_one(server):
    """The teams come from the caseload's caseworker assignments, as `bip log agreement --teams` takes them."""
    store = Store.open(server.database)
    try:
        today = clock.today()
        report = agreement(store, today - dt.timedelta(days=30), today, teams=TEAMS)
        south = agreement(store, today - dt.timedelta(days=30), today, teams=TEAMS, team="Syd").total
    finally:
        store.close()
    assert set(report.teams) == {"Nord", "Syd"} and south.overall.assessed == len(CITIZENS["bo"])
    client = client_for(server, "team_lead")
    try:
        page = client.get("/agreement")
        table = page.text[page.text.index('id="agreement-teams"') :].split("</table>")[0]
        for team, group in report.teams.items():
            share = group.overall
            _heading, counts = _row(table, f'<th scope="row">{team}</th>')
            assert counts[:2] == [str(share.agreed), str(share.assessed)]
        narrowed = client.get("/agreement?team=Syd")
        assert narrowed.status_code == 200
        assert f"enige i {south.overall.agreed} af {south.overall.assessed} vurderede tjek" in narrowed.text
        assert '<option value="Syd" selected>' in narrowed.text
        unknown = client.get("/agreement?team=Vest")
        assert "enige i 0 af 0 vurderede tjek" in unknown.text
    finally:
        client.close()
