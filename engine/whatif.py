"""What-if: a citizen record with a proposed intervention or a change of caseworker added.

`what_if` returns a new, validated `Record`; check it like any other to see the check as it would
be. The proposal is validated exactly as a record is: an unknown intervention type gets the same
located problem (`R004 interventions[N].type: ...`, with "did you mean") that a record file would.
Nothing is stored and nothing is logged here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from .catalogue import Catalogue
from .record import Record, check_names, validate_record

SOURCE = "<what-if>"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def what_if(
    record: Record,
    interventions: Iterable[Mapping[str, Any]] = (),
    caseworker: Mapping[str, Any] | None = None,
    catalogue: Catalogue | None = None,
    source: str = SOURCE,
) -> Record:
    """`record` with `interventions` ({type, start, end?, status?}) and a new `caseworker` ({id, from}) added.

    Dates may be `datetime.date` or YYYY-MM-DD text. With a `catalogue` (a rulebook's), intervention
    and indicator names are checked as well; `Checker.what_if` passes its own. Raises `RecordError`.
    """
    data = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["interventions"] = [
        *data.get("interventions", []),
        *({key: _plain(value) for key, value in item.items() if value is not None} for item in interventions),
    ]
    if caseworker is not None:
        data["caseworkers"] = [*data.get("caseworkers", []), {key: _plain(value) for key, value in caseworker.items()}]
    changed = validate_record(data, source)
    if catalogue is not None:
        check_names(changed, data, source, catalogue)
    return changed
