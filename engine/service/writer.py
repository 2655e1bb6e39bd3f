"""Group commit for the decision log: the entries of concurrent requests committed in one transaction.

Every answer still waits until its own entry is committed (`await writer.append(row)` returns only
then), so the log's promise is unchanged: no answer without its entry, and a crash loses at most
entries whose answers were never sent. What changes is the cost under load: the entries that wait
are committed together, so 30 concurrent checks make one transaction (one lock, one WAL append)
instead of 30.

Where the commit runs:
- SQLite: on the event loop, by the last computation of the requests that came in together. A
  request that will add an entry says so first (`begin`), before the computations start; the
  computation that leaves none of them running commits the entries of all (`append`), and their
  answers leave before the event loop turns to the next requests (`logged` does all this for a
  check). A commit scheduled as a callback instead would run after the requests read meanwhile had
  begun, and the answers it releases would wait for their computations too. The commit is an
  append to a local file, and doing it here spares a hand-over to a thread, which waits for the
  GIL while the loop computes (up to 5 ms each time it needs it, several times a commit). An
  `append` without `begin` commits at once, or with the computations under way. When
  another writer holds the lock (another worker's commit), the loop computes on and tries again;
  after `BUSY_ON_LOOP` seconds (`bip log purge`, say) the entries go to the writer thread
  instead. Checkpoints (copying the write-ahead log into the database, with an fsync) are left to
  a thread of their own, once a second, instead of to the commit that happens to fill the log.
- PostgreSQL (a round trip over the network): in one writer thread, so the event loop never waits.

One bad entry never fails another: values are checked before they get here (`decision_values`),
and if a group's commit fails all the same, each of its entries is committed on its own
(`append_each`), so only the request whose entry the database refuses gets the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..log.decisions import append_each, try_append_decisions
from ..log.store import Store

log = logging.getLogger("bip.service")

MAX_BATCH = 256
BUSY_ON_LOOP = 0.02
"""How long entries wait on the loop for a SQLite write lock that another writer holds, retrying."""
RETRY_AFTER = 0.0005
CHECKPOINT_EVERY = 1.0
_STOP = None
T = TypeVar("T")


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    if future.cancelled():  # the client went away; its entry is committed all the same
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class DecisionWriter:
    """A thread that appends decision rows to `store` in batches; `append` waits for the commit."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH):
        self.store, self.max_batch = store, max_batch
        self.on_loop = store.dialect == "sqlite"
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[dict[str, Any], asyncio.Future]] = []
        self._computing = 0
        self._scheduled = False
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if self.on_loop:
            store.checkpoint_later()

    async def logged(self, compute: Callable[[], T], row_of: Callable[[T], dict[str, Any]]) -> T:
        """`compute()` on the event loop, its row (`row_of` its result) committed with those of the
        requests that came in with it; the result once the row is committed (else `StoreError`)."""
        self.begin()
        try:
            if self.on_loop:
                await asyncio.sleep(0)  # the requests that came in with this one begin too
            result = compute()
            row = row_of(result)
        except BaseException:
            self.abandon()
            raise
        await self.append(row, begun=True)
        return result

    def begin(self) -> None:
        """A computation on the event loop that will `append(row, begun=True)` has begun (or will, after a yield).

        Entries wait for the computations begun before them, so that the last one commits for all.
        Every `begin` is followed by exactly one `append(..., begun=True)` or `abandon()`.
        """
        if self.on_loop:
            self._computing += 1

    def abandon(self) -> None:
        """A begun computation ends without an entry (it failed); the entries it held back are committed."""
        if not self.on_loop:
            return
        self._computing -= 1
        self._commit_if_last(asyncio.get_running_loop())

    async def append(self, row: dict[str, Any], begun: bool = False) -> None:
        """Append one row (from `Store.decision_values`); return once it is committed, else raise `StoreError`.

        `begun` when the computation of this row was announced with `begin`.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self.on_loop:
            self._ensure_started()
            self._queue.put((row, loop, future))
            await future
            return
        if begun:
            self._computing -= 1
        self._pending.append((row, future))
        self._commit_if_last(loop)
        await future  # returns at once when the commit just happened

    def _commit_if_last(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit what waits when no computation begun is still to add its entry (and no retry is due)."""
        if self._computing == 0 and not self._scheduled:
            self._commit_on_loop(loop, None)

    def _commit_on_loop(self, loop: asyncio.AbstractEventLoop, busy_since: float | None) -> None:
        self._scheduled = False
        self._start_checkpoints()
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            committed = try_append_decisions(self.store, [row for row, _ in batch])
        except Exception:  # noqa: BLE001 - the group failed: each entry on its own, so only a bad one fails
            self._each(batch)
            return
        if committed:
            for _, future in batch:
                _settle(future, None)
            return
        now = time.monotonic()
        busy_since = now if busy_since is None else busy_since
        if now - busy_since < BUSY_ON_LOOP:  # another writer's commit: try again after the next computations
            self._pending = batch + self._pending
            self._scheduled = True
            loop.call_later(RETRY_AFTER, self._commit_on_loop, loop, busy_since)
            return
        self._ensure_started()  # held for longer: wait for it in the writer thread
        for row, future in batch:
            self._queue.put((row, loop, future))

    def _each(self, batch: list[tuple[dict[str, Any], asyncio.Future]]) -> None:
        """Commit each entry of a group whose commit failed on its own; each request gets its own outcome."""
        try:
            outcomes: list[Exception | None] = list(append_each(self.store, [row for row, _ in batch]))
        except Exception as exc:  # noqa: BLE001 - a lone entry that failed: its request gets the error
            outcomes = [exc]
        for (_, future), error in zip(batch, outcomes, strict=True):
            if error is not None:
                log.error("the decision log refused an entry: %s", error)
            _settle(future, error)

    def _ensure_started(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="bip-log-writer", daemon=True)
                    self._thread.start()

    def _start_checkpoints(self) -> None:
        if self._checkpointer is None or not self._checkpointer.is_alive():
            with self._lock:
                if self._checkpointer is None or not self._checkpointer.is_alive():
                    self._checkpointer = threading.Thread(
                        target=self._checkpoints, name="bip-log-checkpoint", daemon=True
                    )
                    self._checkpointer.start()

    def _checkpoints(self) -> None:
        while not self._stopping.wait(CHECKPOINT_EVERY):
            try:
                self.store.checkpoint()
            except Exception as exc:  # noqa: BLE001 - the next one tries again; the log stays whole meanwhile
                log.warning("checkpoint of the decision log failed: %s", exc)

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is waiting, then end the threads."""
        self._stopping.set()
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            try:
                outcomes: list[Exception | None] = list(append_each(self.store, [row for row, _, _ in batch]))
            except Exception as exc:  # noqa: BLE001 - a lone entry that failed: its request gets the error (503)
                outcomes = [exc]
            for (_, loop, future), error in zip(batch, outcomes, strict=True):
                if error is not None:
                    log.error("the decision log refused an entry: %s", error)
                with contextlib.suppress(RuntimeError):  # that event loop is closed (the server stopped)
                    loop.call_soon_threadsafe(_settle, future, error)
