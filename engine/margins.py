"""What would change the phase: the distance from the current facts to the phase rules' boundaries.

Everything here is worked out from the parsed conditions (`bip_engine.expr`), never written per rule.
Each condition is read in disjunctive normal form; a conjunction says, per fact, which values it
allows. Three kinds of margin are produced, each with the facts that would have to move, the value
they would have to reach, and the phase the rules then really give (the phase rules are re-run on
the changed facts, so a margin never promises a phase the rules would not give):

- `decides`: for each comparison of the deciding rule, the nearest value at which it stops holding;
- `above`/`below`: for every other phase, its rule that is cheapest to reach (fewest facts to move,
  then the shortest distance relative to each fact's range), with the changes that make it match.
  A rule below the deciding one also needs the rules above it to stop matching; the changes then
  include the cheapest such flip on a fact the rule itself does not read.

Facts are moved one by one, as if independent; in a real record they move together (the change
over two intervals follows the change over one), so a margin is a distance, not a forecast.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .executors.python_exec import compile_condition, holds
from .expr import INVERSE, Compare, Contains, FactSpec, Known
from .normal_form import Bounds, dnf
from .report import FactChange, PhaseMargin

if TYPE_CHECKING:
    from .rulebook import CompiledRule, Rulebook

STEP = 0.01  # how far past an open bound a number fact is moved ("above 0.4" -> 0.41)
_NO = object()


class _Change(NamedTuple):
    """A candidate change of one fact, the fields of `FactChange`; a model is made only for those kept."""

    fact: str
    type: str
    value: Any
    operator: str
    threshold: Any
    target: Any
    distance: float | None


def negate(atom: Compare | Contains | Known) -> Compare | Contains | Known:
    """The comparison that holds exactly when `atom` does not (for a known value)."""
    if isinstance(atom, Compare):
        return Compare(atom.fact, INVERSE[atom.op], atom.value)
    if isinstance(atom, Contains):
        return Contains(atom.fact, atom.value, not atom.positive)
    return Known(atom.fact, not atom.positive)


def solve(atoms: list, current: Any, spec: FactSpec | None) -> Any:
    """The value nearest to `current` that meets every comparison in `atoms` (all on one fact), or `_NO`."""
    allowed = Bounds.of(atoms, spec)
    if allowed.known == "conflict":
        return _NO
    if allowed.known is False:
        return None
    kind = spec.type if spec else "number"
    if kind in ("number", "integer"):
        value = _solve_number(allowed, current, kind == "integer")
    elif kind == "boolean":
        value = _solve_choice(allowed, current, (True, False))
    elif kind == "text":
        value = _solve_choice(allowed, current, (spec.values if spec else None) or ())
    else:
        if set(allowed.members) & set(allowed.non_members):
            return _NO
        items = [item for item in (current or []) if item not in allowed.non_members]
        value = items + sorted(set(allowed.members) - set(items))
    if value is _NO or not all(holds(atom, {atom.fact: value}) for atom in atoms):
        return _NO
    return value


def _solve_choice(allowed: Bounds, current: Any, choices: Collection[Any]) -> Any:
    if allowed.equal:
        return next(iter(allowed.equal))
    for value in (current, *choices):
        if value is not None and value not in allowed.unequal:
            return value
    return _NO


def _solve_number(allowed: Bounds, current: Any, integer: bool) -> Any:
    if allowed.equal:
        return next(iter(allowed.equal))
    step = 1 if integer else STEP
    low, high = allowed.low, allowed.high  # within the fact's own range (`Bounds.of`)
    if integer:
        low = low if low == -math.inf else (math.floor(low) + 1 if allowed.low_open else math.ceil(low))
        high = high if high == math.inf else (math.ceil(high) - 1 if allowed.high_open else math.floor(high))
    else:
        low = low + STEP if allowed.low_open else low
        high = high - STEP if allowed.high_open else high
    if low > high:
        return _NO
    value = current if current is not None else 0
    value = round(min(max(value, low), high), 4)
    if integer:
        value = int(value)
    for candidate in (value, value + step, value - step):
        if low <= candidate <= high and candidate not in allowed.unequal:
            return round(candidate, 4) if not integer else candidate
    return _NO


def _by_fact(conjunct: tuple) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for atom in conjunct:
        grouped.setdefault(atom.fact, []).append(atom)
    return grouped


def _describe(atom: Compare | Contains | Known) -> tuple[str, Any]:
    if isinstance(atom, Compare):
        return atom.op, atom.value
    if isinstance(atom, Contains):
        return ("contains" if atom.positive else "lacks"), atom.value
    return ("known" if atom.positive else "unknown"), None


def _change(fact: str, atoms: list, current: Any, target: Any, spec: FactSpec | None) -> _Change:
    failing = next((atom for atom in atoms if not holds(atom, {fact: current})), atoms[0])
    operator, threshold = _describe(failing)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (current, target))
    return _Change(
        fact,
        spec.type if spec else "number",
        current,
        operator,
        threshold,
        target,
        round(target - current, 4) if numeric else None,
    )


def _effort(changes: list[_Change], specs: Mapping[str, FactSpec]) -> tuple[int, float]:
    total = 0.0
    for change in changes:
        spec = specs.get(change.fact)
        if change.value is None:
            total += 2  # an unknown value needs more data, not a small move
        elif change.distance is None:
            total += 1
        else:
            span = (
                (spec.maximum - spec.minimum) if spec and spec.minimum is not None and spec.maximum is not None else 1
            )
            total += abs(change.distance) / (span or 1)
    return len(changes), round(total, 6)


class _Plan:
    """What the margins need of a rulebook's phase rules, worked out once: each rule's condition as
    a Python function (`compile_condition`) and in disjunctive normal form."""

    def __init__(self, rules: list[CompiledRule]):
        self.tested = [(rule, compile_condition(rule.condition)) for rule in rules]
        self.reads = tuple(dict.fromkeys(name for rule in rules for name in rule.facts))
        self.tests = {rule.id: test for rule, test in self.tested}
        self.conjuncts = {rule.id: dnf(rule.condition) or [] for rule in rules}
        self._negations: dict[Any, Any] = {}

    def negated(self, atom: Compare | Contains | Known) -> Compare | Contains | Known:
        """`negate(atom)`, made once per atom of these rules."""
        opposite = self._negations.get(atom)
        if opposite is None:
            opposite = self._negations[atom] = negate(atom)
        return opposite


_PLANS: dict[int, tuple[list, _Plan]] = {}
_PLANS_KEPT = 32  # rulebooks in use at once: one, and a few dated views and reloads


def _plan(rules: list[CompiledRule]) -> _Plan:
    entry = _PLANS.get(id(rules))
    if entry is not None and entry[0] is rules:  # the list is kept with its plan, so its id is not reused
        return entry[1]
    if len(_PLANS) >= _PLANS_KEPT:
        _PLANS.clear()
    plan = _Plan(rules)
    _PLANS[id(rules)] = (rules, plan)
    return plan


class _Rules:
    """The phase rules of a rulebook, in priority order, with a way to decide the phase."""

    def __init__(self, rulebook: Rulebook):
        self.rules = rulebook.rules["phase"]
        self.specs = rulebook.facts
        self.plan = _plan(self.rules)

    def decide(self, facts: Mapping[str, Any]) -> CompiledRule | None:
        return next((rule for rule, test in self.plan.tested if test(facts)), None)

    def reach(self, conjunct: tuple, facts: Mapping[str, Any]) -> list[_Change] | None:
        """The changes that make every comparison of `conjunct` hold, or None when none can."""
        changes = []
        for fact, atoms in _by_fact(conjunct).items():
            current = facts.get(fact)
            if all(holds(atom, facts) for atom in atoms):
                continue
            target = solve(atoms, current, self.specs.get(fact))
            if target is _NO:
                return None
            changes.append(_change(fact, atoms, current, target, self.specs.get(fact)))
        return changes

    def flips(self, rule: CompiledRule, facts: Mapping[str, Any], keep: Collection[str] = ()) -> list[_Change]:
        """Single-fact changes that each stop `rule` matching in its first satisfied conjunction."""
        conjuncts = self.plan.conjuncts[rule.id]
        live = next((c for c in conjuncts if all(holds(atom, facts) for atom in c)), None)
        if live is None:
            return []
        changes = []
        for atom in live:
            if atom.fact in keep:
                continue
            current = facts.get(atom.fact)
            opposite = [self.plan.negated(atom)]
            target = solve(opposite, current, self.specs.get(atom.fact))
            if target is _NO:
                continue
            changed = {**facts, atom.fact: target}
            if not self.plan.tests[rule.id](changed):
                changes.append(_change(atom.fact, opposite, current, target, self.specs.get(atom.fact)))
        return changes


def _applied(facts: Mapping[str, Any], changes: list[_Change]) -> dict[str, Any]:
    return {**facts, **{change.fact: change.target for change in changes}}


def _margin(
    rules: _Rules,
    rule: CompiledRule,
    position: Literal["decides", "above", "below"],
    matched: bool,
    changes: list[_Change],
    facts: Mapping[str, Any],
    labels: Mapping[str, str],
) -> PhaseMargin:
    result = rules.decide(_applied(facts, changes))
    return PhaseMargin(
        rule=rule.id,
        phase=rule.conclusion,
        matched=matched,
        position=position,
        changes=[FactChange(**change._asdict()) for change in changes],
        result_phase=result.conclusion if result else None,
        result_label=labels.get(result.conclusion) if result else None,
        result_rule=result.id if result else None,
        text="",
    )


def phase_margins(
    rulebook: Rulebook,
    facts: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    day: dt.date | None = None,
) -> list[PhaseMargin]:
    """The margins of the phase for these facts (texts left empty; the report fills them in).

    `rulebook` must be the rules in force (an evaluation's `rulebook`), or give `day` to pick them.
    """
    if day is not None:
        rulebook = rulebook.at(day)
    rules = _Rules(rulebook)
    labels = labels or {}
    facts = {name: facts.get(name) for name in rules.plan.reads}  # all the phase rules read (cheap to copy)
    winner = rules.decide(facts)
    margins: list[PhaseMargin] = []
    if winner is not None:
        for change in rules.flips(winner, facts):
            margin = _margin(rules, winner, "decides", True, [change], facts, labels)
            if margin.result_rule != winner.id:
                margins.append(margin)
    for phase in rulebook.phases:
        if winner is not None and phase == winner.conclusion:
            continue
        best = _nearest(rules, phase, winner, facts)
        if best is None:
            continue
        rule, changes = best
        position: Literal["above", "below"] = "above" if winner is None or rule.rank < winner.rank else "below"
        margin = _margin(rules, rule, position, holds(rule.condition, facts), changes, facts, labels)
        if not any(other.changes == margin.changes and other.result_rule == margin.result_rule for other in margins):
            margins.append(margin)
    return margins


def _nearest(
    rules: _Rules, phase: str, winner: CompiledRule | None, facts: Mapping[str, Any]
) -> tuple[CompiledRule, list[_Change]] | None:
    """The rule of `phase` that is cheapest to make decide, with the changes that do it."""
    best, best_key = None, None
    for rule in rules.rules:
        if rule.conclusion != phase:
            continue
        for conjunct in rules.plan.conjuncts[rule.id]:
            changes = rules.reach(conjunct, facts)
            if changes is None:
                continue
            changes = _clear_blockers(rules, rule, conjunct, changes, facts)
            if changes is None:
                continue
            key = (*_effort(changes, rules.specs), rule.rank)
            if best_key is None or key < best_key:
                best, best_key = (rule, changes), key
    return best


def _clear_blockers(
    rules: _Rules, rule: CompiledRule, conjunct: tuple, changes: list[_Change], facts: Mapping[str, Any]
) -> list[_Change] | None:
    """Add the cheapest flips that stop higher-priority rules matching, without touching `conjunct`'s facts."""
    keep = {atom.fact for atom in conjunct}
    for _ in range(len(rules.rules)):
        changed = _applied(facts, changes)
        blocker = rules.decide(changed)
        if blocker is None or blocker.rank >= rule.rank:
            return changes
        options = rules.flips(blocker, changed, keep)
        if not options:
            return None
        cheapest = min(options, key=lambda change: _effort([change], rules.specs))
        original = facts.get(cheapest.fact)
        changes = [
            *changes,
            cheapest._replace(
                value=original,
                distance=round(cheapest.target - original, 4)
                if cheapest.distance is not None and isinstance(original, (int, float))
                else None,
            ),
        ]
        keep.add(cheapest.fact)
    return None
