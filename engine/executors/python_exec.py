"""The pure-Python executor: evaluates the intermediate form directly, and explains it.

It is the reference semantics of the rule language: a comparison with an unknown value (none)
is false; `not` was already pushed down to the comparisons by the parser.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Mapping

from ..expr import AllOf, AnyOf, Always, Compare, Condition, Contains, Known, atoms, to_text
from ..rulebook import CompiledRule, Rulebook
from . import Outcome

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def holds(condition: Condition, facts: Mapping[str, Any]) -> bool:
    """Whether `condition` is true for `facts`."""
    if isinstance(condition, Compare):
        value = facts.get(condition.fact)
        return value is not None and _OPS[condition.op](value, condition.value)
    if isinstance(condition, Contains):
        return (condition.value in (facts.get(condition.fact) or ())) == condition.positive
    if isinstance(condition, Known):
        return (facts.get(condition.fact) is not None) == condition.positive
    if isinstance(condition, AllOf):
        return all(holds(term, facts) for term in condition.terms)
    if isinstance(condition, AnyOf):
        return any(holds(term, facts) for term in condition.terms)
    if isinstance(condition, Always):
        return condition.value
    raise TypeError(f"not a condition: {condition!r}")


@dataclass(frozen=True)
class AtomTrace:
    """One comparison of a rule, the value it saw, and whether it held."""

    test: str
    fact: str
    value: Any
    result: bool


@dataclass(frozen=True)
class RuleTrace:
    """One rule's verdict and the comparisons that decided it."""

    rule: CompiledRule
    matched: bool
    atoms: list[AtomTrace]


def trace_rule(rule: CompiledRule, facts: Mapping[str, Any]) -> RuleTrace:
    """Evaluate one rule and keep every comparison's value and result."""
    traced = [AtomTrace(to_text(atom), atom.fact, facts.get(atom.fact), holds(atom, facts))
              for atom in atoms(rule.condition)]
    return RuleTrace(rule, holds(rule.condition, facts), traced)


def stage_facts(facts: Mapping[str, Any], phase: str | None = None, flags: list[str] | None = None) -> dict:
    """The facts a later stage sees: the record's facts plus the phase and the flags."""
    extended = dict(facts)
    extended["phase"] = phase
    if flags is not None:
        extended["flags"] = flags
    return extended


class PythonExecutor:
    """Runs the three stages in pure Python."""

    name = "python"

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook

    def run(self, facts: Mapping[str, Any]) -> Outcome:
        """Phase (first match by priority), then flags (all matches), then checklist (all matches)."""
        rules = self.rulebook.rules
        phase_matches = [rule for rule in rules["phase"] if holds(rule.condition, facts)]
        winner = phase_matches[0] if phase_matches else None
        with_phase = stage_facts(facts, winner.conclusion if winner else None)
        flag_rules = [rule for rule in rules["flag"] if holds(rule.condition, with_phase)]
        with_flags = stage_facts(facts, with_phase["phase"], list(dict.fromkeys(r.conclusion for r in flag_rules)))
        checklist_rules = [rule for rule in rules["checklist"] if holds(rule.condition, with_flags)]
        return Outcome(winner, [rule.id for rule in phase_matches], flag_rules, checklist_rules)

    def explain(self, facts: Mapping[str, Any], outcome: Outcome) -> list[RuleTrace]:
        """The trace of every rule, each stage seeing what the earlier stages concluded."""
        phase = outcome.phase_rule.conclusion if outcome.phase_rule else None
        flags = list(dict.fromkeys(rule.conclusion for rule in outcome.flag_rules))
        seen = {"phase": facts, "flag": stage_facts(facts, phase), "checklist": stage_facts(facts, phase, flags)}
        return [trace_rule(rule, seen[rule.stage]) for rule in self.rulebook.all_rules()]
