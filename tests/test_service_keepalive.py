"""Kept-alive connections spread over the workers: taken in turns, and closed after `--keepalive-requests`.

On the real server (gunicorn, uvicorn workers) over TCP: `http.client` keeps a connection open
until the server says `Connection: close`; how many connections each worker holds is read from
/proc (`connection_split`).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket

import pytest

from tests.service_server import connection_split, wait_for, worker_pids

pytestmark = [pytest.mark.service, pytest.mark.slow]


def _closing_answers(server, requests: int) -> list[bool]:
    """For each of `requests` GET /healthz on one connection: whether its answer closes the connection."""
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    closing = []
    try:
        for _ in range(requests):
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            closing.append(answer.will_close)
            if answer.will_close:
                break
    finally:
        connection.close()
    return closing


def test_a_connection_is_closed_by_the_answer_to_its_hundredth_request(bip_server):
    server = bip_server("--engine", "python")
    closing = _closing_answers(server, 150)
    assert closing == [False] * 99 + [True]


def test_the_number_of_requests_a_connection_serves_is_an_option_and_a_setting(bip_server):
    assert _closing_answers(bip_server("--engine", "python", "--keepalive-requests", "3"), 10) == [False, False, True]
    server = bip_server("--engine", "python", env={"BIP_KEEPALIVE_REQUESTS": "1"})
    assert _closing_answers(server, 10) == [True]


def test_a_burst_of_connections_is_shared_by_the_workers(bip_server):
    """A client pool opening 32 connections at once: each of two workers holds about half (one took 31 before)."""
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    port = int(server.base_url.rsplit(":", 1)[1])
    for _ in range(4):
        burst = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
        try:
            wait_for(lambda: sum(connection_split(server)) == 32, timeout=10, what="all 32 accepted")
            split = connection_split(server)
            assert len(split) == 2 and min(split) >= 12, split
        finally:
            for connection in burst:
                connection.close()
        wait_for(lambda: sum(connection_split(server)) == 0, timeout=10, what="the burst's connections closed")


def test_a_worker_that_cannot_accept_leaves_no_connection_waiting(bip_server):
    """A stopped worker takes nothing: the other leaves each connection to it for a moment, then takes it."""
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    stuck = worker_pids(server)[0]
    os.kill(stuck, signal.SIGSTOP)
    try:
        held = []
        for _ in range(12):  # each new connection answered, while the stopped worker holds none of them
            connection = http.client.HTTPConnection(*server.base_url.removeprefix("http://").rsplit(":", 1), timeout=5)
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
            held.append(connection)
        assert sorted(connection_split(server)) == [0, 12]
        # a burst now: after one connection left waiting in vain, the other worker accepts without
        # waiting (at one wait of 10 ms a connection, 400 would take four seconds)
        port = int(server.base_url.rsplit(":", 1)[1])
        burst = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(400)]
        wait_for(lambda: sorted(connection_split(server)) == [0, 412], timeout=2, what="the burst accepted")
        for connection in held + burst:
            connection.close()
    finally:
        os.kill(stuck, signal.SIGCONT)


def test_taking_turns_serves_as_uvicorns_server_accepting_until_closed():
    """In one process: a connection is accepted and given to a protocol; after close (and wait_closed, as uvicorn calls them) none is."""
    import asyncio

    from bip_engine.service.connections import TakingTurns

    async def scenario() -> tuple[int, bool]:
        loop = asyncio.get_running_loop()
        made: list[asyncio.Protocol] = []

        def protocol() -> asyncio.Protocol:
            made.append(asyncio.Protocol())
            return made[-1]

        listener = socket.create_server(("127.0.0.1", 0))
        turns = TakingTurns(listener, protocol, loop, connections=set())
        port = listener.getsockname()[1]
        first = socket.create_connection(("127.0.0.1", port))
        while not made:
            await asyncio.sleep(0.01)
        turns.close()
        await turns.wait_closed()
        second = socket.create_connection(("127.0.0.1", port))  # the kernel still queues it; nobody accepts
        await asyncio.sleep(0.2)
        accepted_after_close = len(made) > 1
        for each in (first, second, listener):
            each.close()
        return len(made), accepted_after_close

    assert asyncio.run(scenario()) == (1, False)
