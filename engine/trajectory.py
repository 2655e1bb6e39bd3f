"""The citizen's trajectory: scores, level, interventions and caseworker changes over time.

`trajectory(record, as_of, catalogue, lang)` is what every report carries (`Report.trajectory`):
plain data, cheap to compute. The phase at each past measurement date needs the check re-run as
of that date, once per measurement, so only `Checker.trajectory` adds it (`phases`); a plain check
stays as fast as before.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from .facts import fmean, intervention_status
from .report import Trajectory

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .record import Record


def trajectory(record: Record, as_of: dt.date, catalogue: Catalogue, lang: str = "da") -> Trajectory:
    """The trajectory of `record` up to `as_of` (later measurements and caseworkers are left out)."""
    measurements = sorted((m for m in record.measurements if m.date <= as_of), key=lambda m: m.date)
    dates = [m.date.isoformat() for m in measurements]
    citizen = catalogue.citizen_indicators()
    series = []
    for indicator in catalogue.indicators.values():
        scores = [m.scores.get(indicator.id) for m in measurements]
        if all(score is None for score in scores):
            continue
        series.append(
            {  # an `IndicatorSeries`, field by field in the model's order (pydantic makes it in one go)
                "id": indicator.id,
                "label": indicator.label.get(lang),
                "rated_by": indicator.rated_by,
                "points": [
                    {"date": day, "score": score} for day, score in zip(dates, scores, strict=True) if score is not None
                ],
                "scores": scores,
            }
        )
    level = []
    for day, measurement in zip(dates, measurements, strict=True):
        own = [measurement.scores[name] for name in citizen if name in measurement.scores]
        level.append({"date": day, "level": round(fmean(own), 4) if own else None})  # a `LevelPoint`
    return Trajectory.model_validate(
        {
            "as_of": as_of.isoformat(),
            "dates": dates,
            "indicators": series,
            "level": level,
            "interventions": _bands(record, as_of, catalogue, lang),
            "caseworker_changes": _changes(record, as_of),
        }
    )


def _bands(record: Record, as_of: dt.date, catalogue: Catalogue, lang: str) -> list[dict[str, Any]]:
    bands = []
    for item in sorted(record.interventions, key=lambda i: (i.start, i.end or dt.date.max)):
        status = intervention_status(item, as_of)
        if status in ("cancelled", "future"):
            continue
        kind = catalogue.interventions[catalogue.intervention_id(item.type) or item.type]
        if status == "active":
            until = min(item.end, as_of) if item.end else as_of
        else:
            until = item.end or item.start
        bands.append(
            {  # an `InterventionBand`
                "type": kind.id,
                "label": kind.label.get(lang),
                "main_type": kind.type,
                "main_type_label": catalogue.types[kind.type].label.get(lang),
                "start": item.start.isoformat(),
                "end": item.end.isoformat() if item.end else None,
                "until": until.isoformat(),
                "status": status,
            }
        )
    return bands


def _changes(record: Record, as_of: dt.date) -> list[dict[str, Any]]:
    assignments = sorted((a for a in record.caseworkers if a.from_ <= as_of), key=lambda a: a.from_)
    return [
        {"date": later.from_.isoformat(), "caseworker": later.id, "previous": earlier.id}  # a `CaseworkerMarker`
        for earlier, later in pairwise(assignments)
        if later.id != earlier.id
    ]
