"""The impact of a rule change on a caseload: `bip rules diff OLD NEW --caseload PATH`.

Policy staff change the YAML rules; before the change goes live they want to see what it does to
real caseloads. `compare_caseload` evaluates every record of a caseload under two rulebooks (OLD
and NEW) and counts:

- the phase transitions: a from × to table, rows the OLD phase and columns the NEW phase, with
  `none` for "no phase", and the totals of each;
- per flag (every flag either rulebook can raise): how many citizens have it under OLD, under
  NEW, and the difference NEW - OLD;
- the changed citizens, in input order: those whose phase changed or whose set of flags changed,
  each with the phase rule that decided the phase under each rulebook, the flags added (with the
  NEW rules that raised them) and the flags removed (with the OLD rules that had raised them);
- N read = M evaluated + K rejected. A record that cannot be read, or that is invalid under
  either rulebook (each validates against its own catalogues), is rejected with its source and
  problems; it never stops the others;
- the two rulebooks' names, versions and content hashes, and the rules that differ by id:
  added, removed, and changed in stage, conclusion (phase, flag or checklist point), condition
  (`when`, compared in parsed form, so re-spacing a condition is no change), severity, or, for
  phase rules, priority. The rank of a flag or checklist rule is only its position in the file,
  so it is not compared: inserting a rule would otherwise "change" every rule after it.

Either side may be `DIR@DATE` (`bip rules diff rules@2026-12-31 rules@2027-01-01 ...`): the rules of
DIR in force on DATE; without a date a side uses the rules in force on the check date. Rules that
use parameters are compared with the parameter values of their side's date.

Memory stays flat in the size of the caseload: records are read and evaluated one at a time; only
the counters, the changed citizens and the rejected records are kept.

`render_impact` writes the report as `text` (80 columns, Danish or English headings), `markdown`
(tables) or `json` (indented, keys in a fixed order, byte-identical for the same input).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from .. import clock
from ..caseload.batch import problem_row
from ..caseload.readers import RawRecord, ReadProblem, detect_and_read
from ..caseload.unique import reject_duplicates
from ..check import Checker, Evaluation
from ..errors import BipError, KeyedError, Problem
from ..messages import LANGS, text, texts
from ..rulebook import CompiledRule, Rulebook
from ..severity import SEVERITIES, SEVERITY_ORDER
from .describe import describe, fact_label, fact_labels, format_value, value_labels

NONE = "none"
WIDTH = 80
FORMATS = ("text", "markdown", "json", "html")
TEMPLATES = Path(__file__).resolve().parent / "docs_templates"


# --- The report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulebookId:
    """A rulebook's identity as shown in the report."""

    name: str
    version: str
    hash: str
    rules_as_of: str | None = None  # set when the side was given as DIR@DATE

    @classmethod
    def of(cls, rulebook: Rulebook, rules_as_of: dt.date | None = None) -> RulebookId:
        return cls(
            rulebook.name, rulebook.version, rulebook.content_hash, rules_as_of.isoformat() if rules_as_of else None
        )

    def as_dict(self) -> dict:
        data = {"name": self.name, "version": self.version, "hash": self.hash}
        if self.rules_as_of:
            data["rules_as_of"] = self.rules_as_of
        return data


@dataclass(frozen=True)
class RuleChange:
    """A rule present in both rulebooks whose meaning changed: field -> (old, new)."""

    id: str
    stage: str
    changes: dict[str, tuple[Any, Any]]

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "stage": self.stage,
            "changes": {name: {"old": old, "new": new} for name, (old, new) in self.changes.items()},
        }


