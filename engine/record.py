"""The citizen record: the input of a check, read from YAML or JSON and validated.

The format is a public interface (see docs/reference/records.md and `bip schema input`). Validation happens in
two steps: the shape and types (pydantic), then the names against the rulebook's catalogues
(indicator ids, intervention ids and aliases). Every problem names the file, the line where it
can be found, and the field, so a caseworker or an IT team can fix the record at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic_core import PydanticCustomError, ValidationError

from .errors import RecordError, problem
from .expr import closest
from .models import BeforeValidator, DataModel, Field, Strict, data_class
from .recordfile import CPR_LIKE, cpr_warning, read_record_file  # noqa: F401 - part of this module's interface
from .yamlio import field_path, line_of

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from .catalogue import Catalogue

Status = Literal["planned", "ongoing", "completed", "interrupted", "cancelled"]
MeetingStatus = Literal["held", "cancelled", "no_show"]
RECORD_SCHEMA_VERSION = "1.1"
"""The record format's version: 1.1 added `interrupted`, `meetings` and `schema_version`; 1.0 records load unchanged."""
ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
WRITTEN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def written_date(value: Any) -> Any:
    """Let only a date, or a text written YYYY-MM-DD, through to pydantic's date parsing.

    pydantic's lax mode would read a number (or a text of digits) as Unix seconds when it falls on a
    whole day, so `0` became 1970-01-01; a record or a request never means that.
    """
    if (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and WRITTEN_DATE.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("date_parsing", "Input should be a date written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(written_date)]
"""A date written YYYY-MM-DD (or a date already): what every date of a record and a request is."""


@data_class(frozen=True, kw_only=True)
class Measurement(DataModel):
    """One progression measurement: indicator scores from 1 (lowest) to 5 (highest) on a date."""

    date: IsoDate
    scores: Annotated[dict[str, Annotated[int, Strict(), Field(ge=1, le=5)]], Field(min_length=1)]


@data_class(frozen=True, kw_only=True)
class Intervention(DataModel):
    """One intervention: its type (id or alias), start, optional end and optional status.

    `interrupted` means it started and stopped before its planned end; `end` is the day it stopped
    (required), and the citizen counts as taking part until then. `cancelled` means it never started.
    """

    type: Annotated[str, Field(min_length=1)]
    start: IsoDate
    end: IsoDate | None = None
    status: Status | None = None


@data_class(frozen=True, kw_only=True)
class Meeting(DataModel):
    """One meeting with the citizen: its date, its kind (free text, e.g. "samtale") and whether it was held."""

    date: IsoDate
    kind: Annotated[str, Field(min_length=1)]
    status: MeetingStatus = "held"


@data_class(frozen=True, kw_only=True)
class CaseworkerAssignment(DataModel):
    """A caseworker responsible from a date; each entry after the first is a change."""

    id: Annotated[str, Field(min_length=1)]
    from_: Annotated[IsoDate, Field(alias="from")]
    team: Annotated[str | None, Field(min_length=1, max_length=100, description="The caseworker's team")] = None

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid", "populate_by_name": True}


@data_class(frozen=True, kw_only=True)
class Record(DataModel):
    """A citizen's record as the engine reads it."""

    id: Annotated[str, Field(min_length=1, description="Pseudonymous citizen id (never a CPR number)")]
    measurements: list[Measurement] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    caseworkers: list[CaseworkerAssignment] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    notes: str | None = None
    schema_version: Annotated[
        Literal["1.0", "1.1"] | None,
        Field(description="The record format's version; absent = any version this engine reads"),
    ] = None

    def written_at(self, part: str) -> str | None:
        """The file and line `part` (e.g. "interventions[2]") was written on, when known."""
        return (self.__dict__.get("_where") or {}).get(part)

    def note_written_at(self, part: str, where: str) -> None:
        """Remember the file and line `part` was written on (the record is read from a file).

        Kept beside the fields of the frozen instance, not as one of them."""
        self.__dict__.setdefault("_where", {})[part] = where


def validate_record(data: Any, source: str = "<record>") -> Record:
    """Validate loaded data as a `Record`; raise `RecordError` listing every problem with its line."""
    if not isinstance(data, dict):
        raise RecordError(problem("R001.mapping", source, getattr(data, "line", None)))
    try:
        record = Record.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key, args = _message(error)
            problems.append(problem(key, source, line_of(data, error["loc"]), field=field_path(error["loc"]), **args))
        raise RecordError(problems) from None
    for index, item in enumerate(record.interventions):
        line = line_of(data, ("interventions", index)) if item.status == "completed" and item.end is None else None
        if line is not None:
            record.note_written_at(f"interventions[{index}]", f"{source}:{line}")
    return record


def _given(value: Any) -> str:
    """A given value as it is shown in a message, shortened when it is long."""
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return shown if len(shown) <= 40 else shown[:30] + "…" + shown[-6:]


def _message(error: ErrorDetails) -> tuple[str, dict]:
    """The message key and arguments for one pydantic error."""
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "R002.required", {}
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "R002.unknown_field", {}
    if kind in ("int_type", "int_parsing", "greater_than_equal", "less_than_equal", "int_from_float"):
        return "R002.score", {"given": _given(given)}
    if kind.startswith("date"):
        if isinstance(given, str) and ISO_DATE.match(given) and "outside expected range" in error["msg"]:
            return "R002.no_such_date", {"given": _given(given)}
        return "R002.date", {"given": _given(given)}
    if kind == "literal_error":
        where = error["loc"][0] if error["loc"] else ""
        key = {"meetings": "R002.meeting_status", "schema_version": "R002.schema_version"}.get(
            str(where), "R002.status"
        )
        return key, {"given": _given(given)}
    if kind == "string_type":
        return "R002.text", {"given": _given(given)}
    if kind in ("string_too_short", "too_short"):
        return "R002.empty_text", {}
    if kind == "list_type":
        return "R002.list", {}
    if kind in ("dict_type", "model_type", "dataclass_type"):
        return "R002.mapping", {}
    return "R002.other", {"detail": error["msg"]}


def check_names(record: Record, data: Any, source: str, catalogue: Catalogue) -> None:
    """Check indicator and intervention names against the rulebook's catalogue; raise `RecordError`."""
    problems = []
    for index, measurement in enumerate(record.measurements):
        for name in measurement.scores:
            if name not in catalogue.indicators:
                problems.append(
                    problem(
                        "R003",
                        source,
                        line_of(data, ("measurements", index, "scores", name)),
                        field=f"measurements[{index}].scores",
                        name=name,
                        hint_name=closest(name, list(catalogue.indicators)),
                    )
                )
    aliases = None
    for index, item in enumerate(record.interventions):
        if catalogue.intervention_id(item.type) is None:
            if aliases is None:
                aliases = [
                    name.casefold() for kind in catalogue.interventions.values() for name in (kind.id, *kind.aliases)
                ]
            problems.append(
                problem(
                    "R004",
                    source,
                    line_of(data, ("interventions", index, "type")),
                    field=f"interventions[{index}].type",
                    name=item.type,
                    hint_name=closest(item.type.casefold(), aliases),
                )
            )
        if item.end is not None and item.end < item.start:
            problems.append(
                problem(
                    "R005", source, line_of(data, ("interventions", index, "end")), field=f"interventions[{index}].end"
                )
            )
        if item.status == "interrupted" and item.end is None:
            problems.append(
                problem(
                    "R010",
                    source,
                    line_of(data, ("interventions", index, "status")),
                    field=f"interventions[{index}].end",
                )
            )
    if problems:
        raise RecordError(problems)


def record_warnings(record: Record) -> list[tuple[str, dict[str, Any]]]:
    """Warnings about a valid record that the check still runs on: (message key, arguments).

    W002: a `completed` intervention without an end date is counted as ended on its start date,
    which can make the time without an intervention look longer than it was; the warning names the
    entry (file and line when the record was read from one, field, type and start) so the end date
    can be added.
    """
    return [
        ("W002", {"field": _located(record, index), "name": item.type, "start": item.start.isoformat()})
        for index, item in enumerate(record.interventions)
        if item.status == "completed" and item.end is None
    ]


def _located(record: Record, index: int) -> str:
    """The field of intervention `index`'s end, after the file and line it was written on when known."""
    where = record.written_at(f"interventions[{index}]")
    return f"{where}: interventions[{index}].end" if where else f"interventions[{index}].end"
