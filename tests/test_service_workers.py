"""`bip serve --workers 2` under gunicorn: a worker whose master is killed stops instead of living on
as an orphan."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.service_server import wait_for, worker_pids

pytestmark = pytest.mark.service


def test_workers_stop_when_their_supervisor_is_killed(bip_server):
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    workers = worker_pids(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)

    def gone(pid: int) -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        return "\nState:\tZ" in status

    wait_for(lambda: all(gone(pid) for pid in workers), timeout=30, what="the orphaned workers to stop")