@dataclass(frozen=True)
class RulesDiff:
    """Which rules differ between two rulebooks, by id. Each list is in rule order (stage by stage)."""

    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[RuleChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no rule was added, removed or changed."""
        return not (self.added or self.removed or self.changed)

    @property
    def ids(self) -> list[str]:
        """The ids of every rule that differs."""
        return (
            [rule["id"] for rule in self.added]
            + [rule["id"] for rule in self.removed]
            + [change.id for change in self.changed]
        )

    def as_dict(self) -> dict:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [change.as_dict() for change in self.changed],
        }


@dataclass(frozen=True)
class Cause:
    """A rule behind a citizen's change: where it decided, the citizen's values of its facts, its thresholds.

    `sides` says under which rulebook it concluded something for this citizen ("old", "new" or
    both); `facts` the values of the facts it reads, per side (the phase fact may differ);
    `parameters` the parameters it uses with their value under OLD and NEW (None where the rule
    is not in force on that side)."""

    rule: str
    stage: str
    sides: tuple[str, ...]
    facts: dict[str, dict[str, Any]]  # side -> fact -> the citizen's value
    parameters: dict[str, tuple[Any, Any]]  # name -> (old value, new value)

    def as_dict(self, words: dict[str, str | None]) -> dict:
        """Plain data; `words` the rule's condition in words under each side."""
        return {
            "rule": self.rule,
            "stage": self.stage,
            "sides": list(self.sides),
            "condition": words,
            "facts": {
                side: {name: _plain(value) for name, value in values.items()} for side, values in self.facts.items()
            },
            "parameters": {name: {"old": old, "new": new} for name, (old, new) in self.parameters.items()},
        }


@dataclass(frozen=True)
class ChangedCitizen:
    """A citizen whose phase, flags, a flag's severity or the checklist points in focus differ between OLD and NEW."""

    citizen_id: str
    source: str
    old_phase: str | None
    new_phase: str | None
    old_rule: str | None  # the phase rule that decided the phase under OLD
    new_rule: str | None
    flags_added: dict[str, list[str]]  # flag id -> the NEW rules that raised it
    flags_removed: dict[str, list[str]]  # flag id -> the OLD rules that had raised it
    severity_changed: dict[str, tuple[str, str]] = field(default_factory=dict)  # flag -> (old, new) severity
    focus_added: list[int] = field(default_factory=list)  # checklist points newly in focus
    focus_removed: list[int] = field(default_factory=list)  # checklist points no longer in focus
    team: str | None = None
    causes: list[Cause] = field(default_factory=list)

    @property
    def phase_changed(self) -> bool:
        return self.old_phase != self.new_phase

    def as_dict(self, words: Callable[[str, str], str | None] | None = None) -> dict:
        """Plain data; `words(rule id, side)` gives a cause's condition in words."""
        return {
            "citizen_id": self.citizen_id,
            "source": self.source,
            "team": self.team,
            "phase": {"old": self.old_phase, "new": self.new_phase},
            "rule": {"old": self.old_rule, "new": self.new_rule},
            "flags_added": {flag: list(rules) for flag, rules in self.flags_added.items()},
            "flags_removed": {flag: list(rules) for flag, rules in self.flags_removed.items()},
            "severity_changed": {flag: {"old": old, "new": new} for flag, (old, new) in self.severity_changed.items()},
            "focus_added": list(self.focus_added),
            "focus_removed": list(self.focus_removed),
            "causes": [
                cause.as_dict({side: words(cause.rule, side) if words else None for side in ("old", "new")})
                for cause in self.causes
            ],
        }


@dataclass(frozen=True)
class Rejected:
    """A record that could not be compared: unreadable, or invalid under OLD, NEW or both."""

    source: str
    citizen_id: str | None
    invalid_under: str  # "read" (could not be read), "old", "new" or "both"
    problems: list[Problem]

    def texts(self, lang: str = "en") -> list[str]:
        """Each problem as `CODE message (line N)` in `lang`."""
        line = text("batch.line", lang)
        return [f"{p.code} {p.text(lang)}" + (line.format(line=p.line) if p.line else "") for p in self.problems]

    def as_dict(self, lang: str = "en") -> dict:
        """Plain data; each problem as `{code, message, path, line}` with the message in `lang`."""
        return {
            "source": self.source,
            "citizen_id": self.citizen_id,
            "invalid_under": self.invalid_under,
            "problems": [problem_row(p, lang) for p in self.problems],
        }


#: The default assumption of the workload estimate: each citizen's case is reviewed once a quarter
#: (13 weeks; a measurement older than three months raises a flag), every flag raised is handled once
#: per review, and a citizen in one of these phases gets one extra follow-up meeting per review.
REVIEW_WEEKS = 13
MEETING_PHASES = ("regress", "derailment")


@dataclass(frozen=True)
class Workload:
    """What the change does to the caseworkers' week, under a stated assumption (see REVIEW_WEEKS)."""

    review_weeks: int
    meeting_phases: tuple[str, ...]
    flags_old: int  # flags raised in all, under OLD
    flags_new: int
    meetings_old: int  # citizens in a meeting phase, under OLD
    meetings_new: int

    @property
    def flags_per_week(self) -> float:
        """Extra flags to handle per week (negative: fewer)."""
        return round((self.flags_new - self.flags_old) / self.review_weeks, 1)

    @property
    def meetings_per_week(self) -> float:
        """Extra follow-up meetings per week (negative: fewer)."""
        return round((self.meetings_new - self.meetings_old) / self.review_weeks, 1)

    def as_dict(self) -> dict:
        return {
            "assumption": {"review_weeks": self.review_weeks, "meeting_phases": list(self.meeting_phases)},
            "flags": {"old": self.flags_old, "new": self.flags_new, "per_week": self.flags_per_week},
            "meetings": {"old": self.meetings_old, "new": self.meetings_new, "per_week": self.meetings_per_week},
        }


#: The breakdowns of the report: by the citizen's OLD phase, by active intervention type, by team.
BREAKDOWNS = ("phase", "type", "team")
_GROUP_COUNTS = ("evaluated", "changed", "phase_changed", "flags_old", "flags_new")


@dataclass
class ImpactReport:
    """What a rulebook change does to a caseload. Plain data; `as_dict()` is JSON-ready."""

    as_of: str
    old: RulebookId
    new: RulebookId
    rules: RulesDiff
    phase_order: list[str]  # phase ids (OLD's, then NEW's new ones), then "none"
    phase_labels: dict[str, dict[str, str]]  # phase id -> {"da": ..., "en": ...}
    transitions: dict[tuple[str, str], int]  # (old phase, new phase) -> citizens; "none" for no phase
    flag_order: list[str]  # every flag either rulebook can raise, OLD's order first
    flags_old: dict[str, int]
    flags_new: dict[str, int]
    citizens: list[ChangedCitizen]
    rejections: list[Rejected]
    read: int = 0
    evaluated: int = 0
    severity_changes: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (flag, old, new) -> citizens
    checklist_labels: dict[int, dict[str, str]] = field(default_factory=dict)  # point -> title per language
    focus_old: dict[int, int] = field(default_factory=dict)  # point -> citizens with it in focus under OLD
    focus_new: dict[int, int] = field(default_factory=dict)
    focus_changed: int = 0  # citizens whose points in focus changed
    breakdowns: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # kind -> group -> counts
    group_labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # kind -> group -> labels
    workload: Workload | None = None
    words: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)  # (rule, side) -> condition per lang
    fact_names: dict[str, dict[str, str]] = field(default_factory=dict)  # fact -> label per language
    value_names: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # lang -> fact -> value -> name

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def changed(self) -> int:
        """Citizens whose phase or flags changed."""
        return len(self.citizens)

    @property
    def phase_changes(self) -> int:
        """Citizens whose phase changed (the off-diagonal of the table)."""
        return sum(count for (old, new), count in self.transitions.items() if old != new)

    def phase_table(self) -> dict[str, dict[str, int]]:
        """Rows OLD phase, columns NEW phase, every cell (zeros included), in `phase_order`."""
        return {old: {new: self.transitions.get((old, new), 0) for new in self.phase_order} for old in self.phase_order}

    def old_totals(self) -> dict[str, int]:
        return {old: sum(self.transitions.get((old, new), 0) for new in self.phase_order) for old in self.phase_order}

    def new_totals(self) -> dict[str, int]:
        return {new: sum(self.transitions.get((old, new), 0) for old in self.phase_order) for new in self.phase_order}

    def flag_rows(self) -> list[dict]:
        """Per flag: citizens with it under OLD and NEW, and the difference NEW - OLD."""
        return [
            {
                "id": flag,
                "old": self.flags_old.get(flag, 0),
                "new": self.flags_new.get(flag, 0),
                "difference": self.flags_new.get(flag, 0) - self.flags_old.get(flag, 0),
            }
            for flag in self.flag_order
        ]

    def severity_rows(self) -> list[dict]:
        """Per (flag, old severity, new severity): the citizens who keep the flag at another severity."""
        return [
            {"id": flag, "old": old, "new": new, "citizens": count}
            for (flag, old, new), count in sorted(
                self.severity_changes.items(), key=lambda item: (self.flag_order.index(item[0][0]), item[0][1:])
            )
        ]

    def focus_rows(self) -> list[dict]:
        """Per checklist point: citizens with it in focus under OLD and NEW, and the difference."""
        return [
            {
                "number": number,
                "old": self.focus_old.get(number, 0),
                "new": self.focus_new.get(number, 0),
                "difference": self.focus_new.get(number, 0) - self.focus_old.get(number, 0),
            }
            for number in sorted(self.checklist_labels)
        ]

    def group_label(self, kind: str, group: str, lang: str) -> str:
        """A breakdown group's name in `lang` (a phase's or type's label; a team as written)."""
        labels = self.group_labels.get(kind, {}).get(group)
        return labels.get(lang, group) if labels else group

    def rule_words(self, rule: str, side: str, lang: str) -> str | None:
        """A rule's condition in words under `side` ("old" or "new"), or None where it is not in force."""
        words = self.words.get((rule, side))
        return words.get(lang) if words else None

    def as_dict(self, lang: str = "en") -> dict:
        """Plain, JSON-ready data with keys in a fixed order; the rejections' messages and the words in `lang`."""
        return {
            "as_of": self.as_of,
            "rulebooks": {"old": self.old.as_dict(), "new": self.new.as_dict()},
            "rules": self.rules.as_dict(),
            "counts": {
                "read": self.read,
                "evaluated": self.evaluated,
                "rejected": self.rejected,
                "changed": self.changed,
                "phase_changed": self.phase_changes,
            },
            "phases": {
                "order": list(self.phase_order),
                "labels": {phase: dict(self.phase_labels[phase]) for phase in self.phase_order},
                "table": self.phase_table(),
                "old_totals": self.old_totals(),
                "new_totals": self.new_totals(),
            },
            "flags": self.flag_rows(),
            "severity_changes": self.severity_rows(),
            "checklist": {
                "changed": self.focus_changed,
                "points": self.focus_rows(),
            },
            "breakdowns": {
                kind: [
                    {"group": group, "label": self.group_label(kind, group, lang), **counts}
                    for group, counts in self.breakdowns.get(kind, {}).items()
                ]
                for kind in BREAKDOWNS
            },
            "workload": self.workload.as_dict() if self.workload else None,
            "citizens": [
                citizen.as_dict(lambda rule, side: self.rule_words(rule, side, lang)) for citizen in self.citizens
            ],
            "rejected": [rejection.as_dict(lang) for rejection in self.rejections],
        }

    model_dump = as_dict


