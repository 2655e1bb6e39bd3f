"""Reloading the rulebook of an application made by `create_app` in place (the library's way).

Under `bip serve` the gunicorn master reloads instead (`bip_engine.service.server`): it writes the
outcome to a status file, and each worker's `Reloader` (made with `shared=` that file) only reports
it (`last_reload`, `last_reload_error` on `/readyz`). `stamp` is the watcher's view of the files.

A reload runs in its own thread (loading a rulebook takes a moment; requests keep being answered
meanwhile) and switches the checker to the new rulebook atomically (`Checker.reload`). A reload
that fails keeps the running rulebook; its problems go to the server log, to `/readyz`
(`last_reload_error`) and to the metrics (`bip_reload_failures_total`).

The watcher polls the modification times of the rule files (every `interval` seconds): no extra
dependency, and it works on every file system, network mounts included.

A service started from a release (`bip serve --release latest`) looks the release up again on each
reload, so `latest` follows a newly approved release: its rules and its templates are switched in
together, and a release that cannot be read counts as a failed reload.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any

from ..check import Checker
from ..errors import Problem
from ..releases import ReleaseError, resolve
from .metrics import Metrics

log = logging.getLogger("bip.service")


class Reloader:
    """Serialises reload requests from signals and the watcher, and remembers the last outcome."""

    def __init__(
        self,
        checker: Checker,
        metrics: Metrics,
        rules: Path | None = None,
        release: str | None = None,
        store: Path | None = None,
        extra_guidance: list[Path] | None = None,
        shared: Path | None = None,
    ):
        self.checker, self.metrics, self.rules = checker, metrics, rules
        self.release, self.store, self.extra_guidance = release, store, list(extra_guidance or [])
        self.shared = shared
        self._last_reload: dict[str, Any] | None = None
        self._last_reload_error: dict[str, Any] | None = None
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None

    def _status(self, name: str) -> dict[str, Any] | None:
        if self.shared is None:
            return getattr(self, f"_{name}")
        try:
            found = json.loads(self.shared.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found.get(name)

    @property
    def last_reload(self) -> dict[str, Any] | None:
        """When the rulebook in use was loaded, and which (name, version, hash)."""
        return self._status("last_reload")

    @last_reload.setter
    def last_reload(self, value: dict[str, Any] | None) -> None:
        self._last_reload = value

    @property
    def last_reload_error(self) -> dict[str, Any] | None:
        """The problems of the last reload when it failed (the files on disk would not load), else None."""
        return self._status("last_reload_error")

    @last_reload_error.setter
    def last_reload_error(self, value: dict[str, Any] | None) -> None:
        self._last_reload_error = value

    def request(self) -> None:
        """Ask for a reload soon (safe to call from a signal handler)."""
        self._wanted.set()

    def start(self, watch: bool = False, interval: float = 1.0) -> None:
        """Start the reload thread, and the watcher thread when `watch` is set."""
        self._thread = threading.Thread(target=self._run, name="bip-reload", daemon=True)
        self._thread.start()
        if watch:
            self._watcher = threading.Thread(target=self._watch, args=(interval,), name="bip-watch", daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        """Stop the threads."""
        self._stop.set()
        self._wanted.set()

    def reload_now(self) -> bool:
        """Reload at once in this thread; True when the new rulebook is in use."""
        with self._lock:
            problems = self._reload_release() if self.release else self.checker.reload(self.rules)
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self.metrics.observe_reload(not problems)
            if problems:
                self.last_reload_error = {
                    "time": now,
                    "problems": [
                        {
                            "path": shown(p.path, self.rules or self.checker.rulebook.path),
                            "line": p.line,
                            "column": p.column,
                            "code": p.code,
                            "message": p.message,
                        }
                        for p in problems
                    ],
                }
                log.error(
                    "reload failed; the running rulebook %s %s stays in use:\n%s",
                    self.checker.rulebook.name,
                    self.checker.rulebook.version,
                    "\n".join(f"  {p}" for p in problems),
                )
                return False
            rulebook = self.checker.rulebook
            self.last_reload = {
                "time": now,
                "name": rulebook.name,
                "version": rulebook.version,
                "hash": rulebook.content_hash,
                "release": rulebook.release,
            }
            self.last_reload_error = None
            log.info(
                "reloaded rulebook %s %s (%s%s)",
                rulebook.name,
                rulebook.version,
                rulebook.content_hash[:12],
                f", release {rulebook.release[:12]}" if rulebook.release else "",
            )
            return True

    def _reload_release(self) -> list[Problem]:
        """Look the release up again and switch to its rules and templates (problems, or [] when in use)."""
        try:
            release = resolve(self.store, self.release)
        except ReleaseError as error:
            return error.problems
        assert release is not None  # resolve gives None only when no release was asked for
        problems = self.checker.reload(release.rules, [*release.guidance, *self.extra_guidance])
        if not problems:
            self.rules = release.rules
        return problems

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stop.is_set():
                return
            self._wanted.clear()
            try:
                self.reload_now()
            except Exception:
                self.metrics.observe_reload(False)
                log.exception("reload failed unexpectedly; the running rulebook stays in use")

    def _folders(self) -> list[Path]:
        rulebook = self.checker.rulebook
        folders = [Path(self.rules or rulebook.path)]
        folders += [Path(folder) for _, folder in rulebook.layers]
        return list(dict.fromkeys(folder.resolve() for folder in folders))

    def _watch(self, interval: float) -> None:
        before = stamp(self._folders())
        while not self._stop.wait(interval):
            now = stamp(self._folders())
            if now != before:
                before = now
                log.info("a rule file changed; reloading")
                self.request()


WATCHED = (".yaml", ".yml", ".j2")


def stamp(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """Modification time and size of every rule (YAML) and template (.j2) file under `folders`."""
    seen: dict[str, tuple[int, int]] = {}
    for folder in folders:
        try:
            paths = sorted(folder.rglob("*"))
        except OSError:
            continue
        for path in paths:
            if path.suffix in WATCHED:
                try:
                    found = path.stat()
                except OSError:
                    continue
                seen[str(path)] = (found.st_mtime_ns, found.st_size)
    return seen


def shown(path: str | Path | None, folder: str | Path | None) -> str | None:
    """A problem's file as `/readyz` shows it: relative to the rules folder, else its name; never absolute."""
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(Path(folder or ".").resolve()))
    except (ValueError, OSError):
        return Path(path).name
