"""Citizens' pseudonyms: the log names a citizen only by an HMAC of the id with the database's secret."""

from __future__ import annotations

import hashlib
import hmac

from .store import Store


def pseudonym(store: Store, citizen_id: str) -> str:
    """The citizen's pseudonym in this database: HMAC-SHA256 of the id with the database's secret."""
    return hmac.new(store.secret("pseudonym"), citizen_id.encode("utf-8"), hashlib.sha256).hexdigest()
