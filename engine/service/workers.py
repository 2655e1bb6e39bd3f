"""`bip serve --workers N`: N uvicorn servers in their own processes, sharing out one listening socket.

The `bip serve` process becomes a small supervisor. It binds the socket itself (with TCP_NODELAY,
which the accepted connections inherit, so no answer waits for a delayed ACK), accepts the
connections and hands each to the next worker in turn that is ready (round robin), over a Unix
socket per worker (`SCM_RIGHTS`). The worker serves it as if it had accepted it. Workers that take
connections from a shared socket themselves get them unevenly: the one that wakes first takes
all that wait (31 of 32 in a test), and with clients that keep their connections open one worker
then has twice the work of the other for as long as they last.

It forwards signals too:
- SIGHUP goes to every worker, and each reloads its rulebook in place, atomically, as a single
  server does (`bip_engine.service.reload`): no worker is replaced, no connection is closed, so a
  reload fails no request. A failed reload keeps the running rules in that worker.
- SIGTERM or SIGINT stops the workers gracefully (open requests are answered), then the supervisor.
- A worker that dies is started again (it gets connections once it says it is ready); one that
  keeps dying stops the whole server. A worker whose supervisor is gone stops.

The workers read their settings from `BIP_SERVICE_SETTINGS` (JSON) like uvicorn's own workers did.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from .services import services
from .settings import ENVIRONMENT_VARIABLE, ServiceSettings

log = logging.getLogger("bip.service")

CHANNEL_VARIABLE = "BIP_WORKER_CHANNEL"
READY = b"ready"
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
    """Starts, watches and signals the worker processes of one `bip serve`, and shares out its connections."""

    def __init__(self, settings: ServiceSettings, sock: socket.socket, workers: int, options: dict[str, Any]):
        self.sock, self.count = sock, workers
        self.environment = {
            **os.environ,
            ENVIRONMENT_VARIABLE: settings.to_json(),
            OPTIONS_VARIABLE: json.dumps(options),
        }
        self.processes: list[subprocess.Popen | None] = [None] * workers
        self.channels: list[socket.socket | None] = [None] * workers
        self.ready = [False] * workers
        self.turn = 0
        self.selector = selectors.DefaultSelector()
        self.listening = False
        self.restarts: list[float] = []
        self.stopping = False
        self.exit_code = 0

    def _start(self, index: int) -> None:
        self._drop_channel(index)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from bip_engine.service.workers import worker_main; worker_main()",
        ]
        environment = {**self.environment, CHANNEL_VARIABLE: str(theirs.fileno())}
        with theirs:
            self.processes[index] = subprocess.Popen(command, env=environment, pass_fds=(theirs.fileno(),))
        ours.setblocking(False)
        self.channels[index] = ours
        self.selector.register(ours, selectors.EVENT_READ, index)

    def _drop_channel(self, index: int) -> None:
        channel, self.channels[index], self.ready[index] = self.channels[index], None, False
        if channel is not None:
            self.selector.unregister(channel)
            channel.close()
        self._listen(any(self.ready))

    def _listen(self, on: bool) -> None:
        """Accept connections only while a worker is ready; until then they wait in the kernel's queue."""
        if on and not self.listening:
            self.selector.register(self.sock, selectors.EVENT_READ, None)
        elif not on and self.listening:
            self.selector.unregister(self.sock)
        self.listening = on

    def _from_worker(self, index: int) -> None:
        channel = self.channels[index]
        if channel is None:
            return
        try:
            message = channel.recv(64)
        except BlockingIOError:
            return
        except OSError:
            message = b""
        if message == READY:
            self.ready[index] = True
            self._listen(True)
        elif not message:  # the worker is gone; `_watch` starts it again
            self._drop_channel(index)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # e.g. too many open files: leave the rest queued for now
                log.error("cannot accept a connection: %s", error)
                return
            with connection:
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        for _ in range(self.count):
            index, self.turn = self.turn % self.count, self.turn + 1
            channel = self.channels[index]
            if channel is None or not self.ready[index]:
                continue
            try:
                socket.send_fds(channel, [b"c"], [connection.fileno()])
                return
            except OSError:  # that worker just died
                self._drop_channel(index)
        log.error("no worker could take a connection; it is closed")

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

    def _watch(self) -> None:
        """Start a worker that exited again, unless they keep exiting."""
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
                return
            self._start(index)

    def run(self) -> int:
        """Run until stopped; return the exit status for `bip serve`."""
        for number in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._on_signal)
        self.sock.setblocking(False)
        for index in range(self.count):
            self._start(index)
        host, port = self.sock.getsockname()[:2]
        pids = ", ".join(str(process.pid) for process in self.processes if process is not None)
        log.info("bip serve: %d workers (pids %s) on http://%s:%s", self.count, pids, host, port)
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.2):
                if key.data is None:
                    self._accept()
                else:
                    self._from_worker(key.data)
            self._watch()
        self._listen(False)
        deadline = time.monotonic() + 30
        for process in self.processes:
            if process is None:
                continue
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for index in range(self.count):
            self._drop_channel(index)
        self.selector.close()
        self.sock.close()
        return self.exit_code


