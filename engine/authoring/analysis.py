"""Static analysis of conditions: contradictions, and rules that can never win.

Conditions are expanded into disjunctive normal form (an `or` of `and`s of comparisons) and each
conjunction is read as a set of bounds per fact. That answers two questions soundly for the
comparisons the language has:
- `satisfiable(conjunct)`: can some record meet all of it? (`level > 3 and level < 2` cannot);
- `implies(narrow, wide)`: does every record meeting `narrow` also meet `wide`?
A phase rule whose every satisfiable conjunct implies a conjunct of a higher-priority rule is
shadowed: it can never win. The analysis never claims a shadow or a contradiction that is not
there; it may miss one that takes several rules together to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..expr import Compare, Condition, Contains, FactSpec, Known
from ..normal_form import MAX_CONJUNCTS, Bounds, dnf  # noqa: F401 - MAX_CONJUNCTS re-exported for validate


def _bounds(conjunct: tuple, specs: Mapping[str, FactSpec]) -> dict[str, Bounds]:
    grouped: dict[str, list] = {}
    for atom in conjunct:
        grouped.setdefault(atom.fact, []).append(atom)
    return {name: Bounds.of(atoms, specs.get(name)) for name, atoms in grouped.items()}


def _is_integer(spec: FactSpec | None) -> bool:
    return spec is not None and spec.type == "integer"


def _feasible(bounds: Bounds, spec: FactSpec | None) -> bool:
    if bounds.known == "conflict" or bounds.members & bounds.non_members:
        return False
    if len(bounds.equal) > 1 or bounds.equal & bounds.unequal:
        return False
    if bounds.equal:
        (value,) = bounds.equal
        return not isinstance(value, (int, float)) or isinstance(value, bool) or _inside(value, bounds)
    if bounds.low == -math.inf and bounds.high == math.inf:
        return True
    if _is_integer(spec):
        low = (
            bounds.low
            if bounds.low == -math.inf
            else (math.floor(bounds.low) + 1 if bounds.low_open else math.ceil(bounds.low))
        )
        high = (
            bounds.high
            if bounds.high == math.inf
            else (math.ceil(bounds.high) - 1 if bounds.high_open else math.floor(bounds.high))
        )
        return low <= high and not (low == high and low in bounds.unequal)
    if bounds.low < bounds.high:
        return True
    return bounds.low == bounds.high and not (bounds.low_open or bounds.high_open) and bounds.low not in bounds.unequal


def _inside(value: float, bounds: Bounds) -> bool:
    above = value > bounds.low or (value == bounds.low and not bounds.low_open)
    below = value < bounds.high or (value == bounds.high and not bounds.high_open)
    return above and below


def satisfiable(conjunct: tuple, specs: Mapping[str, FactSpec]) -> bool:
    """Whether some record can meet every comparison of the conjunction."""
    return all(_feasible(bounds, specs.get(name)) for name, bounds in _bounds(conjunct, specs).items())


def implies(narrow: tuple, wide: tuple, specs: Mapping[str, FactSpec]) -> bool:
    """Whether every record meeting `narrow` also meets `wide` (both conjunctions)."""
    table = _bounds(narrow, specs)
    return all(_atom_implied(atom, table.get(atom.fact), specs.get(atom.fact)) for atom in wide)


def _atom_implied(atom: Compare | Contains | Known, bounds: Bounds | None, spec: FactSpec | None) -> bool:
    if bounds is None:
        return False
    if isinstance(atom, Known):
        return bounds.known is atom.positive
    if isinstance(atom, Contains):
        return atom.value in (bounds.members if atom.positive else bounds.non_members)
    if bounds.known is not True:
        return False
    value = atom.value
    if bounds.equal:
        (fixed,) = bounds.equal
        return _holds(fixed, atom.op, value)
    if atom.op == "==":
        return False
    if atom.op == "!=":
        return value in bounds.unequal or not _inside(value, bounds)
    if atom.op in (">", ">="):
        return bounds.low > value or (bounds.low == value and (bounds.low_open or atom.op == ">="))
    return bounds.high < value or (bounds.high == value and (bounds.high_open or atom.op == "<="))


def _holds(left: Any, op: str, right: Any) -> bool:
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def never_true(condition: Condition, specs: Mapping[str, FactSpec]) -> bool:
    """Whether no record can ever meet the condition (every conjunct contradicts itself)."""
    conjuncts = dnf(condition)
    return conjuncts is not None and not any(satisfiable(conjunct, specs) for conjunct in conjuncts)


def shadowed_by(rule_condition: Condition, earlier: list[Condition], specs: Mapping[str, FactSpec]) -> bool:
    """Whether every way to meet `rule_condition` also meets one of the `earlier` conditions."""
    mine = dnf(rule_condition)
    if mine is None:
        return False
    theirs = [conjunct for condition in earlier for conjunct in (dnf(condition) or [])]
    live = [conjunct for conjunct in mine if satisfiable(conjunct, specs)]
    return bool(live) and all(any(implies(conjunct, other, specs) for other in theirs) for conjunct in live)
