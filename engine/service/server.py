"""Running the service: `serve(settings)` is `bip serve`, under gunicorn with uvicorn workers.

The `bip serve` process is gunicorn's master (`BipApplication`); it binds the socket and forks
`settings.workers` worker processes (`Worker`, uvicorn's gunicorn worker), each serving the
application of `bip_engine.service.app.create_app`. gunicorn restarts a worker that dies.

The master keeps the last good rulebook: it loads the rules and templates once, and every worker
it forks gets that `Checker` in memory. SIGHUP (or `--watch` seeing a rule or template file
change) makes the master load the files again:
- if they load, the new rulebook becomes the last good one, and the workers are replaced
  gracefully: new ones start on it, and only once they serve are the old ones told to finish
  their open requests and stop;
- if not, no worker is touched: the master keeps the old rulebook and writes the problems to a status file that every
  worker's `/readyz` shows (`last_reload_error`, paths relative to the rules folder); a worker
  started again after a crash gets the old, good rulebook, never the broken files.

Bounds: the request head (size, header count, time to send it), the time between two parts of a
body, kept-alive connections and, on SIGTERM, the grace open requests get (`graceful_timeout`).
Metrics are added up over all workers (prometheus_client's multiprocess mode in a folder this
process makes and removes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import json
import logging
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

from .connections import Shares, TakingTurns, connections_file
from .logs import configure_logging
from .settings import ServiceSettings

log = logging.getLogger("bip.service")

STATUS_FILE = "reload.json"
METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
STATUS_VARIABLE = "BIP_RELOAD_STATUS"
DRAIN_IDLE = 1.0
"""Seconds a stopping worker keeps an idle kept-alive connection open for a request already on its way."""


def serve(settings: ServiceSettings, checker: Any = None) -> None:
    """Run the service until SIGTERM or SIGINT (open requests get `settings.graceful_timeout` seconds).

    `checker` is the rulebook `bip serve` has just loaded and checked (else it is loaded here).
    """
    configure_logging(settings.log_level, settings.log_format, force=True)
    runtime = Path(tempfile.mkdtemp(prefix="bip-serve-"))
    (runtime / "metrics").mkdir()
    os.environ[METRICS_VARIABLE] = str(runtime / "metrics")  # before prometheus_client is imported
    os.environ[STATUS_VARIABLE] = str(runtime / STATUS_FILE)
    try:
        BipApplication(settings, runtime, checker).run()
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _problems(problems: list[Any], folder: Path | None) -> list[dict[str, Any]]:
    """Problems as /readyz shows them: the path relative to the rules folder, never absolute."""
    from .reload import shown

    return [
        {"path": shown(p.path, folder), "line": p.line, "column": p.column, "code": p.code, "message": p.message}
        for p in problems
    ]


class BipApplication(BaseApplication):
    """gunicorn's application for `bip serve`: its settings become gunicorn's, and it keeps the last good rulebook."""

    def __init__(self, settings: ServiceSettings, runtime: Path, checker: Any = None):
        from .metrics import Metrics

        self.settings, self.runtime = settings, runtime
        self.status_file = runtime / STATUS_FILE
        self.metrics = Metrics()
        self.status: dict[str, Any] = {"last_reload": None, "last_reload_error": None}
        self.checker = self._load(checker)
        if self.checker is None:
            raise SystemExit(4)
        from . import api, app  # noqa: F401 - imported once here, not in every worker after the fork

        self._write_status()
        BipLogger.log_format = settings.log_format
        #: The files as they were when the rules were loaded: a change made before the master's first
        #: look (as soon as a worker answers) is still a change.
        self.watch_stamp: dict[str, tuple[int, int]] | None = None
        if settings.watch:
            from .reload import stamp

            self.watch_stamp = stamp(self.folders())
        super().__init__()

    def load_config(self) -> None:
        """gunicorn's settings from ours (called again on every reload)."""
        s = self.settings
        host = f"[{s.host}]" if ":" in s.host else s.host
        values: dict[str, Any] = {
            "bind": [f"{host}:{s.port}"],
            "workers": s.workers,
            "worker_class": "bip_engine.service.server.Worker",
            "graceful_timeout": math.ceil(s.graceful_timeout) + 5,  # uvicorn cuts at graceful_timeout: the backstop
            "keepalive": math.ceil(s.keepalive),
            "timeout": 60,
            "backlog": 2048,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": s.log_level,
            "logger_class": BipLogger,
            "proc_name": "bip-serve",
            "control_socket_disable": True,
            "child_exit": self._child_exit,
            "when_ready": self._when_ready,
        }
        for name, value in values.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """The web application, made in each worker just after the fork, on the master's last good rulebook."""
        from .app import create_app

        settings = dataclasses.replace(self.settings, watch=False)  # the master watches
        assert self.checker is not None
        return create_app(settings, checker=self.checker, reload_status=self.status_file)

    def run(self) -> None:
        """Run gunicorn's master (`BipArbiter`) until it stops."""
        BipArbiter(self).run()

    def load_files(self) -> bool:
        """Load the rule and template files again; True when they loaded and are the last good rulebook now."""
        checker = self._load()
        if checker is not None:
            self.checker = checker
        self._write_status()
        return checker is not None

    def ready_file(self, pid: int) -> Path:
        """The file a worker makes once it serves."""
        return self.runtime / f"ready-{pid}"

    def _sources(self) -> tuple[Path | None, list[Path]]:
        settings = self.settings
        if not settings.release:
            return settings.rules, list(settings.guidance)
        from ..releases import resolve
        from .app import guidance_beside_release

        release = resolve(settings.store_path, settings.release)
        assert release is not None
        return release.rules, [*release.guidance, *guidance_beside_release(settings)]

    def _load(self, loaded: Any = None) -> Any:
        """A new Checker on the files as they are now (or `loaded`), or None (the problems go to the status file)."""
        from ..check import Checker
        from ..errors import BipError

        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rules: Path | None = self.settings.rules
        try:
            rules, guidance = self._sources()
            checker = loaded or Checker(rules, guidance, self.settings.engine)
            for lang in ("da", "en"):  # the templates are read now, not at the first request
                checker.guidance(lang)
        except BipError as error:
            problems = getattr(error, "problems", None) or [error]
            self.status["last_reload_error"] = {"time": now, "problems": _problems(problems, rules)}
            self.metrics.observe_reload(False)
            log.error("reload failed; the last good rulebook stays in use:\n%s", "\n".join(f"  {p}" for p in problems))
            return None
        book = checker.rulebook
        self.status["last_reload"] = {
            "time": now,
            "name": book.name,
            "version": book.version,
            "hash": book.content_hash,
            "release": book.release,  # the release hash `bip rules releases` lists, when serving one
        }
        self.status["last_reload_error"] = None
        self.settings.rules = rules
        return checker

    def _write_status(self) -> None:
        temporary = self.status_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.status), encoding="utf-8")
        temporary.replace(self.status_file)

    def _child_exit(self, _arbiter: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
        self.ready_file(worker.pid).unlink(missing_ok=True)
        connections_file(self.runtime, worker.pid).unlink(missing_ok=True)

    def _when_ready(self, _arbiter: Any) -> None:
        book = self.checker.rulebook
        served = f"release {book.release[:12]}" if book.release else book.content_hash[:12]
        log.info(
            "bip serve: %d workers on http://%s:%s, rulebook %s %s (%s)",
            self.settings.workers,
            self.settings.host,
            self.settings.port,
            book.name,
            book.version,
            served,
        )

    def folders(self) -> list[Path]:
        """The folders `--watch` watches: the rules, the layers they extend, the templates."""
        assert self.checker is not None
        book = self.checker.rulebook
        folders = [Path(self.settings.rules or book.path), *(Path(folder) for _, folder in book.layers)]
        folders += list(self.settings.guidance)
        return list(dict.fromkeys(folder.resolve() for folder in folders))


class BipArbiter(Arbiter):
    """gunicorn's master, reloading on SIGHUP only when the files load, and old workers only after new ones serve."""

    app: BipApplication
    _stamp: dict[str, tuple[int, int]] | None = None
    _looked = 0.0

    def murder_workers(self) -> None:
        """gunicorn's check of the workers (once a second); with `--watch`, a changed file is then a SIGHUP.

        The files are polled here, in the master's own loop, not in a thread: a thread of the master
        could hold a lock just when a worker is forked, and the worker would wait for it forever.
        """
        super().murder_workers()
        settings = self.app.settings
        if not settings.watch or time.monotonic() - self._looked < settings.watch_interval:
            return
        from .reload import stamp

        self._looked = time.monotonic()
        if self._stamp is None:
            self._stamp = self.app.watch_stamp
        now = stamp(self.app.folders())
        if self._stamp is not None and now != self._stamp:
            log.info("a rule or template file changed; reloading")
            self._stamp = now
            self.reload()
        self._stamp = now

    def reload(self) -> None:
        """SIGHUP: a failed load changes nothing; a good one starts new workers, waits for them, stops the old."""
        if not self.app.load_files():
            return
        self.app.reload()
        self.setup(self.app)
        self.log.reopen_files()
        old = set(self.WORKERS)
        for _ in range(self.cfg.workers):
            self.spawn_worker()
        new = set(self.WORKERS) - old
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(self.app.ready_file(pid).exists() for pid in new):
            self.reap_workers()
            if any(pid not in self.WORKERS for pid in new):
                break  # a new worker died while starting: gunicorn's usual handling takes over
            time.sleep(0.05)
        self.manage_workers()  # stops the oldest workers beyond the number asked for, gracefully
        book = self.app.checker.rulebook
        self.app.metrics.observe_reload(True)
        served = f"release {book.release[:12]}" if book.release else book.content_hash[:12]
        log.info("reloaded rulebook %s %s (%s)", book.name, book.version, served)


class BipLogger(glogging.Logger):
    """gunicorn's logger, writing through the service's one handler (text or JSON, escaped)."""

    log_format = "text"

    def setup(self, cfg: Any) -> None:
        """gunicorn's setup, then our handler in place of its own."""
        super().setup(cfg)
        configure_logging(cfg.loglevel, self.log_format, force=True)


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's HTTP protocol with the request head bounded: its size, its header count and its time.

    A head larger than `max_header_size` or with more than `max_headers` lines is answered 431 and
    the connection closed; a connection that has not sent a whole head `request_timeout` seconds
    after it opened (or after its request began) is closed.

    The answer to a connection's `keepalive_requests`th request closes it (`Connection: close`):
    a kept-alive connection stays with the worker that accepted it, and closed now and then, the
    connections are shared out again (`connections.TakingTurns`) as the clients' load changes.
    """

    max_header_size = 65_536
    max_headers = 100
    request_timeout = 30.0
    keepalive_requests = 100
    on_close: Callable[[], None] | None = None
    """Called when a connection has closed (`TakingTurns` tells the other workers how many it holds now)."""

    def connection_made(self, transport: Any) -> None:
        """Start the clock for the first request's head."""
        super().connection_made(transport)
        self._head_bytes, self._head_lines, self._too_large = 0, 0, False
        self._in_head, self._draining = False, False
        self._requests = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._start_head_timer()

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = asyncio.get_running_loop().call_later(self.request_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock; tell `on_close`."""
        self._stop_head_timer()
        super().connection_lost(exc)
        if self.on_close is not None:
            self.on_close()

    def on_message_begin(self) -> None:
        """A new request: its head is counted from zero and timed."""
        super().on_message_begin()
        self._in_head = True
        self._head_bytes, self._head_lines = 0, 0
        self._start_head_timer()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self.max_header_size or self._head_lines > self.max_headers:
            self._too_large = True
            raise ValueError("request head too large")  # httptools stops parsing: data_received answers

    def on_url(self, url: bytes) -> None:
        """Count the request line."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count the header line."""
        self._head_lines += 1
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is in: stop its clock; the connection's last request, or while the worker stops, the answer closes it."""
        self._stop_head_timer()
        self._in_head = False
        self._requests += 1
        super().on_headers_complete()
        if (self._draining or self._requests >= self.keepalive_requests) and self.cycle is not None:
            self.cycle.keep_alive = False

    def shutdown(self) -> None:
        """The worker stops: an idle kept-alive connection is closed only after a moment without a request.

        uvicorn closes it at once, and a request the client sent at that moment is lost ("connection
        reset"); here a request that comes meanwhile is answered, with `Connection: close`.
        """
        self._draining = True
        if self.cycle is None or self.cycle.response_complete:
            asyncio.get_running_loop().call_later(DRAIN_IDLE, self._close_if_idle)
        else:
            super().shutdown()

    def _close_if_idle(self) -> None:
        if not self._in_head and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """A head too large is 431; anything else uvicorn refuses stays 400."""
        if not self._too_large:
            super().send_400_response(msg)
            return
        body = b"Request header fields too large."
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        self.transport.close()


def settle_heap() -> None:
    """Move everything alive now (the application, its rulebook, templates and modules) out of the garbage collector's sight.

    A serving worker's heap is mostly objects made at start-up that live as long as the process.
    Left in the collector's oldest generation, each full collection walks them all: 20–80 ms in
    which the worker answers nobody, one cause of the slowest answers under load.
    Frozen (`gc.freeze`), a full collection walks only what requests made since. Garbage is
    collected first, so none of it is kept for good.
    """
    gc.collect()
    gc.freeze()


class Worker(UvicornWorker):
    """uvicorn's gunicorn worker with bip's protocol, no server header, no uvicorn access log and a bounded grace.

    It tells the master when it serves (a file in the runtime folder), and stops when the master is gone.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        app: BipApplication = args[3]
        settings = app.settings
        protocol = type(
            "BoundedHttpToolsConfigured",
            (BoundedHttpTools,),
            {
                "max_header_size": settings.max_header_size,
                "max_headers": settings.max_headers,
                "request_timeout": settings.request_timeout,
                "keepalive_requests": settings.keepalive_requests,
            },
        )
        self.CONFIG_KWARGS = {
            "loop": "auto",
            "http": protocol,
            "server_header": False,
            "access_log": False,
            "timeout_graceful_shutdown": settings.graceful_timeout,
        }
        super().__init__(*args, **kwargs)

    async def _serve(self) -> None:
        from uvicorn.server import Server

        from .services import services

        stopping = services(self.wsgi).stopping
        runtime, workers = self.app.runtime, self.app.settings.workers

        class StoppingServer(Server):
            """uvicorn's server, telling the application (`Services.stopping`) as soon as it is told to stop,
            and accepting connections one at a time (`TakingTurns`)."""

            def handle_exit(self, sig: int, frame: Any) -> None:
                stopping.set()
                super().handle_exit(sig, frame)

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=[])  # the application, without uvicorn's own listeners
                loop = asyncio.get_running_loop()
                config, state = self.config, self.server_state

                def protocol() -> asyncio.Protocol:
                    return config.http_protocol_class(  # type: ignore[call-arg]
                        config=config, server_state=state, app_state=self.lifespan.state, _loop=loop
                    )

                shares = Shares(runtime, os.getpid()) if workers > 1 else None
                self.servers = [
                    TakingTurns(sock, protocol, loop, state.connections, shares)  # type: ignore[misc]
                    for sock in sockets or []
                ]
                if shares is not None and self.servers:
                    config.http_protocol_class.on_close = self.servers[0].publish  # type: ignore[attr-defined]

        self.config.app = self.wsgi
        server = StoppingServer(config=self.config)
        self._install_sigquit_handler()
        serving = asyncio.create_task(server.serve(sockets=self.sockets))
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            settle_heap()
            self.app.ready_file(os.getpid()).touch()
        while not serving.done():  # an orphan stops: its master is gone
            if os.getppid() != self.ppid:
                stopping.set()
                server.should_exit = True
            await asyncio.wait([serving], timeout=1.0)
        await serving
        if not server.started:
            raise SystemExit(Arbiter.WORKER_BOOT_ERROR)
