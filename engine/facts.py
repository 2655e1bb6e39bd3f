"""Facts: the flat, documented values that rules are written against.

`fact_specs` is the one catalogue of facts (name, type, range; the one-line descriptions are
`fact_description.NAME` in the message catalogue, shown by `bip_engine.authoring.describe`); the rule
language checks conditions against it and `bip rules docs` prints it. `derive_facts` computes the
values from a citizen record and the check date. Anything dated after the check date is left out
(except planned interventions) and reported, so a check is reproducible for any date.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .expr import FactSpec
from .messages import text
from .models import Data, data_class

if TYPE_CHECKING:  # annotations only: a cold check derives facts without loading the pydantic models
    from .catalogue import Catalogue
    from .record import Intervention, Record
    from .staircase import Match

JOB_ORIENTED = "job_oriented"
CONFIDENCE = ("none", "low", "medium", "high")


def fact_specs(catalogue: Catalogue, phases: tuple[str, ...] = (), flags: tuple[str, ...] = ()) -> dict[str, FactSpec]:
    """Every fact a rule may use, for a rulebook with these catalogues, phases and flags."""
    interventions = tuple(catalogue.interventions)
    types = tuple(catalogue.types)
    indicators = tuple(catalogue.indicators)
    specs = [
        FactSpec("measurement_count", "integer", minimum=0),
        FactSpec("months_since_measurement", "number", minimum=0, nullable=True),
        FactSpec("rated_measurement_count", "integer", minimum=0),
        FactSpec("months_since_rated_measurement", "number", minimum=0, nullable=True),
        FactSpec("latest_unrated", "boolean"),
        FactSpec("months_between_measurements", "number", minimum=0, nullable=True),
        FactSpec("change_per_quarter", "number", nullable=True),
        FactSpec("level", "number", minimum=1, maximum=5, nullable=True),
        FactSpec("change", "number", minimum=-4, maximum=4, nullable=True),
        FactSpec("change_prev", "number", minimum=-4, maximum=4, nullable=True),
        FactSpec("change_two_intervals", "number", minimum=-4, maximum=4, nullable=True),
        FactSpec("confidence", "text", values=CONFIDENCE),
        FactSpec("largest_drop", "number", minimum=0, maximum=4, nullable=True),
        FactSpec("largest_drop_indicator", "text", values=indicators, nullable=True),
        FactSpec("belief_gap", "number", minimum=0, maximum=4, nullable=True),
        FactSpec("active_interventions", "list", values=interventions),
        FactSpec("active_types", "list", values=types),
        FactSpec("active_count", "integer", minimum=0),
        FactSpec("active_type_count", "integer", minimum=0),
        FactSpec("job_oriented_active", "boolean"),
        FactSpec("months_without_intervention", "number", minimum=0, nullable=True),
        FactSpec("planned_count", "integer", minimum=0),
        FactSpec("internship_count", "integer", minimum=0),
        FactSpec("internship_active_count", "integer", minimum=0),
        FactSpec("internship_planned_count", "integer", minimum=0),
        FactSpec("caseworker_changes_6m", "integer", minimum=0),
        FactSpec("caseworker_changes_12m", "integer", minimum=0),
        FactSpec("months_since_caseworker_change", "number", minimum=0, nullable=True),
        FactSpec("days_since_held_meeting", "integer", minimum=0, nullable=True),
        FactSpec("no_shows_3m", "integer", minimum=0),
        FactSpec("has_notes", "boolean"),
        FactSpec("staircase_phrases", "list"),
        FactSpec("staircase_phrase_count", "integer", minimum=0),
    ]
    for indicator in catalogue.indicators.values():
        specs.append(FactSpec(f"score_{indicator.id}", "integer", minimum=1, maximum=5, nullable=True))
    specs.append(FactSpec("phase", "text", values=phases, nullable=True, stage="phase"))
    specs.append(FactSpec("flags", "list", values=flags, stage="flag"))
    return {spec.name: spec for spec in specs}


@data_class(frozen=True)
class LeftOut(Data):
    """A part of the record that the check did not use, and why.

    `reason` is a message key (`left_out.after_check_date`, `left_out.future_intervention`); `name`
    the intervention type or caseworker id, `status` an intervention's status. `detail(lang)` and
    `why(lang)` give the texts in Danish or English (`bip_engine.messages`).
    """

    kind: str  # measurement, intervention, caseworker or meeting
    date: dt.date | None
    reason: str
    name: str = ""
    status: str = ""

    def detail(self, lang: str = "en") -> str:
        """What was left out, in `lang`: "measurement of 2027-02-22"."""
        day = self.date.isoformat() if self.date else ""
        return text(f"left_out.{self.kind}", lang, name=self.name, date=day)

    def why(self, lang: str = "en") -> str:
        """Why it was left out, in `lang`."""
        return text(self.reason, lang, status=self.status)


class DerivedFacts:
    """The facts of one record on one date, with what was left out."""

    def __init__(self, values: dict[str, Any], left_out: list[LeftOut] | None = None):
        self.values = values
        self.left_out = left_out if left_out is not None else []

    def __repr__(self) -> str:
        return f"DerivedFacts(values={self.values!r}, left_out={self.left_out!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DerivedFacts):
            return NotImplemented
        return (self.values, self.left_out) == (other.values, other.left_out)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was


def months_between(earlier: dt.date, later: dt.date) -> float:
    """Calendar months from `earlier` to `later`, with the part month as a fraction (two places).

    22 August to 22 November is exactly 3; 22 August to 7 November is 2.5 (15 of 30 days).
    """
    if later < earlier:
        return -months_between(later, earlier)
    whole = (later.year - earlier.year) * 12 + later.month - earlier.month
    if later.day < earlier.day:
        whole -= 1
    anchor = _add_months(earlier, whole)
    following = _add_months(earlier, whole + 1)
    return round(whole + (later - anchor).days / (following - anchor).days, 2)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def derive_facts(record: Record, as_of: dt.date, catalogue: Catalogue) -> DerivedFacts:
    """Compute every fact of `fact_specs` (except the stage facts) for `record` on `as_of`."""
    left_out: list[LeftOut] = []
    values: dict[str, Any] = {}
    measurements = _measurements_until(record, as_of, left_out)
    values.update(_measurement_facts(measurements, as_of, catalogue))
    values.update(_intervention_facts(record, as_of, catalogue, measurements, left_out))
    values.update(_caseworker_facts(record, as_of, left_out))
    values.update(_meeting_facts(record, as_of, left_out))
    values.update(_note_facts(record.notes, catalogue))
    return DerivedFacts(values, left_out)


def _measurements_until(record: Record, as_of: dt.date, left_out: list[LeftOut]) -> list:
    kept = []
    for measurement in sorted(record.measurements, key=lambda m: m.date):
        if measurement.date > as_of:
            left_out.append(LeftOut("measurement", measurement.date, "left_out.after_check_date"))
        else:
            kept.append(measurement)
    return kept


def fmean(values: Iterable[float]) -> float:
    """The mean, as `statistics.fmean` works it out (`math.fsum` over the count), without importing it."""
    items = list(values)
    return math.fsum(items) / len(items)


def _mean_change(newer: dict[str, int], older: dict[str, int], indicators: list[str]) -> float | None:
    common = [name for name in indicators if name in newer and name in older]
    if not common:
        return None
    return round(fmean(newer[name] - older[name] for name in common), 4)


def _measurement_facts(measurements: list, as_of: dt.date, catalogue: Catalogue) -> dict[str, Any]:
    """The facts of the measurements up to the check date.

    The phase rests on the citizen's own ratings: `level` and the changes are worked out over the
    *rated* measurements only (those holding at least one citizen-rated score). A latest measurement
    with only the caseworker's scores leaves the phase to the latest rated one (`latest_unrated`).
    `confidence` starts from the number of rated measurements (one low, two medium, three or more
    high) and drops one step for each of: the latest measurement holds none of the citizen's ratings;
    the latest rated one is more than six months old; more than six months passed between the last
    two rated ones (the research measured about every three months).
    """
    count = len(measurements)
    citizen = catalogue.citizen_indicators()
    rated = [m for m in measurements if any(name in m.scores for name in citizen)]
    n = len(rated)
    scores = [m.scores for m in rated]
    latest = scores[-1] if scores else {}
    citizen_latest = [latest[name] for name in citizen if name in latest]
    change = _mean_change(scores[-1], scores[-2], citizen) if n >= 2 else None
    between = months_between(rated[-2].date, rated[-1].date) if n >= 2 else None
    since_rated = months_between(rated[-1].date, as_of) if rated else None
    latest_unrated = bool(measurements) and (not rated or measurements[-1] is not rated[-1])
    values: dict[str, Any] = {
        "measurement_count": count,
        "months_since_measurement": months_between(measurements[-1].date, as_of) if measurements else None,
        "rated_measurement_count": n,
        "months_since_rated_measurement": since_rated,
        "latest_unrated": latest_unrated,
        "months_between_measurements": between,
        "change_per_quarter": round(change * 3 / between, 4) if change is not None and between else None,
        "level": round(fmean(citizen_latest), 4) if citizen_latest else None,
        "change": change,
        "change_prev": _mean_change(scores[-2], scores[-3], citizen) if n >= 3 else None,
        "change_two_intervals": _mean_change(scores[-1], scores[-3], citizen) if n >= 3 else None,
        "confidence": _confidence(n, latest_unrated, since_rated, between),
    }
    every = [m.scores for m in measurements]
    for name in catalogue.indicators:
        values[f"score_{name}"] = next((s[name] for s in reversed(every) if name in s), None)
    drop, drop_indicator = None, None
    if count >= 2:
        drop = 0
        for indicator in catalogue.indicators.values():
            if indicator.job_linked and indicator.id in every[-1] and indicator.id in every[-2]:
                fall = every[-2][indicator.id] - every[-1][indicator.id]
                if fall > drop:
                    drop, drop_indicator = fall, indicator.id
    values["largest_drop"] = drop
    values["largest_drop_indicator"] = drop_indicator
    confidence, belief = values.get("score_work_confidence"), values.get("score_caseworker_belief")
    values["belief_gap"] = abs(confidence - belief) if confidence is not None and belief is not None else None
    return values


#: Months after which a rated measurement, or the interval between two, counts as old: twice the
#: research's cadence of about three months.
OLD_MONTHS = 6


def _confidence(rated: int, latest_unrated: bool, since_rated: float | None, between: float | None) -> str:
    """How far the phase can be trusted, from how many, how old and how complete the rated measurements are."""
    if rated == 0:
        return "none"
    step = min(rated, 3)
    step -= latest_unrated
    step -= since_rated is not None and since_rated > OLD_MONTHS
    step -= between is not None and between > OLD_MONTHS
    return CONFIDENCE[max(step, 1)]


def intervention_status(item: Intervention, as_of: dt.date) -> str:
    """The intervention's status on the check date: planned, active, ended, cancelled or future.

    An `interrupted` one is active from its start until its end date (when it stopped), then ended.
    """
    if item.status == "cancelled":
        return "cancelled"
    if item.start > as_of:
        return "planned" if item.status in (None, "planned") else "future"
    if item.status == "planned":
        return "planned"
    if item.status == "completed" and (item.end is None or item.end < as_of):
        return "ended"
    if item.end is not None and item.end < as_of:
        return "ended"
    return "active"


def _intervention_facts(
    record: Record, as_of: dt.date, catalogue: Catalogue, measurements: list, left_out: list[LeftOut]
) -> dict[str, Any]:
    active: list[str] = []
    planned = internships = internships_active = internships_planned = 0
    last_active: dt.date | None = None
    for item in record.interventions:
        kind = catalogue.interventions[catalogue.intervention_id(item.type) or item.type]  # validated: a known type
        status = intervention_status(item, as_of)
        if status == "future":
            left_out.append(
                LeftOut("intervention", item.start, "left_out.future_intervention", kind.id, item.status or "")
            )
            continue
        if status == "cancelled":
            continue
        internships += kind.internship
        if status == "planned":
            planned += 1
            internships_planned += kind.internship
        elif status == "active":
            active.append(kind.id)
            internships_active += kind.internship
        else:
            ended = item.end or item.start
            last_active = ended if last_active is None else max(last_active, ended)
    types = sorted({catalogue.interventions[name].type for name in active})
    if active:
        without = 0.0
    elif last_active is not None:
        without = months_between(last_active, as_of)
    elif measurements:
        without = months_between(measurements[0].date, as_of)
    else:
        without = None
    return {
        "active_interventions": sorted(set(active)),
        "active_types": types,
        "active_count": len(active),
        "active_type_count": len(types),
        "job_oriented_active": JOB_ORIENTED in types,
        "months_without_intervention": without,
        "planned_count": planned,
        "internship_count": internships,
        "internship_active_count": internships_active,
        "internship_planned_count": internships_planned,
    }


def _caseworker_facts(record: Record, as_of: dt.date, left_out: list[LeftOut]) -> dict[str, Any]:
    assignments = []
    for entry in sorted(record.caseworkers, key=lambda a: a.from_):
        if entry.from_ > as_of:
            left_out.append(LeftOut("caseworker", entry.from_, "left_out.after_check_date", entry.id))
        else:
            assignments.append(entry)
    changes = [later.from_ for earlier, later in pairwise(assignments) if later.id != earlier.id]
    return {
        "caseworker_changes_6m": sum(months_between(day, as_of) <= 6 for day in changes),
        "caseworker_changes_12m": sum(months_between(day, as_of) <= 12 for day in changes),
        "months_since_caseworker_change": months_between(changes[-1], as_of) if changes else None,
    }


def _meeting_facts(record: Record, as_of: dt.date, left_out: list[LeftOut]) -> dict[str, Any]:
    """Days since the latest held meeting (unknown without one) and no-shows in the last three months."""
    held: list[dt.date] = []
    no_shows = 0
    for meeting in sorted(record.meetings, key=lambda m: m.date):
        if meeting.date > as_of:
            left_out.append(LeftOut("meeting", meeting.date, "left_out.after_check_date", meeting.kind))
        elif meeting.status == "held":
            held.append(meeting.date)
        elif meeting.status == "no_show" and months_between(meeting.date, as_of) <= 3:
            no_shows += 1
    return {
        "days_since_held_meeting": (as_of - held[-1]).days if held else None,
        "no_shows_3m": no_shows,
    }


def _note_facts(notes: str | None, catalogue: Catalogue) -> dict[str, Any]:
    found = list(dict.fromkeys(match.pattern for match in staircase_matches(notes, catalogue)))
    return {
        "has_notes": bool((notes or "").strip()),
        "staircase_phrases": found,
        "staircase_phrase_count": len(found),
    }


# --- Staircase narratives in the notes ----------------------------------------------------------

#: Facts about the notes whose flag evidence also shows where in the notes the patterns were found.
NOTE_EVIDENCE_FACTS = ("staircase_phrases", "staircase_phrase_count")


def staircase_matches(notes: str | None, catalogue: Catalogue) -> list[Match]:
    """Each place in `notes` where a staircase pattern of the catalogue is found, in note order
    (see `bip_engine.staircase`); the patterns are compiled only when there are notes."""
    if not notes or not notes.strip() or not catalogue.staircase:
        return []
    return catalogue.staircase_matcher().find(notes)
