"""A short memory of token lookups, so that a request does not read the decision log each time."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from ..log.tokens import Principal

TOKEN_CACHE_SECONDS = 5.0
"""How long a token's lookup is reused: a revoked token is refused at the latest this long after."""
MISSING = object()
"""What `TokenCache.get` answers for a token it does not know (None means a known, refused token)."""


class TokenCache:
    """Token lookups of the last `seconds`, so that a request does not read the database each time.

    Keyed by the token's SHA-256 (the cache never holds a token itself); unknown tokens are kept
    too, so a client repeating a bad token does not reach the database either. `bip tokens revoke`
    takes effect within `seconds` (`TOKEN_CACHE_SECONDS`, 5 s), in every worker process.

    `lookup` reads a token that is not cached once, however many requests ask for it meanwhile:
    when a lookup ran out, the requests of the next moments (at 500 a second, dozens; all 32
    connections of a client pool after a pause) each went to a thread of their own to read the
    same row, and the threads, contending for the interpreter, held up the answers of all.
    """

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS, size: int = 4096):
        self.seconds, self.size = seconds, size
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()
        self._loading: dict[tuple[int, str], asyncio.Future[Principal | None]] = {}

    async def lookup(self, token: str, load: Callable[[], Principal | None]) -> Principal | None:
        """The principal of `token` (None: refused): cached, else `load()` in a thread, once for every request asking meanwhile."""
        found = self.get(token)
        if found is not MISSING:
            return found  # type: ignore[return-value]
        key = (id(asyncio.get_running_loop()), self.key(token))
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(token, key, load))
        return await asyncio.shield(loading)  # a request that goes away does not end the others' lookup

    async def _load(self, token: str, key: tuple[int, str], load: Callable[[], Principal | None]) -> Principal | None:
        try:
            principal = await run_in_threadpool(load)
            self.put(token, principal)
            return principal
        finally:
            self._loading.pop(key, None)

    @staticmethod
    def key(token: str) -> str:
        """The cache key of a token."""
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, token: str) -> object:
        """The cached principal (or None for a refused token), or `MISSING` when not cached or stale."""
        entry = self._entries.get(self.key(token))
        if entry is None or entry[0] < time.monotonic():
            return MISSING
        return entry[1]

    def put(self, token: str, principal: Principal | None) -> None:
        """Remember a lookup for `seconds`."""
        with self._lock:
            if len(self._entries) >= self.size:
                now = time.monotonic()
                self._entries = {key: entry for key, entry in self._entries.items() if entry[0] >= now}
                if len(self._entries) >= self.size:
                    self._entries.clear()
            self._entries[self.key(token)] = (time.monotonic() + self.seconds, principal)
