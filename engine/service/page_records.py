"""Where the page gets a citizen's record: the caseload the server was started with, or a pasted one.

`CaseloadIndex` reads the caseload (`bip serve --caseload PATH`) with the same readers as
`bip batch` and re-reads it when any of its files change (size or modification time). The reading
happens in a background thread, never on the request path: a request gets the snapshot that is
current (a new one is swapped in whole when it is ready), so a changed export of 10,000 citizens
does not hold up the page or `/healthz`. The reading and checking itself runs in a forked child
process (`_in_child`), so that it does not compete with the requests for the interpreter's lock. Once the page asks for it (`use_checker`), the same
thread also builds the worklist (`page_worklist`) for each snapshot, rulebook and day. PATH is a
folder of record files, a JSON Lines file, a single record file, or a folder holding the CSV
exports (`*.csv`, told apart by their headers). `parse_record_text` reads a pasted or uploaded
record with the same parsers and guards as `bip check`, so a bad record gives the same located
problems.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import pickle
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import clock
from ..caseload.readers import RawRecord, ReadProblem, detect_and_read
from ..caseload.unique import duplicate_problem
from ..errors import RecordError, problem
from ..yamlio import parse_json, parse_yaml

if TYPE_CHECKING:
    from ..check import Checker
    from .page_worklist import Worklist

POLL_SECONDS = 2.0  # how often the background thread looks for a changed caseload
FIRST_READ_SECONDS = 120.0  # how long a request waits for the very first reading, at most
CHILD_SECONDS = 600.0  # how long the child process that reads and checks the caseload may take
LOG = logging.getLogger("bip.page")


class CaseloadEntry:
    """One citizen of the caseload as read: its data (not yet validated) and where it was read.

    Pickled (from the child process that reads the caseload, `_in_child`), the data travels as one
    bytes object and is unpickled only when it is asked for (`data`): the parent then takes in
    10,000 citizens as 10,000 byte strings, not as every record's nested lists and dicts, and a
    request never waits for the interpreter to rebuild records nobody opens.
    """

    __slots__ = ("_data", "_packed", "source")

    def __init__(self, source: str, data: dict):
        self.source = source
        self._data: dict | None = data
        self._packed: bytes | None = None

    @property
    def data(self) -> dict:
        """The citizen's data as read (unpickled on first use when it came from the child)."""
        if self._data is None:
            assert self._packed is not None  # set together by __setstate__
            self._data = pickle.loads(self._packed)  # the bytes our own child process made
            self._packed = None
        return self._data

    def __getstate__(self) -> tuple[str, bytes]:
        """The source and the data packed into one bytes object."""
        packed = pickle.dumps(self._data, protocol=5) if self._data is not None else self._packed
        return self.source, packed or b""

    def __setstate__(self, state: tuple[str, bytes]) -> None:
        """Keep the packed data as it came; `data` unpacks it."""
        self.source, self._packed = state
        self._data = None


@dataclass
class CaseloadSnapshot:
    """The caseload as read at one moment."""

    citizens: dict[str, CaseloadEntry] = field(default_factory=dict)
    problems: list[ReadProblem] = field(default_factory=list)
    error: str | None = None
    worklist: Worklist | None = None
    worklist_key: tuple | None = None  # (rulebook hash, date) the worklist was built for


def caseload_inputs(path: Path) -> list[str]:
    """The inputs `detect_and_read` gets for a caseload path (a folder of CSV exports gives its CSV files)."""
    if path.is_dir():
        records = [item for item in path.iterdir() if item.suffix.lower() in (".yaml", ".yml", ".json")]
        exports = sorted(str(item) for item in path.iterdir() if item.suffix.lower() == ".csv")
        if exports and not records:
            return exports
    return [str(path)]


def _signature(path: Path) -> tuple:
    """What changes when the caseload changes: every file's name, size and modification time."""
    try:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        return tuple(
            (item.name, item.stat().st_size, item.stat().st_mtime_ns) for item in files if not item.name.startswith(".")
        )
    except OSError as error:
        return (("error", str(error)),)