# --- Comparing rulebooks ------------------------------------------------------------------------


def _rule_fields(rule: CompiledRule) -> dict[str, Any]:
    """The fields of a rule that decide what it concludes, for comparison and display."""
    when = rule.when
    if rule.parameters:
        when += " [" + ", ".join(f"{name} = {_value(value)}" for name, value in rule.parameters) + "]"
    fields: dict[str, Any] = {"stage": rule.stage, "conclusion": rule.conclusion, "when": when}
    if rule.stage == "phase":
        fields["priority"] = rule.rank
    if rule.stage == "flag":
        fields["severity"] = rule.severity
    return fields


def diff_rulebooks(old: Rulebook, new: Rulebook) -> RulesDiff:
    """The rules added, removed or changed (stage, conclusion, condition, severity, phase priority)."""
    old_rules = {rule.id: rule for rule in old.all_rules()}
    new_rules = {rule.id: rule for rule in new.all_rules()}
    added = [{"id": rule.id, **_rule_fields(rule)} for rule in new.all_rules() if rule.id not in old_rules]
    removed = [{"id": rule.id, **_rule_fields(rule)} for rule in old.all_rules() if rule.id not in new_rules]
    changed = []
    for rule in old.all_rules():
        other = new_rules.get(rule.id)
        if other is None:
            continue
        before, after = _rule_fields(rule), _rule_fields(other)
        changes = {}
        for name in dict.fromkeys([*before, *after]):
            if name == "when":
                if rule.condition != other.condition:
                    changes[name] = (before["when"], after["when"])
            elif before.get(name) != after.get(name):
                changes[name] = (before.get(name), after.get(name))
        if changes:
            changed.append(RuleChange(rule.id, rule.stage, changes))
    return RulesDiff(added, removed, changed)


# --- Comparing a caseload -----------------------------------------------------------------------


def _evaluate(
    checker: Checker, item: RawRecord, as_of: dt.date, rules_as_of: dt.date | None = None
) -> Evaluation | list[Problem]:
    try:
        return checker.evaluate(checker.parse_record(item.data, item.source), as_of, rules_as_of)
    except BipError as error:
        return list(error.problems)


def _phase_rule(evaluation: Evaluation) -> str | None:
    rule = evaluation.outcome.phase_rule
    return rule.id if rule else None


def _phase_labels(old: Rulebook, new: Rulebook) -> tuple[list[str], dict[str, dict[str, str]]]:
    labels: dict[str, dict[str, str]] = {}
    for rulebook in (old, new):
        for phase_id, phase in rulebook.phases.items():
            labels.setdefault(phase_id, {"da": phase.label.da, "en": phase.label.en})
    labels[NONE] = {lang: text("impact.no_phase", lang) for lang in LANGS}
    return list(labels), labels


def _severities(flag_rules: dict[str, list[CompiledRule]]) -> dict[str, str]:
    """Flag id -> its shown severity: that of the most severe rule that raised it."""
    return {
        flag: min((rule.severity or SEVERITIES[-1] for rule in rules), key=SEVERITY_ORDER.__getitem__)
        for flag, rules in flag_rules.items()
    }


def _by_conclusion(rules: Iterable[CompiledRule]) -> dict[Any, list[CompiledRule]]:
    """Conclusion (flag id or checklist point) -> the rules that concluded it, in rule order."""
    found: dict[Any, list[CompiledRule]] = {}
    for rule in rules:
        found.setdefault(rule.conclusion, []).append(rule)
    return found


def _plain(value: Any) -> Any:
    """A fact value as JSON-ready data (dates as YYYY-MM-DD, tuples and sets as lists)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    return value


def _fact(evaluation: Evaluation, name: str) -> Any:
    """A fact's value for one citizen; `phase` and `flags` are the results of the earlier stages."""
    if name == "phase":
        return evaluation.phase
    if name == "flags":
        return evaluation.flags
    return evaluation.facts.get(name)


