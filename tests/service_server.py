"""Fixtures that run the real `bip serve` (gunicorn and uvicorn, a subprocess on a free port, a temporary SQLite log).

`bip_server` is a factory: `bip_server("--rules", folder, ...)` starts a server with extra CLI
arguments and returns a `RunningServer` (base_url, a token for every role, the database URL, the
process). Servers are stopped at the end of the test. `service` is one default server shared by a
test module.

Tokens are made with the Store API before the server starts, one per role (`tokens["caseworker"]`...).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bip_engine.log.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("caseworker", "team_lead", "policy", "auditor", "system", "metrics")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_tokens(database: str) -> dict[str, str]:
    """A token for every role in the log at `database` (names are the roles)."""
    from bip_engine.log.store import Store
    from bip_engine.log.tokens import ROLES as KNOWN  # an older install (a benchmark's "before") may lack some

    store = Store.open(database)
    try:
        return {role: create_token(store, role, role) for role in ROLES if role in KNOWN}
    finally:
        store.close()


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Poll `condition` every 50 ms until it is true; fail after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class RunningServer:
    """One `bip serve` process and what a test needs to talk to it."""

    base_url: str
    tokens: dict[str, str]
    database: str
    process: subprocess.Popen
    args: list[str]
    log_path: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None = "system", **more: str) -> dict[str, str]:
        """Headers with the Bearer token of `role` (none for None)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        headers.update(more)
        return headers

    def client(self, role: str | None = "system", timeout: float = 30.0) -> httpx.Client:
        """An httpx client for this server, authenticated as `role`."""
        return httpx.Client(base_url=self.base_url, headers=self.headers(role), timeout=timeout)

    def log(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, number: int) -> None:
        """Send a signal to the server process."""
        self.process.send_signal(number)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def worker_pids(server: RunningServer) -> list[int]:
    """The process ids of the server's workers (the children of its master)."""
    pid = server.process.pid
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def connection_split(server: RunningServer) -> list[int]:
    """How many established connections to the server's port each worker holds now (largest first).

    Read from /proc: the sockets among each worker's open files, and the established TCP
    connections whose local port is the server's (/proc/net/tcp and tcp6)."""
    port = int(server.base_url.rsplit(":", 1)[1])
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    counts = []
    for worker in worker_pids(server):
        inodes = set()
        for descriptor in Path(f"/proc/{worker}/fd").iterdir():
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        counts.append(len(inodes & established))
    return sorted(counts, reverse=True)


def start_server(
    workdir: Path,
    *extra: str,
    database: str | None = None,
    tokens: dict[str, str] | None = None,
    timeout: float = 60.0,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> RunningServer:
    """Start `bip serve` with `extra` arguments (on `port`, else a free one; `env` added to the environment).

    Waits until /healthz answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = database or f"sqlite:///{workdir / 'log.sqlite'}"
    tokens = tokens if tokens is not None else make_tokens(database)
    port = port or free_port()
    args = [
        sys.executable,
        "-m",
        "bip_engine.cli",
        "serve",
        "--port",
        str(port),
        "--database",
        database,
        "--no-access-log",
        *map(str, extra),
    ]
    log_path = workdir / f"server-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(args, cwd=workdir, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    server = RunningServer(f"http://127.0.0.1:{port}", tokens, database, process, args, log_path, workdir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bip serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"bip serve did not answer /healthz within {timeout} s:\n{server.log()}")


@pytest.fixture
def bip_server(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """A factory that starts `bip serve` with extra CLI arguments; every server is stopped afterwards."""
    started: list[RunningServer] = []

    def start(
        *extra: str,
        database: str | None = None,
        tokens: dict[str, str] | None = None,
        name: str | None = None,
        env: dict[str, str] | None = None,
    ) -> RunningServer:
        folder = tmp_path / (name or f"server{len(started)}")
        server = start_server(folder, *extra, database=database, tokens=tokens, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One default `bip serve` (bundled rules, python executor) for a whole test module."""
    server = start_server(tmp_path_factory.mktemp("service"), "--engine", "python")
    yield server
    server.stop()
