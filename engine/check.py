"""The pre-meeting check: record → facts → rules → report.

`Checker` is the library's entry point. Load a rulebook once and check many records, from
several threads if you like::

    from engine import Checker
    checker = Checker()                       # bundled rules and guidance
    report = checker.check_file("examples/stilstand.yaml", as_of=date(2026, 11, 22), lang="da")
    print(report.phase.id, [flag.id for flag in report.flags])
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .executors import ExecutorClosed, Outcome, make_executor
from .errors import Problem, RulebookError
from .executors.python_exec import PythonExecutor, RuleTrace, stage_facts
from .facts import LeftOut, derive_facts
from .paths import default_rules
from .record import Record, check_names, cpr_warning, read_record_file, validate_record
from .render import Guidance
from .report import (ChecklistPoint, FindingRef, FlagResult, FocusReason, Guidance as GuidanceText,
                     LeftOutItem, PhaseResult, Report, RulebookRef)
from .rulebook import CompiledRule, Rulebook, load_rulebook
from .rulebook_cache import load_rulebook_cached

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Evaluation:
    """The language-neutral result of evaluating one record."""

    record: Record
    as_of: dt.date
    facts: dict[str, Any]
    outcome: Outcome
    engine: str
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rulebook: Rulebook | None = None

    @property
    def phase(self) -> str | None:
        """The phase id, or None."""
        return self.outcome.phase_rule.conclusion if self.outcome.phase_rule else None

    @property
    def flags(self) -> list[str]:
        """The ids of the flags raised, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.outcome.flag_rules))


@dataclass(frozen=True)
class _Loaded:
    """A rulebook with its executor, swapped as one on reload."""

    rulebook: Rulebook
    executor: Any


