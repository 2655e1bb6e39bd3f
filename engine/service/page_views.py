"""What each view of the caseworker's page shows, assembled from the library's own results.

Nothing here decides anything about a citizen: the check, its trace, the trajectory, the margins,
what changed and what-if all come from `Checker`, `bip_engine.changes` and `bip_engine.whatif`; these
functions only pick out and arrange what a template shows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from .. import messages
from ..errors import RecordError
from ..log.assessments import assessments_for
from ..log.decisions import append_decision, decision_entry, find_decision
from ..log.tokens import Principal
from ..record import WRITTEN_DATE, Record
from ..render import format_date
from ..report import PhaseMargin, Report, Trajectory
from .page_chart import ChartInput, build_chart, small_multiples
from .page_text import page_number

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from ..changes import Changes, Summary
    from ..check import Checker
    from ..evaluation import Evaluation
    from .services import Services

FLAG_STATUSES = ("acted", "not_relevant")
MAX_REASON = 4000


def phase_labels(checker: Checker, lang: str) -> dict[str, str]:
    """Phase id → label in `lang`, in the rulebook's order."""
    return {phase_id: phase.label.get(lang) for phase_id, phase in checker.rulebook.phases.items()}


def intervention_groups(checker: Checker, lang: str) -> list[dict]:
    """The intervention catalogue grouped by main type, for a select list."""
    catalogue = checker.rulebook.catalogue
    return [
        {
            "label": kind.label.get(lang),
            "options": [
                {"id": item.id, "label": item.label.get(lang)}
                for item in catalogue.interventions.values()
                if item.type == type_id
            ],
        }
        for type_id, kind in catalogue.types.items()
    ]


def traces(checker: Checker, evaluation: Evaluation, report: Report, lang: str) -> dict[str, Any]:
    """The trace items behind each conclusion: the phase, each flag, each checklist point in focus."""
    items = checker.trace(evaluation, lang)
    phase_items = []
    for item in (entry for entry in items if entry["stage"] == "phase"):
        phase_items.append(item)
        if report.phase and item["rule"] == report.phase.rule:
            break
    by_rule = {item["rule"]: item for item in items}
    flags = {flag.id: [by_rule[rule] for rule in flag.rules if rule in by_rule] for flag in report.flags}
    checklist = {
        point.number: [by_rule[reason.rule] for reason in point.reasons if reason.rule in by_rule]
        for point in report.checklist
        if point.focus
    }
    return {"phase_trace": phase_items, "flag_traces": flags, "checklist_traces": checklist}


ANSWER_FACTS = ("change", "level")  # facts that move when the citizen's own answers move, point by point


def rated_count(record: Record, as_of: dt.date, citizen_indicators: Collection[str]) -> int:
    """How many of the citizen's own indicators the latest rated measurement up to `as_of` holds."""
    for measurement in sorted(record.measurements, key=lambda item: item.date, reverse=True):
        present = [name for name in citizen_indicators if name in measurement.scores]
        if measurement.date <= as_of and present:
            return len(present)
    return 0


def margin_lines(margins: list[PhaseMargin] | None, current: str | None, answers: int, lang: str) -> list[str]:
    """The margins that move the phase, in words; those that leave it as it is are left out.

    A margin on one of the citizen's own answers (`ANSWER_FACTS`) is said in indicator points: the
    mean moves 1/`answers` of a point for each point one indicator moves, so the change it needs is
    rounded up to whole indicator points ("fx tre indikatorer ét point hver"). Other margins keep
    the report's own words (`margin.txt.j2`).
    """
    lines = []
    for margin in margins or []:
        if margin.result_phase == current:
            continue
        change = margin.changes[0] if len(margin.changes) == 1 else None
        numeric = change is not None and isinstance(change.distance, (int, float)) and change.distance
        if change is None or change.fact not in ANSWER_FACTS or not numeric or not answers or not margin.result_label:
            lines.append(margin.text)
            continue
        distance = float(change.distance or 0)
        points = math.ceil(round(abs(distance) * answers, 6))
        words = messages.texts("page.count_words", lang)
        example = (
            messages.text("page.margin_example", lang, count=words.get(str(points), points))
            if points <= answers
            else ""
        )
        key = "page.margin_rise" if distance > 0 else "page.margin_fall"
        amount = page_number(round(points / answers, 2), lang)
        lines.append(
            messages.text(key, lang, points=amount, example=example, phase=margin.result_label).replace(" ()", "")
        )
    return lines


