"""Assembling a report from an evaluation: phase, guidance, flags, checklist, trajectory, margins.

`ReportBuilder` renders the guidance texts and makes the report's parts with the models of
`bip_engine.report`, the one definition of a report (library, command line, service and page alike).
The phase margins are worked out only when asked for (`margins=True`: `bip explain`, the page).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .executors.python_exec import stage_facts
from .facts import NOTE_EVIDENCE_FACTS, staircase_matches
from .messages import text
from .report import (
    PhaseMargin,
    PhaseResult,
    Report,
)
from .severity import SEVERITY_ORDER
from .trajectory import trajectory as build_trajectory

if TYPE_CHECKING:
    from .evaluation import Evaluation
    from .render import Guidance
    from .rulebook import CompiledRule, Rulebook


def software_version() -> str:
    """The bip-engine version that makes the reports (`bip_engine.__version__`, read once)."""
    from . import __version__

    return str(__version__)


class ReportBuilder:
    """Turns an evaluation into a `Report`, rendering the guidance texts."""

    def __init__(self, rulebook: Rulebook, guidance: Guidance, lang: str):
        self.rulebook, self.guidance, self.lang = rulebook, guidance, lang

    def finding(self, finding_id: str) -> dict[str, Any]:
        """The finding with texts in the report's language (a `FindingRef`'s fields)."""
        item = self.rulebook.catalogue.findings[finding_id]
        return {
            "id": item.id,
            "title": item.title.get(self.lang),
            "statement": item.statement.get(self.lang),
            "reference": item.reference,
            "kind": item.kind,
            "law_reference": item.reference if item.kind == "law" else None,
        }

    @staticmethod
    def evidence(rules: list[CompiledRule], facts: dict) -> dict[str, Any]:
        """The facts that the rules read, with their values."""
        names = dict.fromkeys(name for rule in rules for name in rule.facts)
        return {name: facts.get(name) for name in names}

    def build(self, evaluation: Evaluation, margins: bool = False) -> Report:
        """Assemble every section of the report; the phase margins too when `margins` is set.

        The sections are handed to `Report` as plain data (the models' fields), so that pydantic
        builds them all in one validation rather than a model at a time.
        """
        facts = evaluation.facts
        phase = self.phase(evaluation)
        phase_context = phase.model_dump(mode="json") if phase else None
        flag_facts = stage_facts(facts, evaluation.phase)
        return Report.model_validate(
            dict(
                citizen_id=evaluation.record.id,
                as_of=evaluation.as_of.isoformat(),
                language=self.lang,
                engine=evaluation.engine,
                rulebook=dict(  # a `RulebookRef`
                    name=self.rulebook.name,
                    version=self.rulebook.version,
                    hash=self.rulebook.content_hash,
                    release=self.rulebook.release,
                    templates_hash=self.guidance.templates_hash,
                    software_version=software_version(),
                ),
                rules_as_of=(evaluation.rules_as_of or evaluation.as_of).isoformat(),
                phase=phase,
                guidance=self.phase_guidance(phase_context, facts) if phase_context else None,
                flags=self.flags(evaluation.outcome.flag_rules, flag_facts, phase_context, evaluation.record.notes),
                checklist=self.checklist(evaluation.outcome.checklist_rules),
                facts=facts,
                left_out=[
                    {  # a `LeftOutItem`
                        "kind": item.kind,
                        "detail": item.detail(self.lang),
                        "date": item.date.isoformat() if item.date else None,
                        "reason": item.why(self.lang),
                    }
                    for item in evaluation.left_out
                ],
                warnings=[
                    text(key, self.lang) if isinstance(key, str) else text(key[0], self.lang, **key[1])
                    for key in evaluation.warnings
                ],
                trajectory=build_trajectory(evaluation.record, evaluation.as_of, self.rulebook.catalogue, self.lang),
                phase_margins=self.margins(facts, evaluation.phase) if margins else None,
            )
        )

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
        return PhaseResult.model_validate(
            dict(
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
        )

    def phase_guidance(self, phase: dict, facts: dict) -> dict[str, str]:
        """The phase's quality-parameter guidance, from `phases/<id>.j2` (a report `Guidance`'s fields)."""
        context = {"phase": phase, "facts": facts, "lang": self.lang}
        name = f"phases/{phase['id']}.j2"
        return self.guidance.blocks(name, ("signs", "meaning", "coherence", "momentum"), context)

    def flags(
        self, rules: list[CompiledRule], facts: dict, phase: dict | None, notes: str | None = None
    ) -> list[dict[str, Any]]:
        """One entry per flag raised (a `FlagResult`'s fields), most severe first, each with its
        message from `flags/<id>.j2`.

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
            partial = {
                "id": flag_id,
                "severity": top.severity,
                "evidence": evidence,
                "reasons": [rule.reason.get(self.lang) for rule in flag_rules],
            }
            context = {"flag": partial, "facts": facts, "phase": phase, "lang": self.lang}
            texts = self.guidance.blocks(f"flags/{flag_id}.j2", ("title", "message"), context)
            results.append(
                (
                    SEVERITY_ORDER[top.severity],
                    top.rank,
                    dict(
                        title=texts["title"],
                        message=texts["message"],
                        rules=[rule.id for rule in flag_rules],
                        source=top.source,
                        finding=self.finding(top.source),
                        **partial,
                    ),
                )
            )
        return [result for *_, result in sorted(results, key=lambda item: item[:2])]

    def checklist(self, rules: list[CompiledRule]) -> list[dict[str, Any]]:
        """All checklist points in order (a `ChecklistPoint`'s fields); those some rule matched are
        in focus, with the reasons."""
        reasons: dict[int, list[dict[str, str]]] = {}
        for rule in rules:
            reasons.setdefault(rule.conclusion, []).append(  # a `FocusReason`
                {"rule": rule.id, "reason": rule.reason.get(self.lang), "source": rule.source}
            )
        return [
            {
                "number": number,
                "title": point.title.get(self.lang),
                "focus": number in reasons,
                "reasons": reasons.get(number, []),
            }
            for number, point in sorted(self.rulebook.catalogue.checklist.items())
        ]


def _canonical(model: Any) -> str:
    """The JSON of a report part: the same for equal parts (the key of a kept text)."""
    return str(model.model_dump_json())