class Checker:
    """A loaded rulebook with its guidance templates: evaluates and renders records."""

    def __init__(self, rules: str | Path | Rulebook | None = None, guidance: Iterable[str | Path] = (),
                 engine: str | None = None, colour: bool = False):
        rulebook = rules if isinstance(rules, Rulebook) else load_rulebook_cached(rules or default_rules())
        self._state = _Loaded(rulebook, make_executor(rulebook, engine))
        self._guidance_dirs = [Path(folder) for folder in guidance]
        self._colour = colour
        self._guidance: dict[str, Guidance] = {}
        self._lock = threading.Lock()

    @property
    def rulebook(self) -> Rulebook:
        """The rulebook in use."""
        return self._state.rulebook

    @property
    def executor(self):
        """The executor in use."""
        return self._state.executor

    @property
    def engine(self) -> str:
        """The name of the executor in use."""
        return self._state.executor.name

    def reload(self, rules: str | Path | None = None) -> list[Problem]:
        """Load the rulebook again (from `rules`, or its own folder) and switch to it atomically.

        When the new rulebook is invalid, the current one stays in use and the problems are
        returned; an empty list means the new rulebook is now in use.
        """
        try:
            rulebook = load_rulebook(rules or self.rulebook.path)
            loaded = _Loaded(rulebook, make_executor(rulebook, self.engine))
        except RulebookError as error:
            return error.problems
        with self._lock:
            old, self._state = self._state, loaded
        close = getattr(old.executor, "close", None)
        if close:
            close()
        return []

    def guidance(self, lang: str) -> Guidance:
        """The guidance templates for `lang` (created once)."""
        with self._lock:
            if lang not in self._guidance:
                self._guidance[lang] = Guidance(lang, self._guidance_dirs, self._colour)
            return self._guidance[lang]

    def read_record(self, source: str) -> tuple[Record, Any, str]:
        """Read and validate a record file (`-` for stdin); return the record, raw data and display name."""
        data, name = read_record_file(source)
        return self.parse_record(data, name), data, name

    def parse_record(self, data: Any, source: str = "<record>") -> Record:
        """Validate already-loaded record data against the format and this rulebook's catalogues."""
        record = validate_record(data, source)
        check_names(record, data, source, self.rulebook.catalogue)
        return record

    def evaluate(self, record: Record | dict, as_of: dt.date | None = None) -> Evaluation:
        """Derive the facts of `record` on `as_of` (default today) and run the rules."""
        if not isinstance(record, Record):
            record = self.parse_record(record)
        as_of = as_of or dt.date.today()
        state = self._state  # one consistent rulebook and executor, even while another thread reloads
        derived = derive_facts(record, as_of, state.rulebook.catalogue)
        try:
            outcome = state.executor.run(derived.values)
        except ExecutorClosed:
            return self.evaluate(record, as_of)  # a reload replaced the rulebook meanwhile
        warnings = [warning for warning in (cpr_warning(record),) if warning]
        return Evaluation(record, as_of, derived.values, outcome, state.executor.name, derived.left_out, warnings,
                          state.rulebook)

    def explain(self, evaluation: Evaluation) -> list[RuleTrace]:
        """Every rule of every stage, matched or not, with the values that decided it."""
        return PythonExecutor(evaluation.rulebook).explain(evaluation.facts, evaluation.outcome)

    def report(self, evaluation: Evaluation, lang: str = "da") -> Report:
        """The full, rendered report of an evaluation in `lang`."""
        return ReportBuilder(evaluation.rulebook, self.guidance(lang), lang).build(evaluation)

    def check(self, record: Record | dict, as_of: dt.date | None = None, lang: str = "da") -> Report:
        """Evaluate and report in one step."""
        return self.report(self.evaluate(record, as_of), lang)

    def check_file(self, source: str, as_of: dt.date | None = None, lang: str = "da") -> Report:
        """Read a record file and check it."""
        record, _, _ = self.read_record(source)
        return self.check(record, as_of, lang)

    def render(self, report: Report, fmt: str = "text", width: int = 78) -> str:
        """The report as `json` (stable, byte-identical for the same input), `markdown` or `text`."""
        if fmt == "json":
            return report_json(report)
        context = {"report": report.model_dump(mode="json"), "width": width}
        layout = {"text": "report.txt.j2", "markdown": "report.md.j2"}[fmt]
        return self.guidance(report.language).render(layout, context)

    def render_explanation(self, evaluation: Evaluation, report: Report) -> str:
        """The full rule trace as text, from `explain.txt.j2`."""
        trace = [
            {"stage": item.rule.stage, "rule": item.rule.id, "conclusion": item.rule.conclusion,
             "matched": item.matched, "when": item.rule.when, "reason": item.rule.reason.get(report.language),
             "origin": _origin(item.rule),
             "source": item.rule.source,
             "atoms": [{"test": atom.test, "fact": atom.fact, "value": atom.value, "result": atom.result}
                       for atom in item.atoms]}
            for item in self.explain(evaluation)
        ]
        context = {"report": report.model_dump(mode="json"), "trace": trace}
        return self.guidance(report.language).render("explain.txt.j2", context)


def _origin(rule: CompiledRule) -> str:
    """Where a rule was written: file:line, its rulebook layer, and the base rule it overrides."""
    where = f"{rule.path}:{rule.line}" if rule.line else rule.path
    return f"{where} ({rule.origin}" + (f"; overrides {rule.overrides})" if rule.overrides else ")")


def report_json(report: Report) -> str:
    """The report as indented JSON, keys in schema order, non-ASCII kept as is."""
    return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


