"""Reading a citizen record file, and a plain-Python reading of a record for the cold command-line check.

`read_record_file` loads YAML or JSON (the format is validated by `bip_engine.record`). `light_record`
reads loaded data into plain objects with the attributes of `bip_engine.record.Record`, without
pydantic, for the common case only: every value exactly of the expected type (a date as a date or
as `YYYY-MM-DD`). It answers None for anything else, valid or not, and the caller then validates
with pydantic, which gives the located messages of a rejected record; so the light reading never
accepts a record that pydantic would refuse, nor reads one differently.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

from .errors import RecordError, problem
from .yamlio import parse_json, parse_yaml, read_text

CPR_LIKE = re.compile(r"^\s*\d{6}-?\d{4}\s*$")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_STATUS = frozenset({"planned", "ongoing", "completed", "cancelled"})


def cpr_warning(record: Any) -> str | None:
    """The message key of a warning (W001) when the citizen id looks like a Danish CPR number, which must not be used.

    The report gives it in its language (`bip_engine.messages.text`)."""
    return "W001" if CPR_LIKE.match(record.id) else None


def read_record_file(source: str) -> tuple[Any, str]:
    """Read a record file (or `-` for standard input); return the loaded data and its display name."""
    if source == "-":
        content, name = sys.stdin.read(), "<stdin>"
    else:
        content, read_problem = read_text(Path(source))
        if read_problem:
            raise RecordError(read_problem)
        name = source
    if not content.strip():
        raise RecordError(problem("R001.empty", name))
    data, parse_problem = parse_json(content, name) if name.endswith(".json") else parse_yaml(content, name)
    if parse_problem:
        raise RecordError(parse_problem)
    return data, name


class _Plain:
    """Attributes only (a light record or one of its parts)."""

    def __init__(self, **values: Any):
        self.__dict__.update(values)


class _Unsure(Exception):
    """The light reading leaves this record to pydantic."""


def light_record(data: Any) -> Any | None:
    """`data` as plain objects with the attributes of a `Record`, or None to leave it to pydantic."""
    try:
        return _record(data)
    except _Unsure:
        return None


def _mapping(value: Any, required: frozenset[str], optional: frozenset[str]) -> dict:
    if not isinstance(value, dict) or not required <= value.keys() <= required | optional:
        raise _Unsure
    return value


def _text(value: Any, empty: bool = False) -> str:
    if type(value) is not str or (not value and not empty):
        raise _Unsure
    return value


def _day(value: Any) -> dt.date:
    if type(value) is dt.date:
        return value
    if type(value) is str and _DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _Unsure


def _items(value: Any) -> list:
    if not isinstance(value, list):
        raise _Unsure
    return value


_RECORD: tuple[frozenset[str], frozenset[str]] = (
    frozenset({"id"}),
    frozenset({"measurements", "interventions", "caseworkers", "notes"}),
)
_MEASUREMENT: tuple[frozenset[str], frozenset[str]] = (frozenset({"date", "scores"}), frozenset())
_INTERVENTION: tuple[frozenset[str], frozenset[str]] = (frozenset({"type", "start"}), frozenset({"end", "status"}))
_CASEWORKER: tuple[frozenset[str], frozenset[str]] = (frozenset({"id", "from"}), frozenset())


def _record(data: Any) -> _Plain:
    data = _mapping(data, *_RECORD)
    notes = data.get("notes")
    return _Plain(
        id=_text(data["id"]),
        measurements=[_measurement(item) for item in _items(data.get("measurements", []))],
        interventions=[_intervention(item) for item in _items(data.get("interventions", []))],
        caseworkers=[_caseworker(item) for item in _items(data.get("caseworkers", []))],
        notes=None if notes is None else _text(notes, empty=True),
    )


def _measurement(item: Any) -> _Plain:
    item = _mapping(item, *_MEASUREMENT)
    scores = item["scores"]
    if not isinstance(scores, dict) or not scores:
        raise _Unsure
    for name, score in scores.items():
        if type(name) is not str or type(score) is not int or not 1 <= score <= 5:
            raise _Unsure
    return _Plain(date=_day(item["date"]), scores=dict(scores))


def _intervention(item: Any) -> _Plain:
    item = _mapping(item, *_INTERVENTION)
    end, status = item.get("end"), item.get("status")
    if status is not None and (type(status) is not str or status not in _STATUS):
        raise _Unsure
    return _Plain(
        type=_text(item["type"]), start=_day(item["start"]), end=None if end is None else _day(end), status=status
    )


def _caseworker(item: Any) -> _Plain:
    item = _mapping(item, *_CASEWORKER)
    return _Plain(id=_text(item["id"]), from_=_day(item["from"]))


def names_known(record: Any, catalogue: Any) -> bool:
    """Whether every indicator and intervention name is in the catalogue and no intervention ends
    before it starts (what `bip_engine.record.check_names` checks; it gives the messages)."""
    for measurement in record.measurements:
        if any(name not in catalogue.indicators for name in measurement.scores):
            return False
    for item in record.interventions:
        if catalogue.intervention_id(item.type) is None or (item.end is not None and item.end < item.start):
            return False
    return True