def _short_date(lang: str) -> Callable[[dt.date], str]:
    def write(day: dt.date) -> str:
        return f"{messages.text(f'month.{day.month}', lang)[:3]} {day.year}"

    return write


def chart_and_table(
    trajectory: Trajectory | None, labels: dict[str, str], lang: str, caseworker_rated: set[str] | None = None
) -> dict[str, Any]:
    """The chart's geometry, one small chart per indicator, and the table with the same numbers
    (None when there is no measurement)."""
    if trajectory is None or not trajectory.dates:
        return {"chart": None, "table": None, "multiples": []}
    dates = [dt.date.fromisoformat(day) for day in trajectory.dates]
    phases = {point.date: point for point in (trajectory.phases or [])}
    type_labels: dict[str, str] = {}
    bands = []
    for band in trajectory.interventions:
        type_labels.setdefault(band.main_type, band.main_type_label)
        bands.append((band.main_type, band.label, dt.date.fromisoformat(band.start), dt.date.fromisoformat(band.until)))
    data = ChartInput(
        dates=dates,
        scores={series.id: series.scores for series in trajectory.indicators},
        level=[point.level for point in trajectory.level],
        phases=[phases[day].phase if day in phases else None for day in trajectory.dates],
        phase_labels=labels,
        indicator_labels={series.id: series.label for series in trajectory.indicators},
        bands=bands,
        type_labels=type_labels,
        changes=[(dt.date.fromisoformat(change.date), change.caseworker) for change in trajectory.caseworker_changes],
        end=dt.date.fromisoformat(trajectory.as_of),
    )
    chart = build_chart(data, _short_date(lang))
    multiples = small_multiples(data, caseworker_rated or set(), _short_date(lang))
    rows = [
        {
            "date": day,
            "level": trajectory.level[index].level,
            "phase": (phases[day].label or "–") if day in phases else "–",
        }
        for index, day in enumerate(trajectory.dates)
    ]
    table = {
        "series": [{"label": series.label, "scores": series.scores} for series in trajectory.indicators],
        "rows": rows,
        "bands": [
            f"{band.main_type_label}: {band.label}, {format_date(band.start, lang)} – "
            f"{format_date(band.end, lang) if band.end else '…'}"
            for band in trajectory.interventions
        ],
        "changes": [
            f"{format_date(change.date, lang)}: {change.previous} → {change.caseworker}"
            for change in trajectory.caseworker_changes
        ],
    }
    return {"chart": chart, "table": table, "multiples": multiples}


def changes_view(
    changes: Changes,
    before_label: str | None,
    after_label: str | None,
    report: Report,
    indicator_labels: dict[str, str],
    since: str,
    since_as_of: str | None,
) -> dict[str, Any]:
    """What changed, in words the template shows (flag titles where the report knows them)."""
    titles = {flag.id: flag.title for flag in report.flags}
    return {
        "since": since,
        "since_as_of": since_as_of,
        "phase_changed": changes.phase_changed,
        "phase_from": before_label or "–",
        "phase_to": after_label or "–",
        "new": [titles.get(flag, flag) for flag in changes.flags_new],
        "resolved": [titles.get(flag, flag) for flag in changes.flags_resolved],
        "moved": [
            {"label": indicator_labels.get(item.indicator, item.indicator), "before": item.before, "after": item.after}
            for item in changes.indicators_moved
        ],
    }


def log_lookup(state: Services, record: Record, as_of: dt.date, principal: Principal, purpose: str) -> str:
    """Check a record and log the lookup with its purpose; the logged decision's id."""
    report = state.checker.check(record, as_of, "da")
    entry = decision_entry(report, record, principal, purpose, state.store)
    append_decision(state.store, entry)
    return entry.decision_id


def _since(
    checker: Checker,
    report: Report,
    labels: dict[str, str],
    indicator_labels: dict[str, str],
    before: Summary,
    **when: Any,
) -> dict[str, Any]:
    from ..changes import Summary, compare

    compared = compare(before, Summary.from_report(report))
    return changes_view(
        compared,
        labels.get(before.phase or ""),
        report.phase.label if report.phase else None,
        report,
        indicator_labels,
        **when,
    )


