"""A `bip serve` killed with SIGKILL in the middle of a load loses no logged decision and starts again."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from bip_engine.log.decisions import count_decisions, find_decision
from bip_engine.log.pseudonyms import pseudonym
from bip_engine.log.store import Store
from tests.conftest import record
from tests.service_server import start_server

pytestmark = [pytest.mark.service, pytest.mark.slow]

CLIENTS = 6


def test_sigkill_under_load_leaves_an_entry_for_every_answer_and_restarts(tmp_path):
    server = start_server(tmp_path / "first", "--engine", "python")
    received: list[tuple[str, str]] = []  # (decision id, citizen)
    failures: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        with server.client("caseworker", timeout=10) as http:
            number = 0
            while True:
                citizen = f"KILL-{index}-{number}"
                try:
                    response = http.post(
                        "/v1/check",
                        params={"purpose": "nedbrud"},
                        content=json.dumps(record([3, 2, 4], id=citizen)),
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError as error:
                    with lock:
                        failures.append(repr(error))
                    return
                if response.status_code == 200:
                    with lock:
                        received.append((response.headers["x-decision-id"], citizen))
                number += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(received) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        for thread in threads:
            thread.join(20)
    assert server.process.returncode == -signal.SIGKILL
    assert len(received) >= 150 and len(failures) == CLIENTS  # every client saw the connection go

    store = Store.open(server.database)
    try:
        for decision_id, citizen in received:
            entry = find_decision(store, decision_id)
            assert entry is not None, f"answer {decision_id} has no log entry"
            assert entry["citizen"] == pseudonym(store, citizen) and entry["phase"] and entry["record_hash"]
        logged = count_decisions(store)
    finally:
        store.close()
    assert len(received) <= logged <= len(received) + CLIENTS  # at most the requests in flight lack an answer

    again = start_server(tmp_path / "second", "--engine", "python", database=server.database, tokens=server.tokens)
    try:
        answer = httpx.post(
            again.base_url + "/v1/check",
            params={"purpose": "efter nedbrud"},
            content=json.dumps(record([3], id="AFTER")),
            headers=again.headers("caseworker", **{"Content-Type": "application/json"}),
        )
        assert answer.status_code == 200
        assert httpx.get(again.base_url + "/readyz").json()["ready"] is True
    finally:
        again.stop()
    store = Store.open(server.database)
    try:
        assert count_decisions(store) == logged + 1
    finally:
        store.close()
