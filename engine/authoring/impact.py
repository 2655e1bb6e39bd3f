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

from ..caseload.batch import problem_row
from ..caseload.readers import RawRecord, ReadProblem, detect_and_read
from ..caseload.unique import reject_duplicates
from ..check import Checker, Evaluation
from ..errors import BipError, KeyedError, Problem
from ..messages import LANGS, text, texts
from ..rulebook import CompiledRule, Rulebook

NONE = "none"
WIDTH = 80
FORMATS = ("text", "markdown", "json")


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
class ChangedCitizen:
    """A citizen whose phase or set of flags differs between OLD and NEW."""

    citizen_id: str
    source: str
    old_phase: str | None
    new_phase: str | None
    old_rule: str | None  # the phase rule that decided the phase under OLD
    new_rule: str | None
    flags_added: dict[str, list[str]]  # flag id -> the NEW rules that raised it
    flags_removed: dict[str, list[str]]  # flag id -> the OLD rules that had raised it

    @property
    def phase_changed(self) -> bool:
        return self.old_phase != self.new_phase

    def as_dict(self) -> dict:
        return {
            "citizen_id": self.citizen_id,
            "source": self.source,
            "phase": {"old": self.old_phase, "new": self.new_phase},
            "rule": {"old": self.old_rule, "new": self.new_rule},
            "flags_added": {flag: list(rules) for flag, rules in self.flags_added.items()},
            "flags_removed": {flag: list(rules) for flag, rules in self.flags_removed.items()},
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

    def as_dict(self, lang: str = "en") -> dict:
        """Plain, JSON-ready data with keys in a fixed order; the rejections' messages in `lang`."""
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
            "citizens": [citizen.as_dict() for citizen in self.citizens],
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


def _flag_rules(evaluation: Evaluation) -> dict[str, list[str]]:
    """Flag id -> the ids of the rules that raised it, in rule order."""
    raised: dict[str, list[str]] = {}
    for rule in evaluation.outcome.flag_rules:
        raised.setdefault(rule.conclusion, []).append(rule.id)
    return raised


def _phase_labels(old: Rulebook, new: Rulebook) -> tuple[list[str], dict[str, dict[str, str]]]:
    labels: dict[str, dict[str, str]] = {}
    for rulebook in (old, new):
        for phase_id, phase in rulebook.phases.items():
            labels.setdefault(phase_id, {"da": phase.label.da, "en": phase.label.en})
    labels[NONE] = {lang: text("impact.no_phase", lang) for lang in LANGS}
    return list(labels), labels


def compare_caseload(
    old: Checker,
    new: Checker,
    items: Iterable[RawRecord | ReadProblem],
    as_of: dt.date | None = None,
    on_rejection: Callable[[Rejected], None] | None = None,
    old_rules_as_of: dt.date | None = None,
    new_rules_as_of: dt.date | None = None,
) -> ImpactReport:
    """Evaluate every record under OLD and NEW and report the difference.

    `items` is what `caseload_io.detect_and_read` yields. `as_of` defaults to today. Each rejected
    record is also passed to `on_rejection` as it happens, when given.
    """
    as_of = as_of or dt.date.today()
    old_rulebook = old.rulebook.at(old_rules_as_of or as_of)
    new_rulebook = new.rulebook.at(new_rules_as_of or as_of)
    phase_order, phase_labels = _phase_labels(old.rulebook, new.rulebook)
    flag_order = list(dict.fromkeys([*old_rulebook.flag_ids, *new_rulebook.flag_ids]))
    transitions: Counter = Counter()
    flags_old: Counter = Counter()
    flags_new: Counter = Counter()
    citizens: list[ChangedCitizen] = []
    rejections: list[Rejected] = []
    read = evaluated = 0

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
        old_flags, new_flags = _flag_rules(before), _flag_rules(after)
        flags_old.update(old_flags.keys())
        flags_new.update(new_flags.keys())
        if old_phase != new_phase or old_flags.keys() != new_flags.keys():
            citizens.append(
                ChangedCitizen(
                    citizen_id=after.record.id,
                    source=item.source,
                    old_phase=old_phase,
                    new_phase=new_phase,
                    old_rule=_phase_rule(before),
                    new_rule=_phase_rule(after),
                    flags_added={flag: rules for flag, rules in new_flags.items() if flag not in old_flags},
                    flags_removed={flag: rules for flag, rules in old_flags.items() if flag not in new_flags},
                )
            )
    return ImpactReport(
        as_of=as_of.isoformat(),
        old=RulebookId.of(old.rulebook, old_rules_as_of),
        new=RulebookId.of(new.rulebook, new_rules_as_of),
        rules=diff_rulebooks(old_rulebook, new_rulebook),
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
    )


def compare_rule_folders(
    old_rules: str | Path | Rulebook,
    new_rules: str | Path | Rulebook,
    caseload: Sequence[str],
    as_of: dt.date | None = None,
    on_rejection: Callable[[Rejected], None] | None = None,
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
    return compare_caseload(old, new, items, as_of, on_rejection, old_day, new_day)


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
    """The report as `text` (80 columns), `markdown` or `json`; ends with a newline."""
    if fmt == "json":
        return json.dumps(report.as_dict(lang), ensure_ascii=False, indent=2) + "\n"
    if lang not in LANGS:
        raise KeyedError("impact.unknown_lang", lang_given=lang)
    if fmt == "text":
        return _Text(report, lang).render()
    if fmt == "markdown":
        return _Markdown(report, lang).render()
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
        """(field name, old, new) per changed field, names in the report's language."""
        return [
            (self.words["field"].get(name, name), _value(old), _value(new))
            for name, (old, new) in change.changes.items()
        ]

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
        out += ["", f"## {words['citizens']} ({report.changed})", ""]
        if report.citizens:
            out += self.table(
                [words["citizen"], words["phase"], words["rule"], words["flags_added"], words["flags_removed"]],
                [
                    [
                        citizen.citizen_id,
                        f"{self.label(citizen.old_phase)} → {self.label(citizen.new_phase)}"
                        if citizen.phase_changed
                        else self.label(citizen.new_phase),
                        self.rule_pair(citizen),
                        self.flags(citizen.flags_added),
                        self.flags(citizen.flags_removed),
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
