"""The write lock of a SQLite decision log: one writer at a time, across threads and processes.

The lock file also holds a stamp: the last writer's random 16 bytes. A writer that finds its own
stamp there when it takes the lock knows that nobody wrote to the log since its own last write, so
what it remembers of the log (the tails of the hash chains, `chain.Tails`) still holds.
"""

from __future__ import annotations

import os
import threading

STAMP_SIZE = 16

try:
    import fcntl
except ImportError:  # Windows: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]


class WriterQueue:
    """Lets one writer of a SQLite file at a time in, across threads and processes.

    SQLite allows one writer; a writer that finds the database locked sleeps and retries in steps of
    up to 100 ms, which makes for long, unfair waits under load. Writers queue here instead: on a
    thread lock, then on an flock of a file next to the database, which the kernel hands on at once.
    """

    def __init__(self, path: str):
        self.path, self._thread_lock = path, threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._take(wait=True)

    def try_enter(self) -> bool:
        """Take the lock if no other writer holds it right now; False (and nothing held) when one does."""
        return self._take(wait=False)

    def _take(self, wait: bool) -> bool:
        if not self._thread_lock.acquire(blocking=wait):
            return False
        try:
            if fcntl is not None:
                if self._fd is None or self._pid != os.getpid():  # a forked child needs its own descriptor
                    self._fd, self._pid = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600), os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # only without waiting: another writer has it
            self._thread_lock.release()
            return False
        except BaseException:
            self._thread_lock.release()
            raise
        return True

    def __exit__(self, *exc: object) -> None:
        try:
            if fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def stamp(self) -> bytes | None:
        """The stamp the last writer left in the lock file (call while holding the lock); None without one."""
        if fcntl is None or self._fd is None:
            return None
        found = os.pread(self._fd, STAMP_SIZE, 0)
        return found if len(found) == STAMP_SIZE else None

    def restamp(self) -> bytes | None:
        """Leave a new stamp of this writer's in the lock file (call while holding the lock, after writing); the stamp."""
        if fcntl is None or self._fd is None:
            return None
        fresh = os.urandom(STAMP_SIZE)
        os.pwrite(self._fd, fresh, 0)
        return fresh

    def close(self) -> None:
        """Close this process's descriptor of the lock file (the lock is taken again on the next use)."""
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
