"""How the decision log writes times (UTC) and JSON (canonical), and reads times back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """`value` in UTC (a time without a zone is taken as UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """`value` as ISO 8601 UTC with microseconds and a Z, or None."""
    value = utc(value)
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z") if value else None


def dumps(value: Any) -> str:
    """Canonical JSON as the log stores it (sorted keys, no spaces, UTF-8 as is)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
