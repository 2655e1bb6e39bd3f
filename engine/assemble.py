"""Assembling a report from an evaluation: phase, guidance, flags, checklist, trajectory, margins.

`ReportBuilder` renders the guidance texts and makes the report's parts with the models of
`bip_engine.report`, the one definition of a report (library, command line, service and page alike).
The phase margins are worked out only when asked for (`margins=True`: `bip explain`, the page).
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, cast, get_args

from .executors.python_exec import stage_facts
from .facts import NOTE_EVIDENCE_FACTS, staircase_matches
from .messages import text
from .report import (
    ChecklistPoint,
    EngineName,
    FindingRef,
    FlagResult,
    FocusReason,
    Guidance,
    Language,
    LeftOutItem,
    LeftOutKind,
    PhaseMargin,
    PhaseResult,
    Report,
    RulebookRef,
)
from .severity import SEVERITY_ORDER, Severity
from .trajectory import trajectory as build_trajectory

if TYPE_CHECKING:
    from .evaluation import Evaluation
    from .render import Guidance as Templates
    from .rulebook import CompiledRule, Rulebook

#: The blocks of a phase's guidance template (a report `Guidance`'s fields) and of a flag's template.
GUIDANCE_BLOCKS = ("signs", "meaning", "coherence", "momentum")
FLAG_BLOCKS = ("title", "message")


@functools.cache
def software_version() -> str:
    """The bip-engine version that makes the reports (`bip_engine.__version__`, read once)."""
    from . import __version__

    return str(__version__)


class ReportBuilder:
    """Turns an evaluation into a `Report`, rendering the guidance texts.

    The report's parts are made here from data already validated (the record, the rulebook and its
    catalogue), so they are built as the report's dataclasses directly, their types checked by mypy,
    rather than as plain data validated again. What depends only on the rulebook and the language (the
    facts each rule reads, the findings' texts, the checklist's titles) is worked out once per builder;
    `Checker` keeps one builder per rulebook and language.
    """

    def __init__(self, rulebook: Rulebook, guidance: Templates, lang: str):
        if lang not in get_args(Language):  # the report's `language`: checked here, as nothing validates it later
            raise ValueError(f"no report language {lang!r}: one of {', '.join(get_args(Language))}")
        self.rulebook, self.guidance, self.lang = rulebook, guidance, lang
        self._rule_facts: dict[tuple[str, str], list[str]] = {}
        self._findings: dict[str, dict[str, Any]] = {}
        self._checklist: list[tuple[int, str]] | None = None

    def finding(self, finding_id: str) -> FindingRef:
        """The finding with texts in the report's language."""
        fields = self._findings.get(finding_id)
        if fields is None:
            item = self.rulebook.catalogue.findings[finding_id]
            fields = self._findings[finding_id] = {
                "id": item.id,
                "title": item.title.get(self.lang),
                "statement": item.statement.get(self.lang),
                "reference": item.reference,
                "kind": item.kind,
                "law_reference": item.reference if item.kind == "law" else None,
            }
        return FindingRef(**fields)

    def evidence(self, rules: list[CompiledRule], facts: dict) -> dict[str, Any]:
        """The facts that the rules read, with their values."""
        names = dict.fromkeys(name for rule in rules for name in self._facts_read(rule))
        return {name: facts.get(name) for name in names}

    def _facts_read(self, rule: CompiledRule) -> list[str]:
        key = (rule.stage, rule.id)
        names = self._rule_facts.get(key)
        if names is None:
            names = self._rule_facts[key] = rule.facts
        return names

    def build(self, evaluation: Evaluation, margins: bool = False) -> Report:
        """Assemble every section of the report; the phase margins too when `margins` is set."""
        facts = evaluation.facts
        phase = self.phase(evaluation)
        phase_context = phase.model_dump(mode="json") if phase else None
        flag_facts = stage_facts(facts, evaluation.phase)
        lang = self.lang
        flags = self.flags(evaluation.outcome.flag_rules, flag_facts, phase_context, evaluation.record.notes)
        return Report(
            citizen_id=evaluation.record.id,
            as_of=evaluation.as_of.isoformat(),
            language=cast("Language", lang),
            engine=cast("EngineName", evaluation.engine),
            rulebook=RulebookRef(
                name=self.rulebook.name,
                version=self.rulebook.version,
                hash=self.rulebook.content_hash,
                release=self.rulebook.release,
                templates_hash=self.guidance.templates_hash,
                software_version=software_version(),
            ),
            rules_as_of=(evaluation.rules_as_of or evaluation.as_of).isoformat(),
            phase=phase,
            guidance=Guidance(**self.phase_guidance(phase_context, facts)) if phase_context else None,
            flags=flags,
            checklist=self.checklist(evaluation.outcome.checklist_rules),
            facts=dict(facts),
            left_out=[
                LeftOutItem(
                    kind=cast("LeftOutKind", item.kind),
                    detail=item.detail(lang),
                    date=item.date.isoformat() if item.date else None,
                    reason=item.why(lang),
                )
                for item in evaluation.left_out
            ],
            warnings=[
                text(key, lang) if isinstance(key, str) else text(key[0], lang, **key[1]) for key in evaluation.warnings
            ]
            + self.language_notes([f"phases/{phase.id}.j2"] if phase else [], flags),
            trajectory=build_trajectory(evaluation.record, evaluation.as_of, self.rulebook.catalogue, lang),
            phase_margins=self.margins(facts, evaluation.phase) if margins else None,
        )

    def language_notes(self, phase_templates: list[str], flags: list[FlagResult]) -> list[str]:
        """A warning for each text of the report not written in its language (`Templates.language_note`)."""
        names = [*phase_templates, *(f"flags/{flag.id}.j2" for flag in flags)]
        return [note for name in names if (note := self.guidance.language_note(name))]

    def margins(self, facts: dict, current: str | None) -> list[PhaseMargin]:
        """What would change the phase (`bip_engine.margins`), each margin in words from `margin.txt.j2`."""
        from .margins import phase_margins  # only when asked for: a plain check does not load it

        labels = {phase_id: phase.label.get(self.lang) for phase_id, phase in self.rulebook.phases.items()}
        indicators = {item.id: item.label.get(self.lang) for item in self.rulebook.catalogue.indicators.values()}
        fixed = json.dumps([labels, indicators, current], ensure_ascii=False, sort_keys=True)
        results = []
        for margin in phase_margins(self.rulebook, facts, labels):

            def context(margin: Any = margin) -> dict[str, Any]:
                return {
                    "margin": margin.model_dump(mode="json"),
                    "labels": labels,
                    "indicators": indicators,
                    "current": current,
                }

            text = self.guidance.render_kept("margin.txt.j2", _canonical(margin) + fixed, context)
            results.append(margin.model_copy(update={"text": text.strip()}))
        return results

    def phase(self, evaluation: Evaluation) -> PhaseResult | None:
        """The phase section, or None when no phase rule matched."""
        rule = evaluation.outcome.phase_rule
        if rule is None:
            return None
        confidence = evaluation.facts.get("confidence")
        return PhaseResult(
            id=rule.conclusion,
            label=self.rulebook.phases[rule.conclusion].label.get(self.lang),
            confidence=confidence if confidence in ("low", "medium", "high") else "low",
            rule=rule.id,
            reason=rule.reason.get(self.lang),
            source=rule.source,
            finding=self.finding(rule.source),
            evidence=self.evidence([rule], evaluation.facts),
            also_matched=[rule_id for rule_id in evaluation.outcome.phase_matches if rule_id != rule.id],
        )

    def phase_guidance(self, phase: dict, facts: dict) -> dict[str, str]:
        """The phase's quality-parameter guidance, from `phases/<id>.j2` (a report `Guidance`'s fields)."""
        context = {"phase": phase, "facts": facts, "lang": self.lang}
        name = f"phases/{phase['id']}.j2"
        return self.guidance.blocks(name, GUIDANCE_BLOCKS, context)

    def flags(
        self, rules: list[CompiledRule], facts: dict, phase: dict | None, notes: str | None = None
    ) -> list[FlagResult]:
        """One entry per flag raised, most severe first, each with its message from `flags/<id>.j2`.

        A flag whose rules read the staircase facts also shows, as `staircase_matches`, each place
        in the notes a pattern was found: the pattern's name, the note's own words and their sentence.
        """
        grouped: dict[str, list[CompiledRule]] = {}
        for rule in rules:
            grouped.setdefault(rule.conclusion, []).append(rule)
        results = []
        for flag_id, flag_rules in grouped.items():
            flag_rules.sort(key=lambda rule: (SEVERITY_ORDER[rule.severity], rule.rank))
            top = flag_rules[0]
            evidence = self.evidence(flag_rules, facts)
            if notes and any(name in evidence for name in NOTE_EVIDENCE_FACTS):
                found = set(facts.get("staircase_phrases") or ())
                evidence["staircase_matches"] = [
                    {"pattern": match.pattern, "words": match.words, "sentence": match.sentence}
                    for match in staircase_matches(notes, self.rulebook.catalogue)
                    if match.pattern in found
                ]
            severity = cast("Severity", top.severity)
            reasons = [rule.reason.get(self.lang) for rule in flag_rules]
            context = flag_context(flag_id, self.lang, severity, evidence, reasons, facts, phase)
            texts = self.guidance.blocks(f"flags/{flag_id}.j2", FLAG_BLOCKS, context)
            flag = FlagResult(
                id=flag_id,
                title=texts["title"],
                severity=severity,
                message=texts["message"],
                rules=[rule.id for rule in flag_rules],
                reasons=reasons,
                source=top.source,
                finding=self.finding(top.source),
                evidence=evidence,
            )
            results.append((SEVERITY_ORDER[severity], top.rank, flag))
        return [flag for *_, flag in sorted(results, key=lambda item: item[:2])]

    def checklist(self, rules: list[CompiledRule]) -> list[ChecklistPoint]:
        """All checklist points in order; those some rule matched are in focus, with the reasons."""
        reasons: dict[int, list[FocusReason]] = {}
        for rule in rules:
            reasons.setdefault(rule.conclusion, []).append(
                FocusReason(rule=rule.id, reason=rule.reason.get(self.lang), source=rule.source)
            )
        if self._checklist is None:
            points = sorted(self.rulebook.catalogue.checklist.items())
            self._checklist = [(number, point.title.get(self.lang)) for number, point in points]
        return [
            ChecklistPoint(number=number, title=title, focus=number in reasons, reasons=reasons.get(number, []))
            for number, title in self._checklist
        ]


def flag_context(
    flag_id: str,
    lang: str,
    severity: str | None = None,
    evidence: dict | None = None,
    reasons: list[str] | None = None,
    facts: dict | None = None,
    phase: dict | None = None,
) -> dict[str, Any]:
    """What a flag's template `flags/<id>.j2` is given: the flag so far, the facts, the phase, the language."""
    flag = {"id": flag_id, "severity": severity, "evidence": evidence or {}, "reasons": reasons or []}
    return {"flag": flag, "facts": facts or {}, "phase": phase, "lang": lang}


def flag_title(templates: Templates, flag_id: str, lang: str, **context: Any) -> str:
    """A flag's title as its template writes it; with no facts given, as for no citizen in particular."""
    return templates.block(f"flags/{flag_id}.j2", "title", flag_context(flag_id, lang, **context))


def _canonical(model: Any) -> str:
    """The JSON of a report part: the same for equal parts (the key of a kept text)."""
    return str(model.model_dump_json())
