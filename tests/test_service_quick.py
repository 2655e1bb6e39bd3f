"""The quick route for `POST /v1/check` answers as the FastAPI route does, and workers share connections evenly.

Two real servers on one decision log: the default one (quick route on) and `--no-quick-check`.
- The same requests get the same status, headers (but the decision id and the date) and body, for
  plain checks in every format and language and for every kind of request the quick route hands on
  (bad parameters, tokens, roles, content types, bodies, records).
- The quick route really answered the plain ones (`bip_quick_checks_total`), and the log entries of
  both servers are the same but for their ids and times.
- `--workers 2`: the supervisor hands the connections over in turn (16 and 16 of 32), and a worker
  whose supervisor is killed stops instead of living on as an orphan.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
import yaml

from bip_engine.caseload.simulate import generate_cohort
from bip_engine.service.store import Store
from tests.service_server import make_tokens, wait_for

pytestmark = [pytest.mark.service, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SKIPPED_HEADERS = {"x-decision-id", "date"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(quick server, FastAPI-only server), both on one SQLite log."""
    from tests.service_server import start_server

    folder = tmp_path_factory.mktemp("quick")
    database = f"sqlite:///{folder / 'log.sqlite'}"
    tokens = make_tokens(database)
    quick = start_server(folder / "quick", "--engine", "python", database=database, tokens=tokens)
    full = start_server(folder / "full", "--engine", "python", "--no-quick-check", database=database, tokens=tokens)
    yield quick, full
    quick.stop()
    full.stop()


def _bodies() -> list[str]:
    examples = [json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str) for path in EXAMPLES]
    cohort = [json.dumps(record, default=str, ensure_ascii=False) for record in generate_cohort(6, seed=5)]
    return examples + cohort


def _post(server, body: str | bytes, params: dict | list, role: str | None = "caseworker", **headers: str):
    given = server.headers(role, **{"Content-Type": "application/json", **headers})
    return httpx.post(server.base_url + "/v1/check", params=params, content=body, headers=given, timeout=30)