def since_last_meeting(state: Services, record: Record, report: Report, decision_id: str, lang: str) -> dict[str, Any]:
    """What changed since the previous measurement, and since the check last assessed (the last meeting).

    The first compares this check with the check as it was on the day of the previous measurement;
    the second with the logged check that the citizen's latest assessment answered (before this
    one). Neither depends on who looked the citizen up since, or how often.
    """
    from ..changes import Summary

    checker = state.checker
    labels = phase_labels(checker, lang)
    indicator_labels = {item.id: item.label.get(lang) for item in checker.rulebook.catalogue.indicators.values()}
    result: dict[str, Any] = {"measurement": None, "meeting": None}
    dates = sorted(item.date for item in record.measurements if item.date <= dt.date.fromisoformat(report.as_of))
    if len(dates) >= 2:
        earlier = checker.check(record, dates[-2], lang)
        result["measurement"] = _since(
            checker,
            report,
            labels,
            indicator_labels,
            Summary.from_report(earlier),
            since=dates[-2].isoformat(),
            since_as_of=None,
        )
    assessed = [item for item in assessments_for(state.store, record.id) if item["decision_id"] != decision_id]
    if assessed:
        decision = find_decision(state.store, assessed[-1]["decision_id"])
        if decision is not None:
            result["meeting"] = _since(
                checker,
                report,
                labels,
                indicator_labels,
                Summary.from_decision(decision),
                since=assessed[-1]["time"][:10],
                since_as_of=decision.get("as_of"),
            )
    return result


def check_view(state: Services, record: Record, as_of: dt.date, lang: str, decision_id: str) -> dict[str, Any]:
    """Everything the check page shows for a logged check (`decision_id`); nothing is logged here."""
    checker, store = state.checker, state.store
    evaluation = checker.evaluate(record, as_of)
    report = checker.report(evaluation, lang, margins=True)
    assessments = assessments_for(store, record.id)
    labels = phase_labels(checker, lang)
    trajectory = checker.trajectory(record, as_of, lang)

    return {
        "report": report,
        "decision_id": decision_id,
        "margins": margin_lines(
            report.phase_margins,
            report.phase.id if report.phase else None,
            rated_count(record, as_of, checker.rulebook.catalogue.citizen_indicators()),
            lang,
        ),
        "changes": since_last_meeting(state, record, report, decision_id, lang),
        "assessment": assessments[-1] if assessments else None,
        "phase_labels": labels,
        "flag_titles": {flag.id: flag.title for flag in report.flags},
        "intervention_groups": intervention_groups(checker, lang),
        "citizen": record.id,
        "as_of": report.as_of,
        "record_json": record_json(record),
        "whatif_values": _whatif_values({}),
        "values": {"agree": "", "phase": "", "reason": ""},
        "errors": [],
        **traces(checker, evaluation, report, lang),
        **chart_and_table(
            trajectory,
            labels,
            lang,
            {item.id for item in checker.rulebook.catalogue.indicators.values() if item.rated_by == "caseworker"},
        ),
    }


def _whatif_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: str(form.get(name) or "").strip()[:100]
        for name in ("wi_type", "wi_start", "wi_end", "wi_caseworker", "wi_caseworker_from", "wi_date")
    }


