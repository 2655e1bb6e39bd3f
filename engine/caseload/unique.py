"""The same citizen id twice in one caseload: the first record counts, every later one is rejected.

Two records with one id are a data error (an export run twice, two files for one citizen); which
one is right cannot be told, so the first one read is evaluated and each later one is rejected with
`R006`, naming where the id was first read. It is still counted as read, so N read = M evaluated +
K rejected holds. An id counts as read even when its first record was rejected.

The ids met are kept in a private temporary SQLite database on disk, not in memory, so memory
stays flat in the number of citizens.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import TypeVar

from ..errors import Problem, problem
from .readers import RawLine, RawRecord, ReadProblem

_Item = TypeVar("_Item", RawRecord | ReadProblem, RawRecord | RawLine | ReadProblem)


class SeenIds:
    """The citizen ids met so far, and where each was met first."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, source TEXT) WITHOUT ROWID")

    def first_seen(self, citizen_id: str, source: str) -> str | None:
        """Note `citizen_id` as met at `source`; return where it was met before, or None the first time."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (citizen_id, source))
        if cursor.rowcount == 1:
            return None
        row = self._db.execute("SELECT source FROM seen WHERE id = ?", (citizen_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Drop the temporary database."""
        self._db.close()


def duplicate_problem(citizen_id: str, source: str, first: str) -> Problem:
    """The `R006` problem for a record whose id was already read at `first`."""
    return problem("R006", source, None, citizen=citizen_id, first=first)


def reject_duplicates(items: Iterable[_Item]) -> Iterator[_Item | ReadProblem]:
    """The items with every record after the first of the same id replaced by a `ReadProblem` (R006)."""
    seen = SeenIds()
    try:
        for item in items:
            citizen_id = item.data.get("id") if isinstance(item, RawRecord) else None
            if isinstance(citizen_id, str):
                first = seen.first_seen(citizen_id, item.source)
                if first is not None:
                    found = duplicate_problem(citizen_id, item.source, first)
                    yield ReadProblem(item.source, found)
                    continue
            yield item
    finally:
        seen.close()