def _same(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code, (first.text, second.text)
    assert first.content == second.content
    assert [(k, v) for k, v in first.headers.items() if k not in SKIPPED_HEADERS] == [
        (k, v) for k, v in second.headers.items() if k not in SKIPPED_HEADERS
    ]


def _quick_count(server) -> int:
    text = httpx.get(server.base_url + "/metrics", headers=server.headers("system")).text
    return int(re.search(r"^bip_quick_checks_total (\d+)$", text, re.MULTILINE).group(1))


def test_plain_checks_get_the_same_answers_and_log_entries_from_both_routes(pair):
    quick, full = pair
    _post(quick, _bodies()[0], {"purpose": "warm the token cache"})
    before = _quick_count(quick)
    ids = []
    for index, body in enumerate(_bodies()):
        params = {
            "purpose": f"møde {index}",
            "as_of": "2026-11-22",
            "lang": ("da", "en")[index % 2],
            "format": ("json", "markdown", "text")[index % 3],
        }
        if index % 4 == 0:
            params["rules_as_of"] = "2026-06-01"
        answers = [_post(server, body, params) for server in (quick, full)]
        _same(*answers)
        assert answers[0].status_code == 200
        ids.append([answer.headers["x-decision-id"] for answer in answers])
    assert _quick_count(quick) == before + len(ids)
    assert _quick_count(full) == 0
    store = Store.open(quick.database)
    try:
        for quick_id, full_id in ids:
            entries = [store.decision(decision_id) for decision_id in (quick_id, full_id)]
            for entry in entries:
                assert entry is not None
                entry.pop("decision_id")
                entry.pop("time")
            assert entries[0] == entries[1]
    finally:
        store.close()


HANDED_ON = [
    ("bad lang", {"purpose": "x", "lang": "fr"}, {}, "caseworker"),
    ("impossible date", {"purpose": "x", "as_of": "2026-02-30"}, {}, "caseworker"),
    ("date and time", {"purpose": "x", "as_of": "2026-11-22T00:00:00"}, {}, "caseworker"),
    ("no purpose", {}, {}, "caseworker"),
    ("empty purpose", {"purpose": ""}, {}, "caseworker"),
    ("control character", {"purpose": "a\x01b"}, {}, "caseworker"),
    ("long purpose", {"purpose": "x" * 201}, {}, "caseworker"),
    ("repeated parameter", [("purpose", "a"), ("purpose", "b")], {}, "caseworker"),
    ("bad format", {"purpose": "x", "format": "pdf"}, {}, "caseworker"),
    ("no token", {"purpose": "x"}, {}, None),
    ("role may not", {"purpose": "x"}, {}, "policy"),
    ("other content type", {"purpose": "x"}, {"Content-Type": "text/csv"}, "caseworker"),
]


@pytest.mark.parametrize(("what", "params", "headers", "role"), HANDED_ON, ids=[case[0] for case in HANDED_ON])
def test_requests_the_quick_route_hands_on_are_answered_as_before(pair, what, params, headers, role):
    quick, full = pair
    body = _bodies()[0]
    _same(*[_post(server, body, params, role, **headers) for server in (quick, full)])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"{not json",
        b"\xff\xfe not utf-8",
        b"[]",
        json.dumps({"id": "A", "measurements": [{"date": "2026-13-01", "scores": {}}]}).encode(),
        json.dumps({"id": "A", "measurements": "many"}).encode(),
    ],
    ids=["empty", "blank", "not json", "not utf-8", "a list", "impossible date", "wrong shape"],
)
def test_bodies_that_are_not_a_valid_record_are_answered_as_before(pair, body):
    quick, full = pair
    for server in (quick, full):
        _post(server, _bodies()[0], {"purpose": "warm the token cache"})
    answers = [_post(server, body, {"purpose": "x"}) for server in (quick, full)]
    _same(*answers)
    assert answers[0].status_code in (400, 422)


def test_an_unknown_token_is_refused_by_both(pair):
    quick, full = pair
    headers = {"Authorization": "Bearer not-a-token", "Content-Type": "application/json"}
    answers = [
        httpx.post(server.base_url + "/v1/check", params={"purpose": "x"}, content=_bodies()[0], headers=headers)
        for server in (quick, full)
    ]
    _same(*answers)
    assert answers[0].status_code == 401


def _sockets(pid: int) -> int:
    folder = Path(f"/proc/{pid}/fd")
    count = 0
    for entry in folder.iterdir():
        try:
            count += os.readlink(entry).startswith("socket:")
        except OSError:
            continue
    return count


def _workers(server) -> list[int]:
    pid = server.process.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_workers_get_the_connections_in_turn(bip_server):
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    time.sleep(0.5)  # and to tell the supervisor they are ready
    workers = _workers(server)
    before = {pid: _sockets(pid) for pid in workers}
    port = int(server.base_url.rsplit(":", 1)[1])
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        for client in clients:  # each connection answers, so each has been handed over
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        added = sorted(_sockets(pid) - before[pid] for pid in workers)
        assert added == [16, 16]
    finally:
        for client in clients:
            client.close()


def test_workers_stop_when_their_supervisor_is_killed(bip_server):
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    workers = _workers(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)

    def gone(pid: int) -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        return "\nState:\tZ" in status

    wait_for(lambda: all(gone(pid) for pid in workers), timeout=30, what="the orphaned workers to stop")


def test_today_is_the_default_date_on_both_routes(pair):
    quick, full = pair
    before = dt.date.today().isoformat()
    answers = [_post(server, _bodies()[0], {"purpose": "x"}) for server in (quick, full)]
    days = {before, dt.date.today().isoformat()}  # the same day, unless the test runs over midnight
    assert all(answer.json()["as_of"] in days for answer in answers)