class _Causes:
    """Collects the rules behind one citizen's change, and the words of each rule once per report."""

    def __init__(self, old: Rulebook, new: Rulebook, words: dict[tuple[str, str], dict[str, str]]):
        self.rulebooks = {"old": old, "new": new}
        self.rules = {
            side: {rule.id: rule for rule in rulebook.all_rules()} for side, rulebook in self.rulebooks.items()
        }
        self.labels = fact_labels(new.catalogue)
        self.values = {lang: value_labels(new, lang) for lang in LANGS}
        self.words = words

    def word(self, rule: CompiledRule, side: str) -> None:
        if (rule.id, side) not in self.words:
            facts = self.rulebooks[side].facts
            self.words[(rule.id, side)] = {
                lang: describe(rule.condition, facts, lang, labels=self.labels, values=self.values[lang])
                for lang in LANGS
            }

    def of(self, found: dict[str, list[CompiledRule]], evaluations: dict[str, Evaluation]) -> list[Cause]:
        """One `Cause` per rule id in `found` (side -> rules that decided something that changed)."""
        sides: dict[str, list[str]] = {}
        for side in ("old", "new"):
            for rule in found.get(side, []):
                sides.setdefault(rule.id, [])
                if side not in sides[rule.id]:
                    sides[rule.id].append(side)
        causes = []
        for rule_id, where in sides.items():
            facts: dict[str, dict[str, Any]] = {}
            for side in ("old", "new"):
                in_force = self.rules[side].get(rule_id)
                if in_force is None:
                    continue
                self.word(in_force, side)
                facts[side] = {name: _fact(evaluations[side], name) for name in in_force.facts}
            old_params = dict(self.rules["old"][rule_id].parameters) if rule_id in self.rules["old"] else {}
            new_params = dict(self.rules["new"][rule_id].parameters) if rule_id in self.rules["new"] else {}
            parameters = {
                name: (old_params.get(name), new_params.get(name)) for name in dict.fromkeys([*old_params, *new_params])
            }
            stage = (self.rules["new"].get(rule_id) or self.rules["old"][rule_id]).stage
            causes.append(Cause(rule_id, stage, tuple(where), facts, parameters))
        return causes


def compare_caseload(
    old: Checker,
    new: Checker,
    items: Iterable[RawRecord | ReadProblem],
    as_of: dt.date | None = None,
    on_rejection: Callable[[Rejected], None] | None = None,
    old_rules_as_of: dt.date | None = None,
    new_rules_as_of: dt.date | None = None,
    review_weeks: int = REVIEW_WEEKS,
) -> ImpactReport:
    """Evaluate every record under OLD and NEW and report the difference.

    `items` is what `caseload_io.detect_and_read` yields. `as_of` defaults to today. Each rejected
    record is also passed to `on_rejection` as it happens, when given. `review_weeks` is the
    workload estimate's assumption (see `REVIEW_WEEKS`).
    """
    as_of = as_of or clock.today()
    old_rulebook = old.rulebook.at(old_rules_as_of or as_of)
    new_rulebook = new.rulebook.at(new_rules_as_of or as_of)
    phase_order, phase_labels = _phase_labels(old.rulebook, new.rulebook)
    flag_order = list(dict.fromkeys([*old_rulebook.flag_ids, *new_rulebook.flag_ids]))
    checklist = {**old_rulebook.catalogue.checklist, **new_rulebook.catalogue.checklist}
    type_labels = {
        key: {"da": item.label.da, "en": item.label.en} for key, item in new_rulebook.catalogue.types.items()
    }
    transitions: Counter = Counter()
    flags_old: Counter = Counter()
    flags_new: Counter = Counter()
    severity_changes: Counter = Counter()
    focus_old: Counter = Counter()
    focus_new: Counter = Counter()
    breakdowns: dict[str, dict[str, Counter]] = {kind: {} for kind in BREAKDOWNS}
    words: dict[tuple[str, str], dict[str, str]] = {}
    causes = _Causes(old_rulebook, new_rulebook, words)
    citizens: list[ChangedCitizen] = []
    rejections: list[Rejected] = []
    read = evaluated = focus_changed = meetings_old = meetings_new = 0

    def reject(rejection: Rejected) -> None:
        rejections.append(rejection)
        if on_rejection:
            on_rejection(rejection)

    for item in items:
        read += 1
        if isinstance(item, ReadProblem):
            reject(Rejected(item.source, None, "read", [item.problem]))
            continue
        citizen_id = item.data.get("id") if isinstance(item.data.get("id"), str) else None
        before, after = _evaluate(old, item, as_of, old_rules_as_of), _evaluate(new, item, as_of, new_rules_as_of)
        if isinstance(before, list) or isinstance(after, list):
            problems = list(before) if isinstance(before, list) else []
            problems += [problem for problem in (after if isinstance(after, list) else []) if problem not in problems]
            under = (
                "both"
                if isinstance(before, list) and isinstance(after, list)
                else "old"
                if isinstance(before, list)
                else "new"
            )
            reject(Rejected(item.source, citizen_id, under, problems))
            continue
        evaluated += 1
        old_phase, new_phase = before.phase, after.phase
        transitions[(old_phase or NONE, new_phase or NONE)] += 1
        meetings_old += old_phase in MEETING_PHASES
        meetings_new += new_phase in MEETING_PHASES
        old_raised, new_raised = _by_conclusion(before.outcome.flag_rules), _by_conclusion(after.outcome.flag_rules)
        old_severity, new_severity = _severities(old_raised), _severities(new_raised)
        flags_old.update(old_raised.keys())
        flags_new.update(new_raised.keys())
        severity = {
            flag: (old_severity[flag], new_severity[flag])
            for flag in old_severity
            if flag in new_severity and old_severity[flag] != new_severity[flag]
        }
        severity_changes.update((flag, *pair) for flag, pair in severity.items())
        old_focus = _by_conclusion(before.outcome.checklist_rules)
        new_focus = _by_conclusion(after.outcome.checklist_rules)
        focus_old.update(old_focus.keys())
        focus_new.update(new_focus.keys())
        focus_added = sorted(point for point in new_focus if point not in old_focus)
        focus_removed = sorted(point for point in old_focus if point not in new_focus)
        focus_changed += bool(focus_added or focus_removed)
        phase_moved = old_phase != new_phase or _phase_rule(before) != _phase_rule(after)
        changed = bool(
            old_phase != new_phase or old_raised.keys() != new_raised.keys() or severity or focus_added or focus_removed
        )
        team = after.record.caseworkers[-1].team if after.record.caseworkers else None
        types = after.facts.get("active_types") or [NONE]
        groups = {"phase": [old_phase or NONE], "type": list(types), "team": [team or NONE]}
        for kind, names in groups.items():
            for name in names:
                counts = breakdowns[kind].setdefault(name, Counter())
                counts["evaluated"] += 1
                counts["changed"] += changed
                counts["phase_changed"] += old_phase != new_phase
                counts["flags_old"] += len(old_raised)
                counts["flags_new"] += len(new_raised)
        if not changed:
            continue
        found: dict[str, list[CompiledRule]] = {"old": [], "new": []}
        if phase_moved:
            found["old"] += [before.outcome.phase_rule] if before.outcome.phase_rule else []
            found["new"] += [after.outcome.phase_rule] if after.outcome.phase_rule else []
        for flag in dict.fromkeys([*old_raised, *new_raised]):
            if flag in severity or (flag in old_raised) != (flag in new_raised):
                found["old"] += old_raised.get(flag, [])
                found["new"] += new_raised.get(flag, [])
        for point in [*focus_added, *focus_removed]:
            found["old"] += old_focus.get(point, [])
            found["new"] += new_focus.get(point, [])
        citizens.append(
            ChangedCitizen(
                citizen_id=after.record.id,
                source=item.source,
                old_phase=old_phase,
                new_phase=new_phase,
                old_rule=_phase_rule(before),
                new_rule=_phase_rule(after),
                flags_added={
                    flag: [r.id for r in rules] for flag, rules in new_raised.items() if flag not in old_raised
                },
                flags_removed={
                    flag: [r.id for r in rules] for flag, rules in old_raised.items() if flag not in new_raised
                },
                severity_changed=severity,
                focus_added=focus_added,
                focus_removed=focus_removed,
                team=team,
                causes=causes.of(found, {"old": before, "new": after}),
            )
        )
    no_group = {lang: text("impact.no_group", lang) for lang in LANGS}
    group_labels: dict[str, dict[str, dict[str, str]]] = {
        "phase": phase_labels,
        "type": {**type_labels, NONE: {lang: text("impact.no_type", lang) for lang in LANGS}},
        "team": {NONE: no_group},
    }
    order = {
        "phase": {name: index for index, name in enumerate(phase_order)},
        "type": {name: index for index, name in enumerate([*type_labels, NONE])},
    }
    ordered = {
        kind: {
            name: {count: groups[name][count] for count in _GROUP_COUNTS}
            for name in sorted(
                groups, key=lambda name: (order.get(kind, {}).get(name, len(groups)), name == NONE, name)
            )
        }
        for kind, groups in breakdowns.items()
    }
    rules = diff_rulebooks(old_rulebook, new_rulebook)
    for change in rules.changed:
        for side in ("old", "new"):
            causes.word(causes.rules[side][change.id], side)
    return ImpactReport(
        as_of=as_of.isoformat(),
        old=RulebookId.of(old.rulebook, old_rules_as_of),
        new=RulebookId.of(new.rulebook, new_rules_as_of),
        rules=rules,
        phase_order=phase_order,
        phase_labels=phase_labels,
        transitions=dict(transitions),
        flag_order=flag_order,
        flags_old=dict(flags_old),
        flags_new=dict(flags_new),
        citizens=citizens,
        rejections=rejections,
        read=read,
        evaluated=evaluated,
        severity_changes=dict(severity_changes),
        checklist_labels={number: {"da": point.title.da, "en": point.title.en} for number, point in checklist.items()},
        focus_old=dict(focus_old),
        focus_new=dict(focus_new),
        focus_changed=focus_changed,
        breakdowns=ordered,
        group_labels=group_labels,
        workload=Workload(
            review_weeks, MEETING_PHASES, sum(flags_old.values()), sum(flags_new.values()), meetings_old, meetings_new
        ),
        words=words,
        fact_names=causes.labels,
        value_names=causes.values,
    )


