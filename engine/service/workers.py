"""`bip serve --workers N`: N uvicorn servers in their own processes on one shared listening socket.

The `bip serve` process becomes a small supervisor. It binds the socket itself (with TCP_NODELAY,
which the accepted connections inherit, so no answer waits for a delayed ACK), starts the workers
with the socket handed down, and forwards signals:

- SIGHUP goes to every worker, and each reloads its rulebook in place, atomically, as a single
  server does (`engine.service.reload`): no worker is replaced, no connection is closed, so a
  reload fails no request. A failed reload keeps the running rules in that worker.
- SIGTERM or SIGINT stops the workers gracefully (open requests are answered), then the supervisor.
- A worker that dies is started again; one that keeps dying stops the whole server.

The workers read their settings from `BIP_SERVICE_SETTINGS` (JSON) like uvicorn's own workers did.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .settings import ENVIRONMENT_VARIABLE, ServiceSettings

log = logging.getLogger("bip.service")

SOCKET_VARIABLE = "BIP_WORKER_SOCKET"
OPTIONS_VARIABLE = "BIP_WORKER_OPTIONS"
RESTARTS_ALLOWED = 5
"""More restarts than this within `RESTART_WINDOW` seconds stop the server."""
RESTART_WINDOW = 60.0
ROOT = Path(__file__).resolve().parent.parent.parent  # holds the `engine` package


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A bound, listening TCP socket that child processes may inherit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Starts, watches and signals the worker processes of one `bip serve`."""

    def __init__(self, settings: ServiceSettings, sock: socket.socket, workers: int, options: dict[str, Any]):
        self.sock, self.count = sock, workers
        self.environment = {
            **os.environ,
            ENVIRONMENT_VARIABLE: settings.to_json(),
            SOCKET_VARIABLE: str(sock.fileno()),
            OPTIONS_VARIABLE: json.dumps(options),
        }
        self.processes: list[subprocess.Popen | None] = [None] * workers
        self.restarts: list[float] = []
        self.stopping = False
        self.exit_code = 0

    def _start(self, index: int) -> None:
        command = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from engine.service.workers import worker_main; worker_main()",
        ]
        self.processes[index] = subprocess.Popen(command, env=self.environment, pass_fds=(self.sock.fileno(),))

    def _forward(self, number: int) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(number)

    def _on_signal(self, number: int, _frame: Any) -> None:
        if number == signal.SIGHUP:
            self._forward(signal.SIGHUP)
            return
        if not self.stopping:
            self.stopping = True
            self._forward(signal.SIGTERM)

    def run(self) -> int:
        """Run until stopped; return the exit status for `bip serve`."""
        for number in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)
        for index in range(self.count):
            self._start(index)
        host, port = self.sock.getsockname()[:2]
        pids = ", ".join(str(process.pid) for process in self.processes if process is not None)
        log.info("bip serve: %d workers (pids %s) on http://%s:%s", self.count, pids, host, port)
        while not self.stopping:
            time.sleep(0.2)
            for index, process in enumerate(self.processes):
                if process is None or process.poll() is None or self.stopping:
                    continue
                log.error("worker %d (pid %d) exited with %s", index, process.pid, process.returncode)
                now = time.monotonic()
                self.restarts = [moment for moment in self.restarts if now - moment < RESTART_WINDOW] + [now]
                if len(self.restarts) > RESTARTS_ALLOWED:
                    log.error("workers keep exiting; stopping the server")
                    self.stopping, self.exit_code = True, 1
                    self._forward(signal.SIGTERM)
                    break
                self._start(index)
        deadline = time.monotonic() + 30
        for process in self.processes:
            if process is None:
                continue
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.sock.close()
        return self.exit_code


def run_workers(settings: ServiceSettings, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Serve with `workers` processes on one socket until SIGTERM or SIGINT; return the exit status."""
    from .app import configure_logging

    configure_logging()
    try:
        sock = listening_socket(host, port)
    except OSError as error:  # the port is taken, or the address is not this machine's
        log.error("cannot listen on %s:%s: %s", host, port, error.strerror or error)
        return 1
    return Supervisor(settings, sock, workers, options).run()


def worker_main() -> None:
    """One worker process: the app on the inherited socket, under uvicorn, until SIGTERM."""
    import uvicorn

    from .app import create_app

    early: list[int] = []  # a SIGHUP while starting: the rules may have changed after they were read
    signal.signal(signal.SIGHUP, lambda number, _frame: early.append(number))
    sock = socket.socket(fileno=int(os.environ.pop(SOCKET_VARIABLE)))
    options = json.loads(os.environ.pop(OPTIONS_VARIABLE, "{}"))
    app = create_app(ServiceSettings.from_environment())
    reloader = app.state.reloader
    signal.signal(signal.SIGHUP, lambda _number, _frame: reloader.request())  # done once its thread runs
    if early:
        reloader.request()
    server = uvicorn.Server(uvicorn.Config(app, **options))
    server.run(sockets=[sock])
