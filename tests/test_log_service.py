"""Every look at a citizen's data is logged, and one bad entry never fails another (issue 16).

Against the real `bip serve`: a batch needs a purpose and leaves one entry per citizen; the log is
searched by POST (a citizen id in a URL is gone); a value the log refuses (a 300-character proxy
user) is a 422 for that request alone, while the requests committed with it succeed, on SQLite and
on a real PostgreSQL. The group commit itself: a row the database refuses fails only its request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bip_engine import Checker
from bip_engine.log.decisions import append_decision, count_decisions, decision_entry, decision_values, decisions_for
from bip_engine.log.maintenance import verify_log
from bip_engine.log.store import Store
from bip_engine.service.writer import DecisionWriter
from tests.conftest import ROOT, record
from tests.postgres import new_database
from tests.test_store import ANNA, checked

pytestmark = pytest.mark.service
AS_OF = "2026-11-22"
PROBLEM = "application/problem+json"


def decisions_of(database: str, citizen: str) -> list[dict]:
    store = Store.open(database)
    try:
        return decisions_for(store, citizen)
    finally:
        store.close()


def test_a_batch_needs_a_purpose_and_logs_each_citizen(service):
    lines = [json.dumps(record([3, 3], id=f"BATCH-{n}")) for n in range(3)] + ['{"id": "BAD", "measurements": 7}']
    body = "\n".join(lines) + "\n"
    headers = service.headers("team_lead", **{"Content-Type": "application/x-ndjson"})
    url = service.base_url + "/v1/batch"
    refused = httpx.post(url, params={"as_of": AS_OF}, content=body, headers=headers, timeout=30)
    assert refused.status_code == 400 and refused.headers["content-type"] == PROBLEM  # a missing parameter
    assert decisions_of(service.database, "BATCH-0") == []  # nothing was read without a purpose
    answer = httpx.post(url, params={"as_of": AS_OF, "purpose": "ugentlig triage"}, content=body, headers=headers)
    assert answer.status_code == 200
    rows = [json.loads(line) for line in answer.text.splitlines()]
    sent = {row["citizen_id"]: row for row in rows if "citizen_id" in row}
    assert sorted(sent) == ["BATCH-0", "BATCH-1", "BATCH-2"]
    checker = Checker(ROOT / "rules", engine="python")
    for citizen, row in sent.items():
        [entry] = decisions_of(service.database, citizen)
        assert (entry["kind"], entry["purpose"], entry["user"], entry["role"]) == (
            "batch",
            "ugentlig triage",
            "team_lead",
            "team_lead",
        )
        assert entry["phase"] == row["phase"] and [flag["id"] for flag in entry["flags"]] == row["flags"]
        assert entry["as_of"] == AS_OF
        report = checker.check(checker.parse_record(record([3, 3], id=citizen)), as_of=dt.date.fromisoformat(AS_OF))
        assert report.phase is not None and entry["phase_rule"] == report.phase.rule  # as a check's entry names it
    assert decisions_of(service.database, "BAD") == []  # a rejected line showed no one's data


def test_the_log_is_searched_by_post_never_by_url(service):
    assert httpx.post(
        service.base_url + "/v1/check",
        params={"purpose": "møde", "as_of": AS_OF},
        json=record([3], id="URL-1"),
        headers=service.headers("caseworker"),
    ).is_success
    old = httpx.get(service.base_url + "/v1/log", params={"citizen": "URL-1"}, headers=service.headers("auditor"))
    assert old.status_code in (404, 405) and "URL-1" not in old.text
    search = httpx.post(
        service.base_url + "/v1/log/search",
        json={"citizen": "URL-1", "purpose": "indsigt"},
        headers=service.headers("auditor"),
    )
    assert search.status_code == 200 and [item["kind"] for item in search.json()["decisions"]] == ["check", "log-read"]
    no_purpose = httpx.post(
        service.base_url + "/v1/log/search", json={"citizen": "URL-1"}, headers=service.headers("auditor")
    )
    assert no_purpose.status_code in (400, 422)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite'}"
    request.getfixturevalue("log_keys")
    return new_database(request.getfixturevalue("postgres_url"))


def test_an_over_long_proxy_user_is_422_and_fails_no_other_request(bip_server, database):
    server = bip_server("--engine", "python", "--trust-proxy", "X-Remote-User", database=database)
    body = json.dumps(record([3, 4], id="GROUP-1"))

    def ask(user: str) -> int:
        return httpx.post(
            server.base_url + "/v1/check",
            params={"purpose": "møde", "as_of": AS_OF},
            content=body,
            headers={"X-Remote-User": user, "X-Remote-User-Role": "caseworker", "Content-Type": "application/json"},
            timeout=30,
        ).status_code

    users = ["x" * 300 if n % 20 == 7 else f"user{n}" for n in range(120)]
    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(ask, users))
    long_ones = [status for user, status in zip(users, statuses, strict=True) if len(user) == 300]
    others = [status for user, status in zip(users, statuses, strict=True) if len(user) != 300]
    assert set(long_ones) == {422}
    assert others == [200] * len(others)
    assert len(decisions_of(database, "GROUP-1")) == len(others)
    store = Store.open(database)
    try:
        assert verify_log(store) == []
    finally:
        store.close()


def test_a_row_the_database_refuses_fails_only_its_own_request(database):
    """The group commit: twenty entries committed together, one of them a duplicate decision id."""
    store = Store.open(database)
    checker = Checker(ROOT / "rules", engine="python")
    parsed, report = checked(checker)
    first = decision_entry(report, parsed, ANNA, "møde", store)
    append_decision(store, first)
    rows = [decision_values(decision_entry(report, parsed, ANNA, f"møde {n}", store)) for n in range(20)]
    rows[9] = decision_values(dataclasses.replace(first, purpose="again"))  # the database refuses this one

    async def commit_together() -> list[object]:
        writer = DecisionWriter(store)
        for _ in rows:
            writer.begin()
        try:
            return await asyncio.gather(*(writer.append(row, begun=True) for row in rows), return_exceptions=True)
        finally:
            writer.stop()

    try:
        outcomes = asyncio.run(commit_together())
        assert [index for index, outcome in enumerate(outcomes) if outcome is not None] == [9]
        assert count_decisions(store) == 1 + 19
        assert verify_log(store) == []
    finally:
        store.close()