def compare_rule_folders(
    old_rules: str | Path | Rulebook,
    new_rules: str | Path | Rulebook,
    caseload: Sequence[str],
    as_of: dt.date | None = None,
    on_rejection: Callable[[Rejected], None] | None = None,
    review_weeks: int | None = None,
) -> ImpactReport:
    """Load both rulebooks with the pure-Python executor, read `caseload` with `detect_and_read`, compare.

    Either side may be a `DIR@DATE` text (see `split_dated`). Raises `RulebookError` for an invalid
    rulebook and `ValueError` for an unusable caseload path or date.
    """
    old_rules, old_day = split_dated(old_rules)
    new_rules, new_day = split_dated(new_rules)
    old = Checker(old_rules, engine="python")
    new = Checker(new_rules, engine="python")
    items = reject_duplicates(detect_and_read([str(path) for path in caseload]))
    return compare_caseload(old, new, items, as_of, on_rejection, old_day, new_day, review_weeks or REVIEW_WEEKS)


_DATED = re.compile(r"^(?P<folder>.+)@(?P<day>\d{4}-\d{2}-\d{2})$")


def split_dated(side: Any) -> tuple[Any, dt.date | None]:
    """`rules@2027-01-01` -> (`rules`, 2027-01-01); anything else unchanged, with no date."""
    if isinstance(side, Rulebook):
        return side, None
    match = _DATED.match(str(side))
    if not match:
        if "@" in str(side) and not Path(str(side)).exists():
            raise KeyedError("impact.side_format", side=str(side))
        return side, None
    try:
        return match["folder"], dt.date.fromisoformat(match["day"])
    except ValueError:
        raise KeyedError("impact.side_date", side=str(side), day=match["day"]) from None


# --- Rendering ----------------------------------------------------------------------------------


def render_impact(report: ImpactReport, fmt: str = "text", lang: str = "da") -> str:
    """The report as `text` (80 columns), `markdown`, `json` or `html` (one self-contained page with
    inline SVG charts and a print stylesheet, no scripts); ends with a newline."""
    if fmt == "json":
        return json.dumps(report.as_dict(lang), ensure_ascii=False, indent=2) + "\n"
    if lang not in LANGS:
        raise KeyedError("impact.unknown_lang", lang_given=lang)
    if fmt == "text":
        return _Text(report, lang).render()
    if fmt == "markdown":
        return _Markdown(report, lang).render()
    if fmt == "html":
        return _Html(report, lang).render()
    raise KeyedError("impact.unknown_format", fmt=fmt, choices=", ".join(FORMATS))


def _signed(number: int) -> str:
    return f"{number:+d}" if number else "0"


def _value(value: Any) -> str:
    return "-" if value is None else str(value)


