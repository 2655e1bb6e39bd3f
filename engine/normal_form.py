"""Conditions in disjunctive normal form: an `or` of `and`s of comparisons.

Both the static analysis of rulebooks (`engine.authoring.analysis`) and the phase margins
(`engine.margins`) read a condition as a list of conjunctions; this is the one place that builds it.
"""

from __future__ import annotations

from .expr import AllOf, Always, AnyOf, Condition

MAX_CONJUNCTS = 512


def dnf(condition: Condition) -> list[tuple] | None:
    """The condition as a list of conjunctions (tuples of atoms); None when it grows too large."""
    if isinstance(condition, Always):
        return [()] if condition.value else []
    if isinstance(condition, AnyOf):
        result: list[tuple] = []
        for term in condition.terms:
            part = dnf(term)
            if part is None:
                return None
            result.extend(part)
        return result if len(result) <= MAX_CONJUNCTS else None
    if isinstance(condition, AllOf):
        result = [()]
        for term in condition.terms:
            part = dnf(term)
            if part is None:
                return None
            result = [left + right for left in result for right in part]
            if len(result) > MAX_CONJUNCTS:
                return None
        return result
    return [(condition,)]