class CaseloadIndex:
    """The citizens of a caseload by id, kept current by a background thread."""

    def __init__(self, path: Path | None, poll: float = POLL_SECONDS):
        self.path = Path(path) if path else None
        self._poll = poll
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._read_once = threading.Event()
        self._built = threading.Event()
        self._signature: tuple | None = None
        self._snapshot = CaseloadSnapshot()
        self._checker: Callable[[], Checker] | None = None
        self._today: Callable[[], dt.date] = clock.today
        self._thread: threading.Thread | None = None
        if self.path is None:
            self._read_once.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and self.path is not None:
                self._thread = threading.Thread(target=self._run, name="bip-caseload", daemon=True)
                self._thread.start()

    def use_checker(self, checker: Callable[[], Checker], today: Callable[[], dt.date] = clock.today) -> None:
        """Build the worklist too, with the checker `checker()` gives, on the date `today()` gives."""
        if self._checker is None:
            self._checker, self._today = checker, today
            self._wake.set()
        self._start()

    def snapshot(self) -> CaseloadSnapshot:
        """The current caseload; only the very first reading is waited for (at most FIRST_READ_SECONDS)."""
        self._start()
        self._read_once.wait(FIRST_READ_SECONDS)
        return self._snapshot

    def worklist(self, wait: float = 0.0) -> Worklist | None:
        """The current snapshot's worklist, waiting up to `wait` seconds when none has been built yet."""
        self._start()
        if self._snapshot.worklist is None and wait > 0:
            self._wake.set()
            self._built.wait(wait)
        return self._snapshot.worklist

    def _run(self) -> None:
        while True:
            try:
                self._step()
            except Exception:  # the thread must outlive any one bad reading; the page keeps the last snapshot
                LOG.exception("reading the caseload failed")
            self._read_once.set()
            self._wake.wait(self._poll)
            self._wake.clear()

    def _step(self) -> None:
        if self.path is None:
            return
        signature = _signature(self.path)
        checker = self._checker() if self._checker is not None else None
        key = (checker.rulebook.content_hash, self._today()) if checker is not None else None
        snapshot = self._snapshot
        if signature == self._signature and snapshot.worklist_key == key:
            return
        snapshot = _in_child(self, signature != self._signature, checker, key)
        self._signature = signature
        self._snapshot = snapshot  # swapped in whole: a request sees the old one or the new one
        if snapshot.worklist is not None:
            self._built.set()

    def build(self, reread: bool, checker: Checker | None, key: tuple | None) -> CaseloadSnapshot:
        """A new snapshot: the files read again (or the current citizens), and the worklist for `key`."""
        snapshot = self._read() if reread else self._snapshot
        if checker is not None and key is not None and snapshot.worklist_key != key:
            from .page_worklist import build_worklist

            snapshot = replace(snapshot, worklist=build_worklist(checker, snapshot.citizens, key[1]), worklist_key=key)
        return snapshot

    def _read(self) -> CaseloadSnapshot:
        snapshot = CaseloadSnapshot()
        if self.path is None:
            return snapshot
        try:
            for item in detect_and_read(caseload_inputs(self.path)):
                if isinstance(item, RawRecord) and isinstance(item.data, dict):
                    citizen = str(item.data.get("id", "")).strip()
                    if citizen and citizen not in snapshot.citizens:
                        snapshot.citizens[citizen] = CaseloadEntry(item.source, item.data)
                        continue
                    snapshot.problems.append(
                        ReadProblem(
                            item.source,
                            duplicate_problem(citizen, item.source, snapshot.citizens[citizen].source)
                            if citizen
                            else problem("R002.required", item.source, field="id"),
                        )
                    )
                elif isinstance(item, ReadProblem):
                    snapshot.problems.append(item)
                else:
                    source = getattr(item, "source", str(self.path))
                    snapshot.problems.append(ReadProblem(source, problem("R001.mapping", source)))
        except (ValueError, OSError) as error:
            snapshot.error = str(error)
        return snapshot

    def get(self, citizen_id: str) -> CaseloadEntry | None:
        """The citizen's entry, or None."""
        return self.snapshot().citizens.get(citizen_id.strip())


def _in_child(index: CaseloadIndex, reread: bool, checker: Checker | None, key: tuple | None) -> CaseloadSnapshot:
    """`index.build(...)` in a forked child process, so that the reading and checking of a whole
    caseload (seconds of pure-Python work) does not hold this process's GIL while it serves requests.

    The child inherits the index and the checker as they are and sends the snapshot back through a
    pipe. Where fork is not available, or the child fails or takes longer than CHILD_SECONDS, the
    work is done in this thread instead.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return index.build(reread, checker, key)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    with warnings.catch_warnings():  # Python 3.12+ warns about fork in a threaded process; the child only builds
        warnings.simplefilter("ignore", DeprecationWarning)
        child = context.Process(target=_child, args=(index, reread, checker, key, send), daemon=True)
        child.start()
    send.close()
    try:
        if receive.poll(CHILD_SECONDS):
            answer = receive.recv()
            if isinstance(answer, CaseloadSnapshot):
                return answer
    except (EOFError, OSError):
        pass
    finally:
        receive.close()
        child.join(1)
        if child.is_alive():
            child.kill()
            child.join()
    LOG.warning("building the caseload in a child process failed; building it in this process")
    return index.build(reread, checker, key)


def _child(index: CaseloadIndex, reread: bool, checker: Checker | None, key: tuple | None, send: Any) -> None:
    try:
        send.send(index.build(reread, checker, key))
    except Exception:  # noqa: BLE001 - any failure: the parent builds it itself then
        send.send(None)
    finally:
        send.close()


def parse_record_text(text: str, name: str, max_bytes: int) -> Any:
    """Load a pasted or uploaded record (YAML or JSON); raise `RecordError` with located problems."""
    if len(text.encode("utf-8")) > max_bytes:
        raise RecordError(problem("R001.too_large", name, limit=max_bytes))
    if not text.strip():
        raise RecordError(problem("R001.empty", name))
    json_like = name.lower().endswith(".json")
    data, unreadable = parse_json(text, name) if json_like else parse_yaml(text, name)
    if unreadable:
        raise RecordError(unreadable)
    return data