def run_workers(settings: ServiceSettings, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Serve with `workers` processes on one socket until SIGTERM or SIGINT; return the exit status."""
    from .logs import configure_logging

    configure_logging()
    try:
        sock = listening_socket(host, port)
    except OSError as error:  # the port is taken, or the address is not this machine's
        log.error("cannot listen on %s:%s: %s", host, port, error.strerror or error)
        return 1
    return Supervisor(settings, sock, workers, options).run()


def worker_main() -> None:
    """One worker process: the app under uvicorn, on the connections the supervisor hands over, until SIGTERM."""
    from .app import create_app

    early: list[int] = []  # a SIGHUP while starting: the rules may have changed after they were read
    signal.signal(signal.SIGHUP, lambda number, _frame: early.append(number))
    channel = socket.socket(fileno=int(os.environ.pop(CHANNEL_VARIABLE)))
    options = json.loads(os.environ.pop(OPTIONS_VARIABLE, "{}"))
    app = create_app(ServiceSettings.from_environment())
    reloader = services(app).reloader
    signal.signal(signal.SIGHUP, lambda _number, _frame: reloader.request())  # done once its thread runs
    if early:
        reloader.request()
    HandedServer(uvicorn.Config(app, **options), channel).run(sockets=[])


class HandedServer(uvicorn.Server):
    """A uvicorn server that serves the connections its supervisor hands over on `channel`."""

    def __init__(self, config: Any, channel: socket.socket):
        super().__init__(config)
        self.channel = channel

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        loop = asyncio.get_running_loop()
        # As uvicorn's own `startup` makes its protocols (the class is typed as a bare asyncio.Protocol).
        protocol_class: Any = self.config.http_protocol_class
        protocol = functools.partial(
            protocol_class, config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )
        self.channel.setblocking(False)
        loop.add_reader(self.channel.fileno(), self._receive, loop, protocol)
        self.channel.send(READY)

    def _receive(self, loop: asyncio.AbstractEventLoop, protocol: Any) -> None:
        while True:
            try:
                message, fds, _flags, _address = socket.recv_fds(self.channel, 16, 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            for fd in fds:
                loop.create_task(self._adopt(loop, protocol, socket.socket(fileno=fd)))
            if not message and not fds:  # the supervisor is gone: no connection will come
                loop.remove_reader(self.channel.fileno())
                self.should_exit = True
                return

    @staticmethod
    async def _adopt(loop: asyncio.AbstractEventLoop, protocol: Any, connection: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(protocol, connection)
        except OSError:  # the client went away in the meantime
            connection.close()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.channel.fileno())
        await super().shutdown(sockets=sockets)
