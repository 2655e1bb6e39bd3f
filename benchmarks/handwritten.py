"""The default rulebook written by hand as plain `if` statements: the yardstick for the executors.

It must conclude what rules/*.yaml concludes (run.py checks that before timing), so keep it in
step with the default rules when they change.
"""

from __future__ import annotations


def _gt(value, limit):
    return value is not None and value > limit


def _ge(value, limit):
    return value is not None and value >= limit


def _le(value, limit):
    return value is not None and value <= limit


def _lt(value, limit):
    return value is not None and value < limit


def phase(f: dict) -> str | None:
    """The default phase rules, first match by priority."""
    level, change = f["level"], f["change"]
    if _le(level, 1.8) or _le(change, -1.0):
        return "derailment"
    if _le(change, -0.4) or _le(f["change_two_intervals"], -0.6):
        return "regress"
    if _ge(change, 0.4):
        return "progress"
    if _ge(level, 3.5) and f["job_oriented_active"] and (_ge(change, 0) or f["measurement_count"] == 1):
        return "progress"
    if _ge(f["change_two_intervals"], 0.6) and _ge(change, 0):
        return "progress"
    if f["measurement_count"] >= 1:
        return "standstill"
    return None


def flags(f: dict, current_phase: str | None) -> list[str]:
    """The default flag rules, in rule order."""
    raised = []
    if f["measurement_count"] == 0:
        raised.append("no_measurement")
    if _gt(f["months_since_measurement"], 3):
        raised.append("measurement_overdue")
    if _ge(f["months_without_intervention"], 3):
        raised.append("no_intervention_3m")
    if f["active_count"] >= 1 and not f["job_oriented_active"]:
        raised.append("no_job_oriented_element")
    if f["job_oriented_active"] and f["active_type_count"] == 1:
        raised.append("job_oriented_only")
    if f["internship_count"] >= 5:
        raised.append("fifth_internship")
    if f["caseworker_changes_6m"] >= 1:
        raised.append("caseworker_change")
    if _le(f["score_caseworker_belief"], 2):
        raised.append("low_caseworker_belief")
    if _ge(f["belief_gap"], 2):
        raised.append("belief_gap")
    if _ge(f["largest_drop"], 2):
        raised.append("indicator_drop")
    if f["staircase_phrase_count"] >= 1:
        raised.append("staircase_language")
    return raised


def checklist(current_phase: str | None, raised: list[str]) -> list[int]:
    """The default checklist rules: the points in focus."""
    has = set(raised).__contains__
    points = []
    if has("no_intervention_3m"):
        points.append(1)
    if has("fifth_internship") or has("staircase_language"):
        points.append(2)
    if current_phase in ("standstill", "regress"):
        points.append(3)
    if has("low_caseworker_belief") or has("belief_gap") or current_phase == "regress":
        points.append(4)
    if has("no_measurement") or has("measurement_overdue") or has("indicator_drop"):
        points.append(5)
    if has("no_job_oriented_element") or has("staircase_language"):
        points.append(6)
    if current_phase == "progress":
        points.append(7)
    if has("job_oriented_only"):
        points.append(8)
    if has("caseworker_change") or has("no_intervention_3m") or has("fifth_internship") or current_phase == "regress":
        points.append(9)
    if current_phase == "derailment" or has("caseworker_change"):
        points.append(10)
    return points


def run(f: dict) -> tuple[str | None, list[str], list[int]]:
    """All three stages."""
    current = phase(f)
    raised = flags(f, current)
    return current, raised, checklist(current, raised)
