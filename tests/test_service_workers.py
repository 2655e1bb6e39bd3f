"""`bip serve --workers 2`: the supervisor hands the connections over in turn (16 and 16 of 32), and a
worker whose supervisor is killed stops instead of living on as an orphan."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.service_server import wait_for

pytestmark = pytest.mark.service


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
