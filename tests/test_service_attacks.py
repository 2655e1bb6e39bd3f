"""`bip serve` under the attacks of issue 16, on the real server (gunicorn, uvicorn workers) over TCP.

Each test is one outage found on 127.0.0.1: bare-connection bursts, a failed reload followed by a
killed worker, an endless request head, a stalled body, a batch body without newlines, a forged
log line, a query string in the log, SIGTERM during a long batch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import httpx
import pytest

from tests.conftest import record
from tests.service_server import wait_for, worker_pids

pytestmark = [pytest.mark.service, pytest.mark.slow]


def _port(server) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def _check(server, role: str = "caseworker", **params) -> httpx.Response:
    return httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "test", **params},
        content=json.dumps(record([3, 4, 2])),
        headers=server.headers(role, **{"Content-Type": "application/json"}),
        timeout=30,
    )


def test_three_bursts_of_two_thousand_bare_connections_leave_it_serving(bip_server):
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    workers = worker_pids(server)
    for _ in range(3):
        held = []
        for _ in range(2000):
            try:
                held.append(socket.create_connection(("127.0.0.1", _port(server)), timeout=5))
            except OSError:
                break
        time.sleep(1)
        for connection in held:
            connection.close()
        time.sleep(3)
        assert server.process.poll() is None, server.log()[-2000:]
    assert _check(server).status_code == 200
    assert sorted(worker_pids(server)) == sorted(workers)  # no worker ended or was replaced
    assert server.process.poll() is None


def test_a_failed_reload_then_a_killed_worker_keeps_the_last_good_rules(bip_server, rules_copy):
    server = bip_server("--engine", "python", "--rules", str(rules_copy), "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    version = httpx.get(server.base_url + "/readyz").json()["rulebook"]["version"]
    (rules_copy / "phases.yaml").write_text("", encoding="utf-8")
    server.signal(signal.SIGHUP)
    wait_for(
        lambda: httpx.get(server.base_url + "/readyz").json()["last_reload_error"] is not None,
        what="/readyz to name the failed reload",
    )
    for _ in range(3):  # kill a worker: the one started again must not load the broken files
        os.kill(worker_pids(server)[0], signal.SIGKILL)
        time.sleep(1.5)
    wait_for(lambda: len(worker_pids(server)) == 2, what="gunicorn to start the killed workers again")
    assert server.process.poll() is None, server.log()[-3000:]
    for _ in range(6):
        answer = _check(server)
        assert answer.status_code == 200 and answer.json()["rulebook"]["version"] == version
    ready = httpx.get(server.base_url + "/readyz")
    assert ready.status_code == 200
    problems = ready.json()["last_reload_error"]["problems"]
    assert problems and problems[0]["path"] == "phases.yaml"
    assert str(rules_copy) not in ready.text and str(server.workdir) not in ready.text  # no absolute path


def _send_until_refused(server, head: bytes, chunk: bytes, limit: int) -> bytes:
    """Send `head`, then `chunk` again and again up to `limit` bytes; what the server answered (b"" if nothing)."""
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as client:
        client.sendall(head)
        sent = 0
        try:
            while sent < limit:
                client.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        client.settimeout(5)
        try:
            return client.recv(4096)
        except OSError:
            return b""


def test_an_endless_request_head_is_refused_early(bip_server):
    server = bip_server("--engine", "python")
    line = b"X-Filler: " + b"a" * 990 + b"\r\n"
    answer = _send_until_refused(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", line, 20_000_000)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert _check(server).status_code == 200


def test_a_stalled_body_is_closed_after_the_request_timeout(bip_server):
    server = bip_server("--engine", "python", "--request-timeout", "2")
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=15) as client:
        token = server.tokens["caseworker"]
        client.sendall(
            b"POST /v1/check?purpose=x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n{"
        )
        started = time.monotonic()
        answer = client.recv(4096)
        waited = time.monotonic() - started
    assert waited < 10
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_stalled_request_head_is_closed_after_the_request_timeout(bip_server):
    server = bip_server("--engine", "python", "--request-timeout", "2")
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=15) as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert client.recv(4096) == b""
        assert time.monotonic() - started < 10


def test_a_batch_body_without_newlines_costs_linear_time(bip_server):
    server = bip_server("--engine", "python")
    size = 40_000_000

    def body():
        piece = b"x" * 65_536
        for _ in range(size // len(piece)):
            yield piece

    started = time.monotonic()
    answer = httpx.post(
        server.base_url + "/v1/batch",
        params={"purpose": "ugentlig triage"},
        content=body(),
        headers=server.headers("team_lead", **{"Content-Type": "application/x-ndjson"}),
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert answer.status_code == 200
    last = json.loads(answer.text.strip().splitlines()[-1])
    assert last["summary"]["rejected"] == 1 and last["summary"]["complete"] is True
    assert seconds < 8, seconds  # the old code spent minutes re-searching the growing line


def test_no_request_can_write_a_line_of_its_own_into_the_server_log(bip_server):
    server = bip_server("--engine", "python", "--access-log")
    forged = "2026-12-03 12:00:00 INFO bip.service: FORGED"
    httpx.get(server.base_url + "/static/x%0a" + forged.replace(" ", "%20"))
    httpx.get(server.base_url + "/v1/check%0d%0a" + forged.replace(" ", "%20"))
    wait_for(lambda: server.log().count("bip.access") >= 2, what="the access lines")
    lines = server.log().splitlines()
    assert not any(line.startswith(forged[:20]) for line in lines)
    assert not any("FORGED" in line and not line.startswith("20") for line in lines)


def test_the_access_log_never_shows_a_query_string(bip_server):
    server = bip_server("--engine", "python", "--access-log")
    secret = "bip_notarealtoken0123456789"
    httpx.get(server.base_url + f"/v1/log?citizen=SIM-424242&access_token={secret}", headers=server.headers("auditor"))
    decision = _check(server, who="SIM-434343").headers["X-Decision-Id"]
    wait_for(lambda: "/v1/check" in server.log(), what="the access line of the check")
    log = server.log()
    assert "SIM-424242" not in log and secret not in log and "SIM-434343" not in log
    (line,) = [line for line in log.splitlines() if "bip.access" in line and "/v1/check" in line]
    assert "user=caseworker" in line and f"decision_id={decision}" in line  # who and which, but not whom


def test_sigterm_lets_a_long_batch_finish_within_the_graceful_timeout(bip_server):
    server = bip_server("--engine", "python", "--graceful-timeout", "30")
    rows = 14
    line = (json.dumps(record([3, 4, 2])) + "\n").encode()

    def slow_body():
        for index in range(rows):
            if index == 1:
                threading.Timer(0.5, server.signal, (signal.SIGTERM,)).start()
            yield line
            time.sleep(1)  # longer than the old fixed 10 s in all

    answer = httpx.post(
        server.base_url + "/v1/batch",
        params={"purpose": "ugentlig triage"},
        content=slow_body(),
        headers=server.headers("team_lead", **{"Content-Type": "application/x-ndjson"}),
        timeout=60,
    )
    lines = [json.loads(text) for text in answer.text.strip().splitlines()]
    trailer = lines[-1]["summary"]
    assert trailer["complete"] is True and trailer["evaluated"] == rows
    server.process.wait(30)
    assert server.process.returncode == 0


def _duplex_batch(server, lines: list[bytes], gap: float, on_line=None) -> tuple[list[dict], bool]:
    """POST /v1/batch with a chunked body sent one line every `gap` seconds while the answer is read.

    Returns the answer's lines, parsed, as far as they came, and whether the connection ended
    cleanly (not reset). The client streams both ways, so it sees the answer even when the server
    stops reading the body; once it has the trailer it ends its body, as a streaming client that
    reads the answer would. `on_line(index)` is called before each line is sent.
    """
    connection = socket.create_connection(("127.0.0.1", _port(server)), timeout=60)
    head = (
        "POST /v1/batch?purpose=ugentlig%20triage HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {server.tokens['team_lead']}\r\n"
        "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    connection.sendall(head.encode())
    answered = threading.Event()

    def send() -> None:
        try:
            for index, line in enumerate(lines):
                if answered.is_set():
                    break
                if on_line is not None:
                    on_line(index)
                connection.sendall(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                time.sleep(gap)
            connection.sendall(b"0\r\n\r\n")
        except OSError:  # the server closed: the answer says where it stopped
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received, clean = b"", True
    try:
        while chunk := connection.recv(65536):
            received += chunk
            if b'"summary"' in received:
                answered.set()
    except ConnectionResetError:
        clean = False
    sender.join(10)
    connection.close()
    head_part, _, body = received.partition(b"\r\n\r\n")
    assert head_part.startswith(b"HTTP/1.1 200"), head_part[:200]
    text = b""
    while body:  # undo the chunked transfer coding
        size, _, rest = body.partition(b"\r\n")
        if not size or int(size, 16) == 0:
            break
        text, body = text + rest[: int(size, 16)], rest[int(size, 16) + 2 :]
    return [json.loads(line) for line in text.decode().splitlines()], clean


def test_sigterm_ends_a_batch_longer_than_the_grace_with_a_trailer_naming_where_to_resume(bip_server):
    from bip_engine.log.decisions import decisions_for
    from bip_engine.log.store import Store
    from bip_engine.service.openapi_parts import BatchError, BatchTrailer

    server = bip_server("--engine", "python", "--graceful-timeout", "2")
    lines = [(json.dumps(record([3, 4, 2], id=f"LONG-{n}")) + "\n").encode() for n in range(40)]

    def sigterm_at_the_third(index: int) -> None:
        if index == 2:
            server.signal(signal.SIGTERM)

    started = time.monotonic()
    answer, clean = _duplex_batch(server, lines, 0.25, sigterm_at_the_third)  # 10 s of body: longer than the grace
    took = time.monotonic() - started
    *rows, error, last = answer
    trailer = last["summary"]
    assert trailer["complete"] is False
    assert error["error"]["type"].endswith(":shutting-down") and error["error"]["status"] == 503
    resume = trailer["next_line"]
    assert [row["citizen_id"] for row in rows] == [f"LONG-{n}" for n in range(resume - 1)]  # every line before it
    assert 3 <= resume <= len(lines) and trailer["read"] == trailer["evaluated"] == resume - 1
    assert took < 2 + 3  # the grace, and the time to start sending
    assert clean  # not reset: the server read what the client still sent, and its answer arrived whole
    assert (
        BatchError.model_validate(error) and BatchTrailer.model_validate(last).summary.next_line == resume
    )  # as typed
    server.process.wait(30)
    store = Store.open(server.database)
    try:
        for row in rows:  # every row the client got has its log entry
            assert [entry["kind"] for entry in decisions_for(store, row["citizen_id"])] == ["batch"]
        assert decisions_for(store, f"LONG-{resume - 1}") == []  # and the line not processed has none
    finally:
        store.close()


def test_a_batch_client_that_goes_away_mid_body_leaves_no_read_running(bip_server):
    server = bip_server("--engine", "python")
    connection = socket.create_connection(("127.0.0.1", _port(server)), timeout=30)
    line = (json.dumps(record([3, 4, 2], id="GONE-1")) + "\n").encode()
    connection.sendall(
        (
            "POST /v1/batch?purpose=ugentlig%20triage HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {server.tokens['team_lead']}\r\n"
            "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + f"{len(line):x}\r\n".encode()
        + line
        + b"\r\n"
    )
    received = b""
    while b"GONE-1" not in received:  # the row of the first line: the stream waits for the next chunk now
        received += connection.recv(65536)
    connection.close()
    time.sleep(1.5)
    assert _check(server).status_code == 200
    log = server.log()
    for trouble in ("never retrieved", "was destroyed but it is pending", "Traceback", "incident"):
        assert trouble not in log, log[-3000:]