class _Base:
    def __init__(self, report: ImpactReport, lang: str):
        self.report, self.lang, self.words = report, lang, texts("impact", lang)

    def label(self, phase: str | None) -> str:
        phase = phase or NONE
        labels = self.report.phase_labels.get(phase)
        return labels.get(self.lang, phase) if labels else phase

    def rulebook_line(self, which: str) -> str:
        rulebook = getattr(self.report, which)
        return f"{rulebook.name} {rulebook.version}" + (f" @ {rulebook.rules_as_of}" if rulebook.rules_as_of else "")

    def rule_change(self, change: RuleChange) -> list[tuple[str, str, str]]:
        """(field name, old, new) per changed field, names in the report's language; a condition in
        words (as `bip rules docs` writes it), then as written."""
        rows = []
        for name, (old, new) in change.changes.items():
            if name == "when":
                old_words, new_words = (self.report.rule_words(change.id, side, self.lang) for side in ("old", "new"))
                old = f"{old_words} ({old})" if old_words else old
                new = f"{new_words} ({new})" if new_words else new
            rows.append((self.words["field"].get(name, name), _value(old), _value(new)))
        return rows

    def rule_summary(self, rule: dict) -> str:
        return ", ".join(
            f"{self.words['field'].get(name, name)} {_value(value)}"
            for name, value in rule.items()
            if name not in ("id", "stage")
        )

    def counts(self) -> str:
        report = self.report
        return self.words["count_line"].format(
            read=report.read,
            evaluated=report.evaluated,
            rejected=report.rejected,
            changed=report.changed,
            phase_changed=report.phase_changes,
        )

    def moves(self) -> list[tuple[str, str, int]]:
        """The off-diagonal cells of the phase table that are not zero, in table order."""
        order = self.report.phase_order
        return [
            (old, new, self.report.transitions[(old, new)])
            for old in order
            for new in order
            if old != new and self.report.transitions.get((old, new))
        ]

    def rule_pair(self, citizen: ChangedCitizen) -> str:
        """The deciding phase rules, `old → new`, or one id when they are the same."""
        none = self.words["rule_none"]
        if citizen.old_rule == citizen.new_rule:
            return citizen.new_rule or none
        return f"{citizen.old_rule or none} → {citizen.new_rule or none}"

    def flags(self, flags: dict[str, list[str]]) -> str:
        return "; ".join(f"{flag} ({', '.join(rules)})" for flag, rules in flags.items())

    def severity(self, severity: str) -> str:
        return texts("docs", self.lang)["severities"].get(severity, severity)

    def number(self, value: float, signed: bool = False) -> str:
        """A number as a reader of the language writes it (decimal comma in Danish, a real minus)."""
        shown = format_value(int(value) if float(value).is_integer() else value, self.lang)
        return ("+" + shown) if signed and value > 0 else shown

    def show(self, fact: str, value: Any) -> str:
        """A citizen's fact value in words: labels for phases and types, decimal commas in Danish."""
        names = self.report.value_names.get(self.lang, {}).get(fact, {})
        if isinstance(value, (list, tuple)):
            return ", ".join(names.get(item, str(item)) for item in value) or "–"
        if value is None:
            return "–"
        if isinstance(value, str):
            return names.get(value, value)
        if isinstance(value, float):
            value = round(value, 2)
        return format_value(value, self.lang)

    def severity_changes(self, citizen: ChangedCitizen) -> str:
        return "; ".join(
            f"{flag} {self.severity(old)} → {self.severity(new)}"
            for flag, (old, new) in citizen.severity_changed.items()
        )

    def focus(self, citizen: ChangedCitizen) -> str:
        parts = []
        if citizen.focus_added:
            parts.append("+ " + ", ".join(str(point) for point in citizen.focus_added))
        if citizen.focus_removed:
            parts.append("− " + ", ".join(str(point) for point in citizen.focus_removed))
        return "; ".join(parts)

    def cause(self, cause: Cause) -> str:
        """`rule: condition in words (parameter old → new); the citizen's values: fact = value, ...`."""
        report = self.report
        old, new = (report.rule_words(cause.rule, side, self.lang) for side in ("old", "new"))
        words = f"{old} → {new}" if old and new and old != new else (new or old)
        parts = [f"{cause.rule}: {words}"]
        for name, (before, after) in cause.parameters.items():
            if before != after:
                parts.append(f"{name} {self.show(name, before)} → {self.show(name, after)}")
        values = []
        for side in cause.sides:
            for fact, value in cause.facts.get(side, {}).items():
                label = fact_label(fact, self.lang, report.fact_names)
                shown = f"{label} = {self.show(fact, value)}"
                if shown not in values:
                    values.append(shown)
        return "; ".join(parts) + (f" ({self.words['values']}: {', '.join(values)})" if values else "")

    def breakdown_rows(self, kind: str) -> list[list[Any]]:
        return [
            [self.report.group_label(kind, group, self.lang), *(counts[name] for name in _GROUP_COUNTS)]
            for group, counts in self.report.breakdowns.get(kind, {}).items()
        ]

    def breakdown_heads(self) -> list[str]:
        return [self.words["group"], *(self.words["column"][name] for name in _GROUP_COUNTS)]

    def workload_lines(self) -> list[str]:
        workload, words = self.report.workload, self.words
        if workload is None:
            return []
        phases = texts("describe", self.lang)["or"].join(self.label(phase) for phase in workload.meeting_phases)
        return [
            words["workload_assumption"].format(weeks=workload.review_weeks, phases=phases),
            words["workload_flags"].format(
                old=workload.flags_old, new=workload.flags_new, per_week=self.number(workload.flags_per_week, True)
            ),
            words["workload_meetings"].format(
                old=workload.meetings_old,
                new=workload.meetings_new,
                per_week=self.number(workload.meetings_per_week, True),
            ),
        ]


