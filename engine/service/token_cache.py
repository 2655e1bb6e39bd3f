"""A short memory of token lookups, so that a request does not read the decision log each time."""

from __future__ import annotations

import hashlib
import threading
import time

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
    """

    def __init__(self, seconds: float = TOKEN_CACHE_SECONDS, size: int = 4096):
        self.seconds, self.size = seconds, size
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

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
