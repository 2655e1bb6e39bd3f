"""The citizen's trajectory: scores, level, interventions and caseworker changes over time.

`trajectory(record, as_of, catalogue, lang)` is what every report carries (`Report.trajectory`):
plain data, cheap to compute. The phase at each past measurement date needs the check re-run as
of that date, once per measurement, so only `Checker.trajectory` adds it (`phases`); a plain check
stays as fast as before.

The parts are made here from the record, which was validated when it was read, and the catalogue,
so they are built as the report's dataclasses directly (their types checked by mypy), not as data
validated a second time.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import TYPE_CHECKING, cast

from .facts import fmean, intervention_status
from .report import BandStatus, CaseworkerMarker, IndicatorSeries, InterventionBand, LevelPoint, ScorePoint, Trajectory

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .record import Record


def trajectory(record: Record, as_of: dt.date, catalogue: Catalogue, lang: str = "da") -> Trajectory:
    """The trajectory of `record` up to `as_of` (later measurements and caseworkers are left out)."""
    measurements = sorted((m for m in record.measurements if m.date <= as_of), key=lambda m: m.date)
    dates = [m.date.isoformat() for m in measurements]
    rows = [m.scores for m in measurements]
    series = []
    for indicator in catalogue.indicators.values():
        name = indicator.id
        scores = [row.get(name) for row in rows]
        points: list[ScorePoint] = [
            {"date": day, "score": score} for day, score in zip(dates, scores, strict=True) if score is not None
        ]
        if points:
            series.append(
                IndicatorSeries(
                    id=name, label=indicator.label.get(lang), rated_by=indicator.rated_by, points=points, scores=scores
                )
            )
    citizen = catalogue.citizen_indicators()
    level = []
    for day, row in zip(dates, rows, strict=True):
        own = [row[name] for name in citizen if name in row]
        level.append(LevelPoint(date=day, level=round(fmean(own), 4) if own else None))
    return Trajectory(
        as_of=as_of.isoformat(),
        dates=dates,
        indicators=series,
        level=level,
        interventions=_bands(record, as_of, catalogue, lang),
        caseworker_changes=_changes(record, as_of),
    )


def _bands(record: Record, as_of: dt.date, catalogue: Catalogue, lang: str) -> list[InterventionBand]:
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
            InterventionBand(
                type=kind.id,
                label=kind.label.get(lang),
                main_type=kind.type,
                main_type_label=catalogue.types[kind.type].label.get(lang),
                start=item.start.isoformat(),
                end=item.end.isoformat() if item.end else None,
                until=until.isoformat(),
                status=cast("BandStatus", status),
            )
        )
    return bands


def _changes(record: Record, as_of: dt.date) -> list[CaseworkerMarker]:
    assignments = sorted((a for a in record.caseworkers if a.from_ <= as_of), key=lambda a: a.from_)
    return [
        CaseworkerMarker(date=later.from_.isoformat(), caseworker=later.id, previous=earlier.id)
        for earlier, later in pairwise(assignments)
        if later.id != earlier.id
    ]
