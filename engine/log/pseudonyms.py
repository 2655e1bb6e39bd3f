"""Citizens' pseudonyms: the log names a citizen only by an HMAC of the id with a key kept outside it (`keys`)."""

from __future__ import annotations

from .store import Store


def pseudonym(store: Store, citizen_id: str) -> str:
    """The citizen's pseudonym under the current key: HMAC-SHA256 of the id."""
    return store.pseudonym_keys().pseudonym(citizen_id)


def pseudonyms(store: Store, citizen_id: str) -> list[str]:
    """The citizen's pseudonym under every known key, current last (entries made before a rotation use older ones)."""
    return store.pseudonym_keys().all_pseudonyms(citizen_id)


def current_key_id(store: Store) -> str:
    """The id of the key new entries are written with."""
    return store.pseudonym_keys().current_id
