"""The durable_rules executor: the compiled rulebook as one Rete ruleset, forward-chained.

Each evaluation asserts the record's facts as a `phase`-stage fact in a fresh session. Phase rules
fire in priority order (durable's `pri`, lower first) and record their matches; a sentinel rule
after them asserts the `flag`-stage fact carrying the winning phase; after the flag rules a second
sentinel asserts the `checklist`-stage fact carrying the flags. A catch-all rule at the lowest
priority makes sure every fact matches something.

durable_rules has sharp edges, handled here:
- its `Host` starts background threads that dispatch (and so steal) actions: we use a subclass
  that starts none, so every action runs inside `assert_fact`, in the calling thread;
- a fact that no rule matches raises, and `delete_state` then crashes: hence the catch-all;
- sessions are keyed by a hashed id and limited in number: one fresh id per evaluation, deleted
  right after;
- exceptions inside actions are swallowed into the session state: we read the state and raise;
- floats in exponent notation, dates and nulls are not accepted: facts are normalised first
  (rounded numbers; unknown values left out, with a `<fact>__known` flag; list membership tests
  turned into booleans).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import durable.engine as durable_engine
import durable_rules_engine

from ..expr import AllOf, Always, AnyOf, Compare, Condition, Contains, Known, atoms
from .outcome import ExecutorClosed, Outcome

if TYPE_CHECKING:
    from ..rulebook import CompiledRule, Rulebook

_DURABLE_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}
_NEVER = "__never__"
_LAST_PRIORITY = 65535
_rulesets = itertools.count(1)


class EngineFailure(RuntimeError):
    """durable_rules reported an error while evaluating."""


class _QuietHost(durable_engine.Host):
    """A durable_rules host that starts no background dispatch threads."""

    def _run(self) -> None:
        return None


class DurableExecutor:
    """Runs a rulebook on durable_rules; thread-safe (evaluations are serialised)."""

    name = "durable"

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        self._lock = threading.Lock()
        self._sessions = itertools.count(1)
        self._runs: dict[str, dict] = {}
        self._membership = self._membership_keys(rulebook)
        self._nullable = [name for name, spec in rulebook.facts.items() if spec.nullable]
        self._by_id = {rule.id: rule for rule in rulebook.all_rules()}
        self._ruleset = f"bip_{rulebook.content_hash[:12]}_{next(_rulesets)}"
        self._host: _QuietHost | None = _QuietHost({self._ruleset: self._definition()})  # None once closed

    def close(self) -> None:
        """Delete the ruleset from durable_rules (after a reload); later runs raise `ExecutorClosed`."""
        with self._lock:
            if self._host is not None:
                durable_rules_engine.delete_ruleset(self._host.get_ruleset(self._ruleset)._handle)
                self._host = None

    @staticmethod
    def _membership_keys(rulebook: Rulebook) -> dict[tuple[str, str], str]:
        keys: dict[tuple[str, str], str] = {}
        for rule in rulebook.all_rules():
            for atom in atoms(rule.condition):
                if isinstance(atom, Contains) and (atom.fact, atom.value) not in keys:
                    keys[(atom.fact, atom.value)] = f"{atom.fact}__has__{len(keys)}"
        return keys

    def _condition(self, condition: Condition) -> dict:
        if isinstance(condition, Compare):
            value = _number(condition.value)
            if condition.op == "==":
                return {condition.fact: value}
            return {_DURABLE_OPS[condition.op]: {condition.fact: value}}
        if isinstance(condition, Contains):
            return {self._membership[(condition.fact, condition.value)]: condition.positive}
        if isinstance(condition, Known):
            return {f"{condition.fact}__known": condition.positive}
        if isinstance(condition, AllOf):
            return {"$and": [self._condition(term) for term in condition.terms]}
        if isinstance(condition, AnyOf):
            return {"$or": [self._condition(term) for term in condition.terms]}
        if isinstance(condition, Always):
            return {"stage": {"$mt": ".*"}} if condition.value else {_NEVER: True}
        raise TypeError(f"not a condition: {condition!r}")

    def _definition(self) -> dict:
        definition: dict[str, dict] = {}
        priority = itertools.count(1)
        for stage, next_stage in (("phase", "flag"), ("flag", "checklist"), ("checklist", None)):
            for rule in self.rulebook.rules[stage]:
                definition[rule.id] = {
                    "all": [{"m": {"$and": [{"stage": stage}, self._condition(rule.condition)]}}],
                    "pri": next(priority),
                    "run": self._on_match(rule),
                }
            if next_stage:
                definition[f"__after_{stage}"] = {
                    "all": [{"m": {"stage": stage}}],
                    "pri": next(priority),
                    "run": self._advance(next_stage),
                }
        definition["__catch_all"] = {
            "all": [{"m": {"$mt": {"stage": ".*"}}}],
            "pri": _LAST_PRIORITY,
            "run": lambda c: None,
        }
        return definition

    def _on_match(self, rule: CompiledRule) -> Callable[[Any], None]:
        def action(c: Any) -> None:  # c: the durable_rules closure
            matched = self._runs[c.s.sid]["matched"][rule.stage]
            if rule.id not in matched:  # an `or` fires once for each branch that holds
                matched.append(rule.id)

        return action

    def _advance(self, next_stage: str) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            run = self._runs[c.s.sid]
            facts = dict(run["facts"])
            phases = run["matched"]["phase"]
            phase = self._by_id[phases[0]].conclusion if phases else None
            flags = list(dict.fromkeys(self._by_id[rid].conclusion for rid in run["matched"]["flag"]))
            facts["phase"] = phase
            if next_stage == "checklist":
                facts["flags"] = flags
            fact = self._normalise(facts)
            fact["stage"] = next_stage
            c.assert_fact(fact)

        return action

    def _normalise(self, facts: Mapping[str, Any]) -> dict:
        """Facts in a form durable_rules accepts: no nulls, lists or exponent floats."""
        plain: dict[str, Any] = {}
        for name, value in facts.items():
            if value is None or isinstance(value, (list, tuple)):
                continue
            plain[name] = _number(value)
        for name in self._nullable:
            plain[f"{name}__known"] = facts.get(name) is not None
        for (name, item), key in self._membership.items():
            plain[key] = item in (facts.get(name) or ())
        return plain

    def run(self, facts: Mapping[str, Any]) -> Outcome:
        """Evaluate one record's facts in a fresh session, deleted afterwards."""
        with self._lock:
            if self._host is None:
                raise ExecutorClosed("the rulebook was reloaded; evaluate again")
            sid = str(next(self._sessions))
            self._runs[sid] = {"facts": facts, "matched": {"phase": [], "flag": [], "checklist": []}}
            fact = self._normalise(facts)
            fact.update(sid=sid, stage="phase")
            try:
                self._host.assert_fact(self._ruleset, fact)
                state = self._host.get_state(self._ruleset, sid)
                if "exception" in state:
                    raise EngineFailure(f"a rule action failed inside durable_rules: {state['exception']}")
            finally:
                self._host.delete_state(self._ruleset, sid)
                matched = self._runs.pop(sid)["matched"]
        rules = {stage: [self._by_id[rid] for rid in ids] for stage, ids in matched.items()}
        ordered = sorted(rules["phase"], key=lambda rule: rule.rank)
        return Outcome(
            ordered[0] if ordered else None,
            [rule.id for rule in ordered],
            sorted(rules["flag"], key=lambda rule: rule.rank),
            sorted(rules["checklist"], key=lambda rule: rule.rank),
        )


def _number(value: Any) -> Any:
    """Round floats so that JSON never writes them in exponent notation."""
    if isinstance(value, float):
        rounded = round(value, 4)
        return 0.0 if rounded == 0 else rounded
    return value


__all__ = ["DurableExecutor", "EngineFailure", "ExecutorClosed"]
