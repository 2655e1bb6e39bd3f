"""How the workers of `bip serve` share the connections of the one listening socket they all accept from.

`TakingTurns` accepts for one worker, in place of the `asyncio.Server` uvicorn would make; `Shares`
tells each worker how many connections the others hold.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("bip.service")


class Shares:
    """How many connections each worker holds: a 4-byte count in a file per worker (`connections-PID`) in the runtime folder.

    Each worker writes its own (when it accepts, and every `EVERY` seconds) and reads the others'
    when it is about to accept; the master removes a worker's file when the worker ends.
    """

    EVERY = 0.1

    def __init__(self, folder: Path, pid: int):
        self.folder, self.path = folder, connections_file(folder, pid)
        self._fd: int | None = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)

    def publish(self, count: int) -> None:
        """Write this worker's count."""
        if self._fd is not None:
            os.pwrite(self._fd, count.to_bytes(4, "little"), 0)

    def least_of_others(self) -> int | None:
        """The fewest connections another worker holds (None when no other has written its count)."""
        least = None
        for path in self.folder.glob("connections-*"):
            if path == self.path:
                continue
            try:
                data = path.read_bytes()
            except OSError:  # ended meanwhile
                continue
            if len(data) == 4:
                count = int.from_bytes(data, "little")
                least = count if least is None else min(least, count)
        return least

    def close(self) -> None:
        """Remove this worker's file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self.path.unlink(missing_ok=True)


def connections_file(runtime: Path, pid: int) -> Path:
    """The file in which worker `pid` writes how many connections it holds (`Shares`)."""
    return runtime / f"connections-{pid}"


class TakingTurns:
    """Accepts the connections of the listening socket all workers share, so that each worker holds its share.

    uvicorn (through uvloop) accepts every connection waiting at once. A worker woken by a burst
    (a client pool opening its 32 connections) took nearly all of it (31 of 32 seen) while the
    others were still waking, and a busy worker, its loop never asleep, also won the race for each
    connection opened again later: kept alive, the connections made it do most of the work.

    Here a worker accepts one connection per turn of its event loop, and while it holds more than
    one connection more than another worker (`Shares`) it pauses, looking again every `LOOK`
    seconds: it goes on as soon as the others have caught up. If in `STALLED` seconds no other
    worker took a connection, they are stuck or too busy: it takes the waiting one, and after
    `STALLS` such stalls in a row accepts without pausing for `FREE_FOR` seconds, so no client
    waits long on workers that do not accept. It stands in for the `asyncio.Server` uvicorn would
    keep (`close`, `wait_closed`).
    """

    LOOK = 0.001
    STALLED = 0.15
    STALLS = 2
    FREE_FOR = 0.5

    def __init__(
        self,
        sock: socket.socket,
        protocol: Callable[[], asyncio.Protocol],
        loop: asyncio.AbstractEventLoop,
        connections: set[Any],
        shares: Shares | None = None,
    ):
        self.sock, self.protocol, self.loop = sock, protocol, loop
        self.connections, self.shares = connections, shares
        self._opening: set[asyncio.Task] = set()
        self._closed = self._paused = False
        self._free_until, self._stalls = 0.0, 0
        self._others_then, self._stalled_at = 0, 0.0  # while paused: the others' least count, and when it is a stall
        self._unmade = 0  # accepted, its protocol not made yet (then it is among `connections`)
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._ready)
        if shares is not None:
            self._publish_every()

    def _held(self) -> int:
        return len(self.connections) + self._unmade

    def _ahead_of(self) -> int | None:
        """The others' least count when this worker holds more than one connection more; else None."""
        if self.shares is None or self.loop.time() < self._free_until:
            return None
        least = self.shares.least_of_others()
        return least if least is not None and self._held() > least + 1 else None

    def _ready(self) -> None:
        least = self._ahead_of()
        if least is None:
            self._accept()
            return
        self.loop.remove_reader(self.sock.fileno())  # another worker has room: let it take this one
        self._paused, self._others_then = True, least
        self._stalled_at = self.loop.time() + self.STALLED
        self.loop.call_later(self.LOOK, self._look)

    def _look(self) -> None:
        if self._closed:
            return
        least = self._ahead_of()
        if least is not None and least > self._others_then:  # the others are taking connections: wait on
            self._others_then, self._stalled_at = least, self.loop.time() + self.STALLED
        if least is not None and self.loop.time() < self._stalled_at:
            self.loop.call_later(self.LOOK, self._look)
            return
        if least is None:  # caught up (or free): this worker's turn again
            self._stalls = 0
        elif self._accept():  # a connection waited through a stall: take it
            self._stalls += 1
            if self._stalls >= self.STALLS:
                self._free_until, self._stalls = self.loop.time() + self.FREE_FOR, 0
        self._resume()

    def _resume(self) -> None:
        if self._paused and not self._closed:
            self._paused = False
            self.loop.add_reader(self.sock.fileno(), self._ready)

    def _accept(self) -> bool:
        """Accept one waiting connection; whether there was one."""
        try:
            connection, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False  # another worker took it
        except OSError as error:  # out of file descriptors, say: wait a moment, then accept again
            log.warning("accepting a connection failed: %s", error)
            if not self._paused:
                self.loop.remove_reader(self.sock.fileno())
                self._paused = True
                self.loop.call_later(0.5, self._resume)
            return False
        if connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._unmade += 1
        opening = self.loop.create_task(self._open(connection))
        self._opening.add(opening)
        opening.add_done_callback(self._opening.discard)
        self.publish()
        return True

    async def _open(self, connection: socket.socket) -> None:
        made = False

        def protocol() -> asyncio.Protocol:
            nonlocal made
            made, self._unmade = True, self._unmade - 1
            return self.protocol()

        try:
            await self.loop.connect_accepted_socket(protocol, connection)
        except OSError:  # the client went away at once
            connection.close()
        finally:
            if not made:
                self._unmade -= 1
                self.publish()

    def publish(self) -> None:
        """Write how many connections this worker holds now (as each opens and closes, and every `Shares.EVERY` s)."""
        if not self._closed and self.shares is not None:
            self.shares.publish(self._held())

    def _publish_every(self) -> None:
        if not self._closed and self.shares is not None:
            self.publish()
            self.loop.call_later(Shares.EVERY, self._publish_every)

    def close(self) -> None:
        """Stop accepting (the socket itself stays open: it is the master's)."""
        if not self._closed:
            self._closed = True
            if not self._paused:
                self.loop.remove_reader(self.sock.fileno())
            if self.shares is not None:
                self.shares.close()

    async def wait_closed(self) -> None:
        """Nothing to wait for: the connections are uvicorn's to close."""