class _Text(_Base):
    """Plain text, no line longer than `WIDTH`."""

    def __init__(self, report: ImpactReport, lang: str):
        super().__init__(report, lang)
        self.lines: list[str] = []

    def add(self, text: str = "", indent: int = 0, hang: int = 2) -> None:
        """Add `text`, wrapped to the width, indented by `indent`, continuation lines by `hang` more."""
        if not text:
            self.lines.append("")
            return
        self.lines.extend(
            textwrap.wrap(
                text,
                WIDTH,
                initial_indent=" " * indent,
                subsequent_indent=" " * (indent + hang),
                break_on_hyphens=False,
            )
        )

    def heading(self, text: str) -> None:
        if self.lines:
            self.add()
        self.add(text)
        self.lines.append("-" * min(len(text), WIDTH))

    def render(self) -> str:
        report, words = self.report, self.words
        self.add(words["title"])
        self.lines.append("=" * len(words["title"]))
        for which in ("old", "new"):
            self.add(f"{words[which] + ':':<8}{self.rulebook_line(which)}")
            self.add(f"sha256 {getattr(report, which).hash}", indent=8)
        self.add(f"{words['as_of']}: {report.as_of}")
        self.add(f"{words['counts']}: {self.counts()}")
        self.rules()
        self.phases()
        self.flag_table()
        self.severity_table()
        self.checklist()
        self.breakdowns()
        self.heading(words["workload"])
        for line in self.workload_lines():
            self.add(line)
        self.citizens()
        if report.rejections:
            self.heading(f"{words['rejected']} ({report.rejected})")
            for rejection in report.rejections:
                under = words["under_values"][rejection.invalid_under]
                self.add(f"{rejection.source} ({rejection.citizen_id or '?'}; {words['under'].lower()}: {under})")
                for problem in rejection.texts(self.lang):
                    self.add(problem, indent=2, hang=2)
        return "\n".join(self.lines) + "\n"

    def rules(self) -> None:
        words, diff = self.words, self.report.rules
        self.heading(words["rules"])
        if diff.empty:
            self.add(words["no_rules"])
            return
        for kind, rules in (("added", diff.added), ("removed", diff.removed)):
            for rule in rules:
                self.add(
                    f"{words[kind]}: {rule['id']} ({words['stage'][rule['stage']]}): {self.rule_summary(rule)}", hang=4
                )
        for change in diff.changed:
            self.add(f"{words['changed']}: {change.id} ({words['stage'][change.stage]})")
            for name, old, new in self.rule_change(change):
                line = f"    {name}: {old} → {new}"
                if len(line) <= WIDTH:
                    self.lines.append(line)
                    continue
                self.add(f"{name}:", indent=4)
                self.add(f"{words['old'].lower()}: {old}", indent=6, hang=4)
                self.add(f"{words['new'].lower()}: {new}", indent=6, hang=4)

    def phases(self) -> None:
        words, report = self.words, self.report
        self.heading(words["phases"])
        order = report.phase_order
        table, old_totals, new_totals = report.phase_table(), report.old_totals(), report.new_totals()
        heads = [self.label(phase) for phase in order] + [words["total"]]
        columns = [[str(table[old][new]) for old in order] + [str(new_totals[new])] for new in order]
        columns.append([str(old_totals[old]) for old in order] + [str(report.evaluated)])
        widths = [max(len(head), *(len(cell) for cell in column)) for head, column in zip(heads, columns, strict=True)]
        first = max(len(head) for head in heads)
        if first + sum(width + 2 for width in widths) <= WIDTH:
            self.lines.append(
                " " * first + "".join(f"  {head:>{width}}" for head, width in zip(heads, widths, strict=True))
            )
            for row, head in enumerate(heads):
                self.lines.append(
                    f"{head:<{first}}"
                    + "".join(f"  {column[row]:>{width}}" for column, width in zip(columns, widths, strict=True))
                )
        else:  # too many phases or too long labels for a table: totals, then the changes as a list
            for phase in order:
                self.add(
                    f"{self.label(phase)}: {words['old'].lower()} {old_totals[phase]}, "
                    f"{words['new'].lower()} {new_totals[phase]}"
                )
        self.add()
        self.add(words["moves"] + ":")
        moves = self.moves()
        if not moves:
            self.add(words["no_moves"], indent=2)
        for old, new, count in moves:
            self.add(f"{self.label(old)} → {self.label(new)}: {count}", indent=2)

    def flag_table(self) -> None:
        words, rows = self.words, self.report.flag_rows()
        self.heading(words["flags"])
        if not rows:
            self.add(words["no_flags"])
            return
        numbers = [words["old"], words["new"], words["difference"]]
        number_width = max(8, *(len(word) for word in numbers))
        name_width = min(max(len(words["flag"]), *(len(row["id"]) for row in rows)), WIDTH - 3 * (number_width + 2))
        line = f"{{:<{name_width}}}" + f"  {{:>{number_width}}}" * 3
        self.lines.append(line.format(words["flag"], *numbers))
        for row in rows:
            name = row["id"]
            if len(name) > name_width:
                self.add(name)
                name = ""
            self.lines.append(line.format(name, row["old"], row["new"], _signed(row["difference"])))

    def columns(self, heads: list[str], rows: list[list[Any]]) -> None:
        """A table: the first column left-aligned (wrapped onto its own line when too long), numbers right."""
        widths = [max(len(str(head)), *(len(str(row[index])) for row in rows)) for index, head in enumerate(heads)]
        rest = sum(width + 2 for width in widths[1:])
        first = min(widths[0], WIDTH - rest)
        line = f"{{:<{first}}}" + "".join(f"  {{:>{width}}}" for width in widths[1:])
        self.lines.append(line.format(*heads))
        for row in rows:
            name = str(row[0])
            if len(name) > first:
                self.add(name)
                name = ""
            self.lines.append(line.format(name, *row[1:]))

    def severity_table(self) -> None:
        words, rows = self.words, self.report.severity_rows()
        self.heading(words["severity_heading"])
        if not rows:
            self.add(words["no_severity"])
            return
        self.columns(
            [words["flag"], words["old"], words["new"], words["counts"]],
            [[row["id"], self.severity(row["old"]), self.severity(row["new"]), row["citizens"]] for row in rows],
        )

    def checklist(self) -> None:
        words, report = self.words, self.report
        self.heading(words["checklist_heading"])
        self.add(words["checklist_changed"].format(count=report.focus_changed))
        rows = [row for row in report.focus_rows() if row["old"] or row["new"]]
        if rows:
            self.columns(
                [words["point"], words["old"], words["new"], words["difference"]],
                [
                    [
                        f"{row['number']}. {report.checklist_labels[row['number']][self.lang]}",
                        row["old"],
                        row["new"],
                        _signed(row["difference"]),
                    ]
                    for row in rows
                ],
            )

    def breakdowns(self) -> None:
        words = self.words
        self.heading(words["breakdowns"])
        for kind in BREAKDOWNS:
            self.add()
            self.add(words["breakdown"][kind] + ":")
            self.columns(self.breakdown_heads(), self.breakdown_rows(kind))

    def citizens(self) -> None:
        words, report = self.words, self.report
        self.heading(f"{words['citizens']} ({report.changed})")
        if not report.citizens:
            self.add(words["no_citizens"])
            return
        for citizen in report.citizens:
            phase = (
                f"{self.label(citizen.old_phase)} → {self.label(citizen.new_phase)}"
                if citizen.phase_changed
                else self.label(citizen.new_phase)
            )
            self.add(f"{citizen.citizen_id}: {phase}")
            self.add(f"{words['rule']}: {self.rule_pair(citizen)}", indent=2, hang=4)
            if citizen.flags_added:
                self.add(f"+ {self.flags(citizen.flags_added)}", indent=2, hang=2)
            if citizen.flags_removed:
                self.add(f"- {self.flags(citizen.flags_removed)}", indent=2, hang=2)
            if citizen.severity_changed:
                self.add(f"{words['field']['severity']}: {self.severity_changes(citizen)}", indent=2, hang=4)
            if citizen.focus_added or citizen.focus_removed:
                self.add(f"{words['focus']}: {self.focus(citizen)}", indent=2, hang=4)
            for cause in citizen.causes:
                self.add(f"{words['cause']}: {self.cause(cause)}", indent=2, hang=4)


