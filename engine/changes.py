"""What changed between two checks of one citizen: phase, flags and indicator scores.

A `Summary` is the part of a check that is compared: the phase, the flags with their severity and
the latest score of each indicator. It is made from a `Report` (`Summary.from_report`) or from a
decision logged in the store (`Summary.from_decision`: its `phase`, `flags` [{id, severity}] and
`facts` {score_<indicator>: ...}), so "what changed since the last logged check" and "what would
change with this what-if" are the same comparison (`compare`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCORE_PREFIX = "score_"
MOVE = 1  # an indicator has moved when its score changed by at least this much


@dataclass(frozen=True)
class Summary:
    """The comparable part of one check."""

    phase: str | None
    flags: dict[str, str] = field(default_factory=dict)  # flag id -> severity, most severe first
    scores: dict[str, int | None] = field(default_factory=dict)  # indicator id -> latest score
    as_of: str | None = None

    @classmethod
    def from_report(cls, report: Any) -> Summary:
        """The summary of an `engine.Report`."""
        return cls(
            phase=report.phase.id if report.phase else None,
            flags={flag.id: flag.severity for flag in report.flags},
            scores=_scores(report.facts),
            as_of=report.as_of,
        )

    @classmethod
    def from_decision(cls, entry: Mapping[str, Any]) -> Summary:
        """The summary of a logged decision (a dict with phase, flags [{id, severity}] and facts)."""
        flags = {item["id"]: item.get("severity") for item in entry.get("flags") or []}
        return cls(
            phase=entry.get("phase"), flags=flags, scores=_scores(entry.get("facts") or {}), as_of=entry.get("as_of")
        )


def _scores(facts: Mapping[str, Any]) -> dict[str, int | None]:
    return {name[len(SCORE_PREFIX) :]: value for name, value in facts.items() if name.startswith(SCORE_PREFIX)}


@dataclass(frozen=True)
class IndicatorMove:
    """An indicator whose latest score moved by at least one point."""

    indicator: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        """after - before"""
        return self.after - self.before


@dataclass(frozen=True)
class Changes:
    """The differences between two summaries."""

    phase_before: str | None
    phase_after: str | None
    flags_new: list[str]
    flags_resolved: list[str]
    flags_severity: dict[str, tuple[str | None, str | None]]  # flag id -> (before, after), kept flags only
    indicators_moved: list[IndicatorMove]

    @property
    def phase_changed(self) -> bool:
        """Whether the phase differs."""
        return self.phase_before != self.phase_after

    @property
    def any(self) -> bool:
        """Whether anything differs."""
        return bool(
            self.phase_changed or self.flags_new or self.flags_resolved or self.flags_severity or self.indicators_moved
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and templates)."""
        return {
            "phase_before": self.phase_before,
            "phase_after": self.phase_after,
            "phase_changed": self.phase_changed,
            "flags_new": self.flags_new,
            "flags_resolved": self.flags_resolved,
            "flags_severity": {key: list(value) for key, value in self.flags_severity.items()},
            "indicators_moved": [
                {"indicator": move.indicator, "before": move.before, "after": move.after, "delta": move.delta}
                for move in self.indicators_moved
            ],
        }


def compare(before: Summary, after: Summary) -> Changes:
    """What changed from `before` to `after`: phase, new and resolved flags, indicators moved by 1 or more."""
    moved = []
    for name, new in after.scores.items():
        old = before.scores.get(name)
        if old is not None and new is not None and abs(new - old) >= MOVE:
            moved.append(IndicatorMove(name, old, new))
    return Changes(
        phase_before=before.phase,
        phase_after=after.phase,
        flags_new=[flag for flag in after.flags if flag not in before.flags],
        flags_resolved=[flag for flag in before.flags if flag not in after.flags],
        flags_severity={
            flag: (before.flags[flag], after.flags[flag])
            for flag in after.flags
            if flag in before.flags and before.flags[flag] != after.flags[flag]
        },
        indicators_moved=moved,
    )