def _iso(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text and WRITTEN_DATE.fullmatch(text) else None
    except ValueError:
        return None


def what_if_page(
    state: Services,
    record: Record,
    as_of: dt.date,
    lang: str,
    form: Mapping[str, Any],
    decision: dict,
    source: str = "record",
) -> dict[str, Any]:
    """The check and the check with the proposed change, side by side, with the differences.

    A change that starts after the check date is looked at forward: both sides are evaluated on
    the date the caseworker chose (`wi_date`), or else on the latest start of the proposal, so an
    internship from next week has its effect; the page says which date it used.
    """
    from ..changes import Summary, compare
    from ..whatif import what_if

    checker = state.checker
    values = _whatif_values(form)
    labels = phase_labels(checker, lang)
    context = {
        "citizen": record.id,
        "as_of": as_of.isoformat(),
        "decision_id": decision["decision_id"],
        "source": source,
        "record_json": record_json(record),
        "whatif_values": values,
        "intervention_groups": intervention_groups(checker, lang),
        "phase_labels": labels,
        "error": "",
    }
    interventions: list[dict[str, Any]] = []
    caseworker: dict[str, Any] | None = None
    if values["wi_date"] and _iso(values["wi_date"]) is None:
        return {**context, "error": "as_of_help"}
    if values["wi_type"]:
        start, end = _iso(values["wi_start"]) or as_of, _iso(values["wi_end"])
        if (values["wi_start"] and _iso(values["wi_start"]) is None) or (values["wi_end"] and end is None):
            return {**context, "error": "as_of_help"}
        interventions.append({"type": values["wi_type"], "start": start, **({"end": end} if end else {})})
    if values["wi_caseworker"]:
        start = _iso(values["wi_caseworker_from"]) or as_of
        caseworker = {"id": values["wi_caseworker"], "from": start}
    if not interventions and caseworker is None:
        return {**context, "error": "whatif_nothing"}
    try:
        changed = what_if(
            record, interventions=interventions, caseworker=caseworker, catalogue=checker.rulebook.catalogue
        )
    except RecordError as error:
        return {**context, "error": "record_problems", "problems": error.problems}
    starts: list[dt.date] = [item["start"] for item in interventions] + ([caseworker["from"]] if caseworker else [])
    on: dt.date = _iso(values["wi_date"]) or max([as_of, *starts])
    before, after = checker.check(record, on, lang), checker.check(changed, on, lang)
    compared = compare(Summary.from_report(before), Summary.from_report(after))
    new, resolved = set(compared.flags_new), set(compared.flags_resolved)
    focus_before = {point.number for point in before.checklist if point.focus}
    focus_after = {point.number for point in after.checklist if point.focus}
    return {
        **context,
        "before": before,
        "after": after,
        "compared": compared,
        "new_flags": new,
        "resolved_flags": resolved,
        "focus_before": focus_before,
        "focus_after": focus_after,
        "evaluated_on": on.isoformat(),
        "forward": on != as_of,
        "nothing_changes": not (compared.phase_changed or new or resolved or focus_before != focus_after),
    }


def assessment_from_form(form: FormData, phases: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The assessment a form gives (for `Store.append_assessment`), and the text keys of what is missing."""
    answer = form.get("agree")
    agrees = answer == "yes"
    phase = str(form.get("phase") or "").strip() or None
    phase = phase if phase in phases else None
    reason = str(form.get("reason") or "").strip()[:MAX_REASON] or None
    errors = []
    if answer not in ("yes", "no"):
        errors.append("agree_missing")
        agrees = True  # not stored: the error sends the form back
    if not agrees and phase is None:
        errors.append("phase_missing")
    if not agrees and reason is None:
        errors.append("reason_missing")
    notes = {}
    for flag in form.getlist("flag"):
        flag = str(flag)[:100]
        status = str(form.get(f"status_{flag}") or "")
        note = str(form.get(f"note_{flag}") or "").strip()[:2000]
        if status in FLAG_STATUSES:
            notes[flag] = {"status": status, "note": note}
    return {"agrees": agrees, "phase": None if agrees else phase, "reason": reason, "flag_notes": notes}, errors


def same_assessment(stored: Mapping[str, Any], assessment: Mapping[str, Any]) -> bool:
    """True when a stored assessment says what `assessment` (from `assessment_from_form`) says."""
    return all(stored.get(key) == assessment.get(key) for key in ("agrees", "phase", "reason", "flag_notes"))


def form_values(form: FormData) -> dict[str, str]:
    """The assessment form's fields as posted (to show them again), with the three main ones always present."""
    values = {"agree": "", "phase": "", "reason": ""}
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in ("csrf", "record"):
            values[key] = value[:MAX_REASON]
    return values


def assessment_context(
    state: Services, record: Record, as_of: dt.date, lang: str, form: FormData, decision: dict
) -> dict[str, Any]:
    """What the assessment's answer page shows: the form again (with the check, not logged again)."""

    checker = state.checker
    return {
        "report": checker.check(record, as_of, lang),
        "phase_labels": phase_labels(checker, lang),
        "values": form_values(form),
        "decision_id": decision["decision_id"],
        "citizen": record.id,
        "as_of": as_of.isoformat(),
        "source": "caseload" if form.get("source") == "caseload" else "record",
        "record_json": record_json(record),
        "assessment_id": "",
    }


def citizen_page(state: Services, record: Record, as_of: dt.date, lang: str, next_steps: list[str]) -> dict[str, Any]:
    """The citizen version of the check (`Checker.citizen_parts`), for a printable page."""
    checker = state.checker
    report = checker.check(record, as_of, lang)
    view = checker.citizen_parts(report, lang, next_steps)
    return {"view": view, "as_of": report.as_of}


def record_json(record: Record) -> str:
    """The record as canonical JSON, sent back with the forms of a pasted record's page."""
    return json.dumps(
        json.loads(record.model_dump_json(by_alias=True, exclude_none=True)), ensure_ascii=False, sort_keys=True
    )