class ReportBuilder:
    """Turns an evaluation into a `Report`, rendering the guidance texts."""

    def __init__(self, rulebook: Rulebook, guidance: Guidance, lang: str):
        self.rulebook, self.guidance, self.lang = rulebook, guidance, lang

    def finding(self, finding_id: str) -> FindingRef:
        """The finding with texts in the report's language."""
        item = self.rulebook.catalogue.findings[finding_id]
        return FindingRef(id=item.id, title=item.title.get(self.lang), statement=item.statement.get(self.lang),
                          reference=item.reference)

    @staticmethod
    def evidence(rules: list[CompiledRule], facts: dict) -> dict[str, Any]:
        """The facts that the rules read, with their values."""
        names = dict.fromkeys(name for rule in rules for name in rule.facts)
        return {name: facts.get(name) for name in names}

    def build(self, evaluation: Evaluation) -> Report:
        """Assemble every section of the report."""
        facts = evaluation.facts
        phase = self.phase(evaluation)
        phase_context = phase.model_dump(mode="json") if phase else None
        flag_facts = stage_facts(facts, evaluation.phase)
        return Report(
            citizen_id=evaluation.record.id,
            as_of=evaluation.as_of.isoformat(),
            language=self.lang,
            engine=evaluation.engine,
            rulebook=RulebookRef(name=self.rulebook.name, version=self.rulebook.version,
                                 hash=self.rulebook.content_hash),
            phase=phase,
            guidance=self.phase_guidance(phase_context, facts) if phase else None,
            flags=self.flags(evaluation.outcome.flag_rules, flag_facts, phase_context),
            checklist=self.checklist(evaluation.outcome.checklist_rules),
            facts=facts,
            left_out=[LeftOutItem(kind=item.kind, detail=item.detail,
                                  date=item.date.isoformat() if item.date else None, reason=item.reason)
                      for item in evaluation.left_out],
            warnings=evaluation.warnings,
        )

    def phase(self, evaluation: Evaluation) -> PhaseResult | None:
        """The phase section, or None when no phase rule matched."""
        rule = evaluation.outcome.phase_rule
        if rule is None:
            return None
        confidence = evaluation.facts.get("confidence")
        return PhaseResult(
            id=rule.conclusion, label=self.rulebook.phases[rule.conclusion].label.get(self.lang),
            confidence=confidence if confidence in ("low", "medium", "high") else "low",
            rule=rule.id, reason=rule.reason.get(self.lang), source=rule.source,
            finding=self.finding(rule.source), evidence=self.evidence([rule], evaluation.facts),
            also_matched=[rule_id for rule_id in evaluation.outcome.phase_matches if rule_id != rule.id],
        )

    def phase_guidance(self, phase: dict, facts: dict) -> GuidanceText:
        """The phase's quality-parameter guidance, from `phases/<id>.j2`."""
        context = {"phase": phase, "facts": facts, "lang": self.lang}
        name = f"phases/{phase['id']}.j2"
        return GuidanceText(**{block: self.guidance.block(name, block, context)
                               for block in ("signs", "meaning", "coherence", "momentum")})

    def flags(self, rules: list[CompiledRule], facts: dict, phase: dict | None) -> list[FlagResult]:
        """One entry per flag raised, most severe first, each with its message from `flags/<id>.j2`."""
        grouped: dict[str, list[CompiledRule]] = {}
        for rule in rules:
            grouped.setdefault(rule.conclusion, []).append(rule)
        results = []
        for flag_id, flag_rules in grouped.items():
            flag_rules.sort(key=lambda rule: (SEVERITY_ORDER[rule.severity], rule.rank))
            top = flag_rules[0]
            partial = {"id": flag_id, "severity": top.severity, "evidence": self.evidence(flag_rules, facts),
                       "reasons": [rule.reason.get(self.lang) for rule in flag_rules]}
            context = {"flag": partial, "facts": facts, "phase": phase, "lang": self.lang}
            name = f"flags/{flag_id}.j2"
            results.append((SEVERITY_ORDER[top.severity], top.rank, FlagResult(
                title=self.guidance.block(name, "title", context),
                message=self.guidance.block(name, "message", context),
                rules=[rule.id for rule in flag_rules], source=top.source, finding=self.finding(top.source),
                **partial)))
        return [result for *_, result in sorted(results, key=lambda item: item[:2])]

    def checklist(self, rules: list[CompiledRule]) -> list[ChecklistPoint]:
        """All checklist points in order; those some rule matched are in focus, with the reasons."""
        reasons: dict[int, list[FocusReason]] = {}
        for rule in rules:
            reasons.setdefault(rule.conclusion, []).append(
                FocusReason(rule=rule.id, reason=rule.reason.get(self.lang), source=rule.source))
        return [ChecklistPoint(number=number, title=point.title.get(self.lang), focus=number in reasons,
                               reasons=reasons.get(number, []))
                for number, point in sorted(self.rulebook.catalogue.checklist.items())]