def _cell(text: Any) -> str:
    """A markdown table cell: pipes escaped, line breaks removed."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class _Markdown(_Base):
    """GitHub-flavoured markdown with tables."""

    def table(self, heads: list[str], rows: list[list[Any]], right: Sequence[int] = ()) -> list[str]:
        lines = [
            "| " + " | ".join(_cell(head) for head in heads) + " |",
            "|" + "|".join("---:" if index in right else "---" for index in range(len(heads))) + "|",
        ]
        lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
        return lines

    def render(self) -> str:
        report, words = self.report, self.words
        out = [f"# {words['title']}", ""]
        out += self.table(
            ["", words["old"], words["new"]],
            [
                ["", self.rulebook_line("old"), self.rulebook_line("new")],
                ["sha256", f"`{report.old.hash}`", f"`{report.new.hash}`"],
            ],
        )
        out += ["", f"{words['as_of']}: {report.as_of}", "", f"{words['counts']}: {self.counts()}", ""]

        out += [f"## {words['rules']}", ""]
        diff = report.rules
        if diff.empty:
            out += [words["no_rules"], ""]
        else:
            rows = []
            for kind, rules in (("added", diff.added), ("removed", diff.removed)):
                for rule in rules:
                    rows.append(
                        [
                            f"`{rule['id']}`",
                            words["stage"][rule["stage"]],
                            words[kind],
                            "" if kind == "added" else self.rule_summary(rule),
                            self.rule_summary(rule) if kind == "added" else "",
                        ]
                    )
            for change in diff.changed:
                for name, old, new in self.rule_change(change):
                    rows.append(
                        [f"`{change.id}`", words["stage"][change.stage], f"{words['changed']}: {name}", old, new]
                    )
            out += self.table(
                [
                    words["rule_id"],
                    words["field"]["stage"].capitalize(),
                    words["difference"],
                    words["old"],
                    words["new"],
                ],
                rows,
            )
            out.append("")

        out += [f"## {words['phases']}", ""]
        order = report.phase_order
        table, old_totals, new_totals = report.phase_table(), report.old_totals(), report.new_totals()
        rows = [[f"**{self.label(old)}**", *(table[old][new] for new in order), old_totals[old]] for old in order]
        rows.append([f"**{words['total']}**", *(new_totals[new] for new in order), report.evaluated])
        out += self.table(
            ["", *(self.label(phase) for phase in order), words["total"]], rows, right=range(1, len(order) + 2)
        )
        out += ["", f"## {words['flags']}", ""]
        if report.flag_order:
            out += self.table(
                [words["flag"], words["old"], words["new"], words["difference"]],
                [[f"`{row['id']}`", row["old"], row["new"], _signed(row["difference"])] for row in report.flag_rows()],
                right=(1, 2, 3),
            )
        else:
            out.append(words["no_flags"])
        out += ["", f"## {words['severity_heading']}", ""]
        if report.severity_changes:
            out += self.table(
                [words["flag"], words["old"], words["new"], words["counts"]],
                [
                    [f"`{row['id']}`", self.severity(row["old"]), self.severity(row["new"]), row["citizens"]]
                    for row in report.severity_rows()
                ],
                right=(3,),
            )
        else:
            out.append(words["no_severity"])
        out += [
            "",
            f"## {words['checklist_heading']}",
            "",
            words["checklist_changed"].format(count=report.focus_changed),
        ]
        points = [row for row in report.focus_rows() if row["old"] or row["new"]]
        if points:
            out.append("")
            out += self.table(
                [words["point"], words["old"], words["new"], words["difference"]],
                [
                    [
                        f"{row['number']}. {report.checklist_labels[row['number']][self.lang]}",
                        row["old"],
                        row["new"],
                        _signed(row["difference"]),
                    ]
                    for row in points
                ],
                right=(1, 2, 3),
            )
        out += ["", f"## {words['breakdowns']}"]
        for kind in BREAKDOWNS:
            out += ["", f"### {words['breakdown'][kind]}", ""]
            out += self.table(self.breakdown_heads(), self.breakdown_rows(kind), right=range(1, 6))
        out += ["", f"## {words['workload']}", ""]
        out += [line + "  " for line in self.workload_lines()]
        out += ["", f"## {words['citizens']} ({report.changed})", ""]
        if report.citizens:
            out += self.table(
                [
                    words["citizen"],
                    words["phase"],
                    words["rule"],
                    words["flags_added"],
                    words["flags_removed"],
                    words["field"]["severity"].capitalize(),
                    words["focus"],
                    words["cause"],
                ],
                [
                    [
                        citizen.citizen_id,
                        f"{self.label(citizen.old_phase)} → {self.label(citizen.new_phase)}"
                        if citizen.phase_changed
                        else self.label(citizen.new_phase),
                        self.rule_pair(citizen),
                        self.flags(citizen.flags_added),
                        self.flags(citizen.flags_removed),
                        self.severity_changes(citizen),
                        self.focus(citizen),
                        "<br>".join(_cell(self.cause(cause)) for cause in citizen.causes),
                    ]
                    for citizen in report.citizens
                ],
            )
        else:
            out.append(words["no_citizens"])
        if report.rejections:
            out += ["", f"## {words['rejected']} ({report.rejected})", ""]
            out += self.table(
                [words["source"], words["citizen"], words["under"], words["problems"]],
                [
                    [
                        rejection.source,
                        rejection.citizen_id or "?",
                        words["under_values"][rejection.invalid_under],
                        "; ".join(rejection.texts(self.lang)),
                    ]
                    for rejection in report.rejections
                ],
            )
        return "\n".join(out) + "\n"


#: The geometry of the HTML report's bar charts (SVG user units).
_CHART = {"label": 220, "span": 360, "bar": 11, "gap": 10}


class _Html(_Base):
    """One self-contained HTML page: tables, inline SVG bar charts, a print stylesheet; no scripts."""

    def chart(self, rows: list[tuple[str, int, int]]) -> dict[str, Any]:
        """Bars for (label, old, new) rows: each row an OLD and a NEW bar, scaled to the largest count."""
        top = max([1, *(max(old, new) for _, old, new in rows)])
        size = _CHART
        step = 2 * size["bar"] + size["gap"]
        bars = [
            {
                "label": label,
                "y": index * step,
                "old": old,
                "new": new,
                "old_width": round(size["span"] * old / top, 1),
                "new_width": round(size["span"] * new / top, 1),
            }
            for index, (label, old, new) in enumerate(rows)
        ]
        return {"bars": bars, "height": max(step, len(rows) * step), **size, "width": size["label"] + size["span"] + 60}

    def render(self) -> str:
        report = self.report
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        order = report.phase_order
        old_totals, new_totals = report.old_totals(), report.new_totals()
        phases = [(self.label(phase), old_totals[phase], new_totals[phase]) for phase in order]
        flags = [(row["id"], row["old"], row["new"]) for row in report.flag_rows()]
        focus = [row for row in report.focus_rows() if row["old"] or row["new"]]
        return env.get_template("impact.html.j2").render(
            r=report,
            v=self,
            w=self.words,
            lang=self.lang,
            table=report.phase_table(),
            old_totals=old_totals,
            new_totals=new_totals,
            phase_chart=self.chart(phases),
            flag_chart=self.chart(flags),
            focus=focus,
            breakdowns=[(kind, self.breakdown_rows(kind)) for kind in BREAKDOWNS],
            signed=_signed,
            counts=_GROUP_COUNTS,
        )
