"""What day it is: "today" is the date in Europe/Copenhagen, or in the zone `BIP_TIMEZONE` names.

A server or container often runs in UTC; between midnight and one (two in summer) Copenhagen time
its local date is still yesterday. Every "today" of the engine comes from `today()`.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from .errors import KeyedError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/Copenhagen"


def zone() -> ZoneInfo:
    """The zone of "today": `BIP_TIMEZONE`, else Europe/Copenhagen (`KeyedError` for a name that is no zone)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # on first use: a check of a given date needs none

    name = os.environ.get("BIP_TIMEZONE") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown, malformed, or a folder of the zone data
        raise KeyedError("clock.unknown_zone", zone=name) from None


def today() -> dt.date:
    """Today's date in `zone()`."""
    return dt.datetime.now(zone()).date()


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of `day` in `zone()`, in UTC: where "before" or "from" a date begins in the log."""
    return dt.datetime.combine(day, dt.time(), zone()).astimezone(dt.UTC)
