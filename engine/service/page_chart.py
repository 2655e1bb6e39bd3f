"""The geometry of the trajectory chart: scores over time as lines, points, bands and markers.

The page draws the chart as inline SVG on the server (no JavaScript). This module only computes
positions; the template writes the elements and the table with the same numbers. One line per
indicator and one for the level; one level point per measurement (carrying the phase the rules
gave on that date); intervention periods as bands in one lane per main type; changes of
caseworker as vertical markers.

Beside it, `small_multiples` lays out one small chart per indicator (the citizen's own ratings and
the caseworker's apart), each on the same time axis with the phase of each period as a band under
its line, so nine lines never lie on top of each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

WIDTH, HEIGHT = 760, 330
LEFT, RIGHT, TOP = 104, 16, 16
PLOT_HEIGHT = 190
LANE_HEIGHT, LANE_GAP = 10, 4


@dataclass
class ChartInput:
    """What the chart shows, in plain values (dates as `datetime.date`)."""

    dates: list[dt.date]
    scores: dict[str, list[int | None]]  # indicator id -> score per date (None: not scored)
    level: list[float | None]
    phases: list[str | None]  # phase id per date
    phase_labels: dict[str, str]
    indicator_labels: dict[str, str]
    bands: list[tuple[str, str, dt.date, dt.date]]  # main type, label, start, end
    type_labels: dict[str, str]
    changes: list[tuple[dt.date, str]]  # date, caseworker id
    end: dt.date


@dataclass
class Chart:
    """Positions of every element of the chart."""

    width: int = WIDTH
    height: int = HEIGHT
    lines: list[dict] = field(default_factory=list)  # {id, label, css, path, points: [{x, y, value, date}]}
    level: dict = field(default_factory=dict)  # {path, points: [{x, y, value, date, phase, label}]}
    bands: list[dict] = field(default_factory=list)  # {x, y, width, height, css, title}
    lanes: list[dict] = field(default_factory=list)  # {y, label}
    changes: list[dict] = field(default_factory=list)  # {x, y1, y2, title}
    y_ticks: list[dict] = field(default_factory=list)  # {y, label}
    x_ticks: list[dict] = field(default_factory=list)  # {x, label}
    phase_marks: list[dict] = field(default_factory=list)  # {x, y, phase, label}
    plot: dict = field(default_factory=dict)  # {x1, x2, y1, y2}
    phase_legend: list[dict] = field(default_factory=list)  # {phase, letter, label}: the phases shown


def build_chart(data: ChartInput, format_date: Callable[[dt.date], str]) -> Chart:
    """Lay out `data`; `format_date(date)` writes a date for the axis."""
    starts = [band[2] for band in data.bands] + [change[0] for change in data.changes] + list(data.dates)
    first = min(starts) if starts else data.end
    if data.dates:
        first = max(first, data.dates[0] - dt.timedelta(days=365))
    last = max([data.end, *data.dates])
    span = max((last - first).days, 1)
    x1, x2 = LEFT, WIDTH - RIGHT
    y_top, y_bottom = TOP, TOP + PLOT_HEIGHT

    def x_of(day: dt.date) -> float:
        clipped = min(max(day, first), last)
        return round(x1 + (x2 - x1) * (clipped - first).days / span, 1)

    def y_of(score: float) -> float:
        return round(y_bottom - (y_bottom - y_top) * (score - 1) / 4, 1)

    chart = Chart(plot={"x1": x1, "x2": x2, "y1": y_top, "y2": y_bottom})
    chart.y_ticks = [{"y": y_of(value), "label": str(value)} for value in range(1, 6)]
    chart.x_ticks = _x_ticks(first, last, x_of, format_date)
    for index, (indicator, values) in enumerate(data.scores.items()):
        points = [
            {"x": x_of(day), "y": y_of(value), "value": value, "date": day.isoformat()}
            for day, value in zip(data.dates, values, strict=False)
            if value is not None
        ]
        chart.lines.append(
            {
                "id": indicator,
                "label": data.indicator_labels.get(indicator, indicator),
                "css": f"ind-{index % 9}",
                "path": _path(points),
                "points": points,
            }
        )
    level_points = [
        {
            "x": x_of(day),
            "y": y_of(value),
            "value": value,
            "date": day.isoformat(),
            "phase": phase,
            "label": data.phase_labels.get(phase, "") if phase else "",
        }
        for day, value, phase in zip(data.dates, data.level, data.phases, strict=False)
        if value is not None
    ]
    chart.level = {"path": _path(level_points), "points": level_points}
    lanes_top = y_bottom + 34
    types = list(dict.fromkeys([*data.type_labels, *(band[0] for band in data.bands)]))
    for lane, type_id in enumerate(types):
        y = lanes_top + lane * (LANE_HEIGHT + LANE_GAP)
        chart.lanes.append({"y": y + LANE_HEIGHT - 1, "label": data.type_labels.get(type_id, type_id)})
        for main_type, label, start, end in data.bands:
            if main_type == type_id and end >= first and start <= last:
                left, right = x_of(start), x_of(end)
                chart.bands.append(
                    {
                        "x": left,
                        "y": y,
                        "width": max(right - left, 2),
                        "height": LANE_HEIGHT,
                        "css": f"band band-{type_id}",
                        "title": f"{label}: {format_date(start)} – {format_date(end)}",
                    }
                )
    chart.height = lanes_top + len(types) * (LANE_HEIGHT + LANE_GAP) + 8
    chart.changes = [
        {"x": x_of(day), "y1": y_top, "y2": y_bottom, "title": f"{format_date(day)}: {who}"}
        for day, who in data.changes
        if first <= day <= last
    ]
    chart.phase_marks = [
        {"x": point["x"], "y": y_bottom + 14, "phase": point["phase"] or "none", "label": point["label"]}
        for point in level_points
    ]
    shown = dict.fromkeys(str(point["phase"]) for point in level_points if point["phase"])
    chart.phase_legend = [
        {
            "phase": phase,
            "letter": data.phase_labels.get(phase, phase)[:1],
            "label": data.phase_labels.get(phase, phase),
        }
        for phase in shown
    ]
    return chart


def _path(points: list[dict]) -> str:
    """An SVG path through the points, in order."""
    return " ".join(f"{'M' if index == 0 else 'L'}{point['x']},{point['y']}" for index, point in enumerate(points))


def _x_ticks(
    first: dt.date, last: dt.date, x_of: Callable[[dt.date], float], format_date: Callable[[dt.date], str]
) -> list[dict]:
    """A tick at the start of every quarter (every year when the span is long)."""
    months = (1, 4, 7, 10) if (last - first).days <= 3 * 366 else (1,)
    ticks, year, month = [], first.year, first.month
    while dt.date(year, month, 1) <= last:
        day = dt.date(year, month, 1)
        if day >= first and month in months:
            ticks.append({"x": x_of(day), "label": format_date(day)})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ticks


SMALL_WIDTH, SMALL_HEIGHT = 260, 118
SMALL_LEFT, SMALL_RIGHT, SMALL_TOP, SMALL_PLOT = 22, 8, 8, 70


def small_multiples(data: ChartInput, caseworker_rated: set[str], format_date: Callable[[dt.date], str]) -> list[dict]:
    """One small chart per indicator that has a score: {id, label, group, width, height, path, points,
    phases: [{x, width, phase, label}], y_ticks, x_labels}; group is "own" or "caseworker"."""
    if not data.dates:
        return []
    first, last = data.dates[0], max(data.end, data.dates[-1])
    span = max((last - first).days, 1)
    x1, x2 = SMALL_LEFT, SMALL_WIDTH - SMALL_RIGHT
    y_top, y_bottom = SMALL_TOP, SMALL_TOP + SMALL_PLOT

    def x_of(day: dt.date) -> float:
        return round(x1 + (x2 - x1) * (day - first).days / span, 1)

    def y_of(score: float) -> float:
        return round(y_bottom - (y_bottom - y_top) * (score - 1) / 4, 1)

    ends = [*data.dates[1:], last]
    phases = [
        {
            "x": x_of(day),
            "width": max(x_of(end) - x_of(day), 2),
            "phase": phase or "none",
            "label": data.phase_labels.get(phase, "") if phase else "",
        }
        for day, end, phase in zip(data.dates, ends, data.phases, strict=False)
    ]
    charts = []
    for indicator, values in data.scores.items():
        points = [
            {"x": x_of(day), "y": y_of(value), "value": value, "date": day.isoformat()}
            for day, value in zip(data.dates, values, strict=False)
            if value is not None
        ]
        if not points:
            continue
        charts.append(
            {
                "id": indicator,
                "label": data.indicator_labels.get(indicator, indicator),
                "group": "caseworker" if indicator in caseworker_rated else "own",
                "width": SMALL_WIDTH,
                "height": SMALL_HEIGHT,
                "plot": {"x1": x1, "x2": x2, "y1": y_top, "y2": y_bottom},
                "path": _path(points),
                "points": points,
                "phases": [{**item, "y": y_bottom + 6, "height": 8} for item in phases],
                "y_ticks": [{"y": y_of(value), "label": str(value)} for value in (1, 3, 5)],
                "x_labels": [
                    {"x": x1, "label": format_date(first), "anchor": "start"},
                    {"x": x2, "label": format_date(last), "anchor": "end"},
                ],
            }
        )
    return charts
