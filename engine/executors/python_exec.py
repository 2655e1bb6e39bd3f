"""The pure-Python executor: evaluates the intermediate form directly, and explains it.

It is the reference semantics of the rule language: a comparison with an unknown value (none)
is false; `not` was already pushed down to the comparisons by the parser.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..expr import AllOf, Always, AnyOf, Compare, Condition, Contains, Known, atoms, to_text
from ..models import Data, data_class
from .outcome import Outcome

if TYPE_CHECKING:
    from ..rulebook import CompiledRule, Rulebook

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}


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


def compile_condition(condition: Condition) -> Callable[[Mapping[str, Any]], bool]:
    """The condition as a Python function of the facts, with the same meaning as `holds` (no eval).

    Built once per rule from closures, so evaluating a rule costs a few function calls.
    """
    if isinstance(condition, Compare):
        name, compare, value = condition.fact, _OPS[condition.op], condition.value

        def test(facts: Mapping[str, Any]) -> bool:
            actual = facts.get(name)
            return actual is not None and compare(actual, value)

        return test
    if isinstance(condition, Contains):
        name, item, positive = condition.fact, condition.value, condition.positive
        return lambda facts: (item in (facts.get(name) or ())) == positive
    if isinstance(condition, Known):
        name, positive = condition.fact, condition.positive
        return lambda facts: (facts.get(name) is not None) == positive
    if isinstance(condition, Always):
        value = condition.value
        return lambda facts: value
    if isinstance(condition, AllOf) and all(isinstance(term, Compare) for term in condition.terms):
        checks = tuple((term.fact, _OPS[term.op], term.value) for term in condition.terms)

        def all_compare(facts: Mapping[str, Any]) -> bool:
            for name, compare, value in checks:
                actual = facts.get(name)
                if actual is None or not compare(actual, value):
                    return False
            return True

        return all_compare
    terms = tuple(compile_condition(term) for term in condition.terms)
    if isinstance(condition, AllOf):
        if len(terms) == 2:
            first, second = terms
            return lambda facts: first(facts) and second(facts)
        return lambda facts: all(term(facts) for term in terms)
    if len(terms) == 2:
        first, second = terms
        return lambda facts: first(facts) or second(facts)
    return lambda facts: any(term(facts) for term in terms)


@data_class(frozen=True)
class AtomTrace(Data):
    """One comparison of a rule, the value it saw, and whether it held."""

    test: str
    fact: str
    value: Any
    result: bool


@data_class(frozen=True)
class RuleTrace(Data):
    """One rule's verdict and the comparisons that decided it."""

    rule: CompiledRule
    matched: bool
    atoms: list[AtomTrace]


def trace_rule(rule: CompiledRule, facts: Mapping[str, Any]) -> RuleTrace:
    """Evaluate one rule and keep every comparison's value and result."""
    traced = [
        AtomTrace(to_text(atom), atom.fact, facts.get(atom.fact), holds(atom, facts)) for atom in atoms(rule.condition)
    ]
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
        self._stages = {
            stage: [(compile_condition(rule.condition), rule) for rule in rules]
            for stage, rules in rulebook.rules.items()
        }

    def run(self, facts: Mapping[str, Any]) -> Outcome:
        """Phase (first match by priority), then flags (all matches), then checklist (all matches)."""
        stages = self._stages
        seen = dict(facts)  # one working copy that each stage adds its conclusion to
        seen["flags"] = None
        phase_matches = [rule for test, rule in stages["phase"] if test(seen)]
        winner = phase_matches[0] if phase_matches else None
        seen["phase"] = winner.conclusion if winner else None
        flag_rules = [rule for test, rule in stages["flag"] if test(seen)]
        seen["flags"] = list(dict.fromkeys(rule.conclusion for rule in flag_rules))
        checklist_rules = [rule for test, rule in stages["checklist"] if test(seen)]
        return Outcome(winner, [rule.id for rule in phase_matches], flag_rules, checklist_rules)

    def explain(self, facts: Mapping[str, Any], outcome: Outcome) -> list[RuleTrace]:
        """The trace of every rule, each stage seeing what the earlier stages concluded."""
        phase = outcome.phase_rule.conclusion if outcome.phase_rule else None
        flags = list(dict.fromkeys(rule.conclusion for rule in outcome.flag_rules))
        seen = {"phase": facts, "flag": stage_facts(facts, phase), "checklist": stage_facts(facts, phase, flags)}
        return [trace_rule(rule, seen[rule.stage]) for rule in self.rulebook.all_rules()]
