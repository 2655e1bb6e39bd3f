"""Conditions in disjunctive normal form (an `or` of `and`s of comparisons), and what a conjunction
says about one fact (`Bounds`).

Both the static analysis of rulebooks (`bip_engine.authoring.analysis`) and the phase margins
(`bip_engine.margins`) read a condition as a list of conjunctions and each conjunction as bounds per
fact; this is the one place that builds both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import field
from typing import Literal

from .expr import AllOf, Always, AnyOf, Compare, Condition, Contains, FactSpec, Known
from .models import Data, data_class


@data_class()
class Bounds(Data):
    """What the comparisons of a conjunction on one fact allow: an interval (from the fact's own
    range and `<`, `<=`, `>`, `>=`), values it must and must not equal, items it must and must not
    contain, and whether the value must be known."""

    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    high_open: bool = False
    equal: set = field(default_factory=set)
    unequal: set = field(default_factory=set)
    members: set = field(default_factory=set)
    non_members: set = field(default_factory=set)
    known: bool | Literal["conflict"] | None = None  # None: nothing said; "conflict": said both ways

    @classmethod
    def of(cls, atoms: Iterable[Compare | Contains | Known], spec: FactSpec | None = None) -> Bounds:
        """The bounds of `atoms` (all on one fact), within the range `spec` gives a number."""
        bounds = cls()
        if spec is not None and spec.type in ("number", "integer"):
            if spec.minimum is not None:
                bounds.low = spec.minimum
            if spec.maximum is not None:
                bounds.high = spec.maximum
        for atom in atoms:
            bounds.add(atom)
        return bounds

    def add(self, atom: Compare | Contains | Known) -> None:
        """Narrow the bounds by one more comparison. A comparison, or `contains`, needs a known value."""
        if isinstance(atom, Known):
            self._require_known(atom.positive)
        elif isinstance(atom, Contains):
            (self.members if atom.positive else self.non_members).add(atom.value)
            if atom.positive:  # `lacks` also holds for an unknown value
                self._require_known(True)
        else:
            self._require_known(True)
            if atom.op == "==":
                self.equal.add(atom.value)
            elif atom.op == "!=":
                self.unequal.add(atom.value)
            elif atom.op in (">", ">="):
                self.narrow_low(atom.value, atom.op == ">")
            else:
                self.narrow_high(atom.value, atom.op == "<")

    def _require_known(self, known: bool) -> None:
        self.known = known if self.known in (None, known) else "conflict"

    def narrow_low(self, value: float, open_: bool) -> None:
        """Raise the lower end to `value` (excluded when `open_`) if that is narrower."""
        if value > self.low or (value == self.low and open_):
            self.low, self.low_open = value, open_

    def narrow_high(self, value: float, open_: bool) -> None:
        """Lower the upper end to `value` (excluded when `open_`) if that is narrower."""
        if value < self.high or (value == self.high and open_):
            self.high, self.high_open = value, open_


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
