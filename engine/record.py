"""The citizen record: the input of a check, read from YAML or JSON and validated.

The format is a public interface (see the README and `bip schema input`). Validation happens in
two steps: the shape and types (pydantic), then the names against the rulebook's catalogues
(indicator ids, intervention ids and aliases). Every problem names the file, the line where it
can be found, and the field, so a caseworker or an IT team can fix the record at once.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from .errors import Problem, RecordError
from .yamlio import field_path, line_of, parse_json, parse_yaml, read_text

Score = Annotated[StrictInt, Field(ge=1, le=5)]
Status = Literal["planned", "ongoing", "completed", "cancelled"]
CPR_LIKE = re.compile(r"^\s*\d{6}-?\d{4}\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measurement(_Strict):
    """One progression measurement: indicator scores from 1 (lowest) to 5 (highest) on a date."""

    date: dt.date
    scores: dict[str, Score] = Field(min_length=1)


class Intervention(_Strict):
    """One intervention: its type (id or alias), start, optional end and optional status."""

    type: str = Field(min_length=1)
    start: dt.date
    end: dt.date | None = None
    status: Status | None = None


class CaseworkerAssignment(_Strict):
    """A caseworker responsible from a date; each entry after the first is a change."""

    id: str = Field(min_length=1)
    from_: dt.date = Field(alias="from")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Record(_Strict):
    """A citizen's record as the engine reads it."""

    id: str = Field(min_length=1, description="Pseudonymous citizen id (never a CPR number)")
    measurements: list[Measurement] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)
    caseworkers: list[CaseworkerAssignment] = Field(default_factory=list)
    notes: str | None = None


def cpr_warning(record: Record) -> str | None:
    """A warning when the citizen id looks like a Danish CPR number, which must not be used."""
    if CPR_LIKE.match(record.id):
        return "the citizen id looks like a CPR number; use a pseudonymous id"
    return None


def read_record_file(source: str) -> tuple[Any, str]:
    """Read a record file (or `-` for standard input); return the loaded data and its display name."""
    if source == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        text, problem = read_text(Path(source))
        if problem:
            raise RecordError(problem)
        name = source
    if not text.strip():
        raise RecordError(Problem("R001", "the record is empty", name))
    data, problem = parse_json(text, name) if name.endswith(".json") else parse_yaml(text, name)
    if problem:
        raise RecordError(problem)
    return data, name


def validate_record(data: Any, source: str = "<record>") -> Record:
    """Validate loaded data as a `Record`; raise `RecordError` listing every problem with its line."""
    if not isinstance(data, dict):
        raise RecordError(Problem("R001", "a record must be a mapping with at least an 'id'", source,
                                  getattr(data, "line", None)))
    try:
        return Record.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem("R002", f"{field_path(error['loc'])}: {_message(error)}", source,
                    line_of(data, error["loc"]))
            for error in exc.errors()
        ]
        raise RecordError(problems) from None


def _message(error: dict) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in ("int_type", "greater_than_equal", "less_than_equal", "int_from_float"):
        return f"a score must be a whole number from 1 to 5, not {given!r}"
    if kind.startswith("date"):
        return f"must be a date written YYYY-MM-DD, not {given!r}"
    if kind == "literal_error":
        return f"must be one of planned, ongoing, completed, cancelled, not {given!r}"
    return error["msg"]


def check_names(record: Record, data: Any, source: str, catalogue) -> None:
    """Check indicator and intervention names against the rulebook's catalogue; raise `RecordError`."""
    problems = []
    for index, measurement in enumerate(record.measurements):
        for name in measurement.scores:
            if name not in catalogue.indicators:
                problems.append(Problem("R003", f"measurements[{index}].scores: {catalogue.unknown_indicator(name)}",
                                        source, line_of(data, ("measurements", index, "scores", name))))
    for index, item in enumerate(record.interventions):
        if catalogue.intervention_id(item.type) is None:
            problems.append(Problem("R004", f"interventions[{index}].type: {catalogue.unknown_intervention(item.type)}",
                                    source, line_of(data, ("interventions", index, "type"))))
        if item.end is not None and item.end < item.start:
            problems.append(Problem("R005", f"interventions[{index}].end: ends before it starts", source,
                                    line_of(data, ("interventions", index, "end"))))
    if problems:
        raise RecordError(problems)
