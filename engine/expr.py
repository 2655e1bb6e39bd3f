"""The condition language of rule files, and its intermediate form.

Conditions are written for policy staff in a small, familiar syntax::

    level <= 1.8 or change <= -1.0
    job_oriented_active and not "social" in active_types
    phase in ["standstill", "regress"] and caseworker_changes_6m >= 1
    change_prev is not none

Python's own parser reads the text (`ast.parse`, never `eval`), and only a handful of node kinds
are accepted: `and`, `or`, `not`, comparisons, `in`, `is none`, facts by name and literal values.
A named parameter (`parameters.yaml`) may stand where a value stands (`change <= regress_threshold`);
it is type-checked against every value it takes over time and stays a `Param` in the intermediate
form until `bind` puts in the value in force on the rules date.
The result is checked against the fact catalogue (unknown facts get a "did you mean", values of
the wrong type or outside a fact's range are refused) and turned into the intermediate form below.

The intermediate form is in negation normal form: `not` is pushed down to the comparisons, so an
executor never needs a logical NOT. A comparison with an unknown fact (a fact whose value is
`none`, such as `change` with one measurement) is false, also after `not`: `not change >= 0.4`
means `change < 0.4`, which is false while the change is unknown. Write `change is none` to ask
for that case.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ORDER_OPS = {"<", "<=", ">", ">="}
INVERSE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_AST_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BOOL_NAMES = {"true": True, "True": True, "false": False, "False": False}
_NONE_NAMES = {"none", "None", "null"}


@dataclass(frozen=True)
class FactSpec:
    """What the language needs to know about one fact: its type, range and allowed values."""

    name: str
    type: str  # "number" | "integer" | "boolean" | "text" | "list"
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] | None = None  # allowed text values, or list items
    nullable: bool = False
    stage: str = "facts"  # "facts", or the stage whose result it is ("phase", "flag")


@dataclass(frozen=True)
class Param:
    """A named parameter standing for a value; `bind` replaces it by the value in force."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Compare:
    """`fact op value`: false when the fact is unknown."""

    fact: str
    op: str
    value: Any


@dataclass(frozen=True)
class Contains:
    """`value in fact` for a list fact (or its negation when `positive` is false)."""

    fact: str
    value: str
    positive: bool = True


@dataclass(frozen=True)
class Known:
    """`fact is not none` (or `fact is none` when `positive` is false)."""

    fact: str
    positive: bool = True


@dataclass(frozen=True)
class AllOf:
    """Every term holds."""

    terms: tuple


@dataclass(frozen=True)
class AnyOf:
    """At least one term holds."""

    terms: tuple


@dataclass(frozen=True)
class Always:
    """A constant condition (`true` or `false`)."""

    value: bool


Condition = Compare | Contains | Known | AllOf | AnyOf | Always


class ExpressionError(ValueError):
    """A condition that cannot be parsed or does not fit the facts; `column` is 1-based."""

    def __init__(self, message: str, column: int | None = None, code: str = "E101"):
        self.message, self.column, self.code = message, column, code
        super().__init__(message)


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix for the closest candidate, or an empty string."""
    close = closest(name, candidates)
    return f" (did you mean '{close}'?)" if close else ""


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `name`, if one is close enough (for a message's `hint_name`)."""
    import difflib  # here, not at the top: only a message needs it, and a cold check makes none

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def parse_condition(text: str, facts: Mapping[str, FactSpec], params: Mapping[str, tuple] | None = None) -> Condition:
    """Parse and type-check a condition; raise `ExpressionError` naming the column at fault.

    `params` names the parameters a condition may use, each with every value it takes over time.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the condition is empty", code="E100")
    source = " ".join(text.split())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        hint = " (use == to compare)" if "=" in source and "==" not in source else ""
        raise ExpressionError(f"cannot read the condition: {exc.msg}{hint}", exc.offset, "E100") from None
    return _Builder(facts, params or {}).build(tree.body, negate=False)


class _Builder:
    def __init__(self, facts: Mapping[str, FactSpec], params: Mapping[str, tuple]):
        self.facts, self.params = facts, params

    def build(self, node: ast.AST, negate: bool) -> Condition:
        if isinstance(node, ast.BoolOp):
            terms = tuple(self.build(value, negate) for value in node.values)
            is_and = isinstance(node.op, ast.And) != negate
            return AllOf(terms) if is_and else AnyOf(terms)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.build(node.operand, not negate)
        if isinstance(node, ast.Compare):
            pairs = zip([node.left, *node.comparators[:-1]], node.ops, node.comparators, strict=True)
            terms = tuple(self.comparison(left, op, right, negate) for left, op, right in pairs)
            if len(terms) == 1:
                return terms[0]
            return AnyOf(terms) if negate else AllOf(terms)
        if isinstance(node, ast.Name):
            if node.id in _BOOL_NAMES:
                return Always(_BOOL_NAMES[node.id] != negate)
            spec = self.fact(node)
            if spec.type != "boolean":
                raise ExpressionError(
                    f"'{spec.name}' is a {spec.type}, not true or false; compare it with a value",
                    self.col(node),
                    "E103",
                )
            return Compare(spec.name, "==", not negate)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return Always(node.value != negate)
        raise ExpressionError(f"'{ast.unparse(node)}' is not a condition", self.col(node), "E100")

    def comparison(self, left: ast.AST, op: ast.cmpop, right: ast.AST, negate: bool) -> Condition:
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(left, right, positive=isinstance(op, ast.NotIn) == negate)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not self.is_none(right):
                raise ExpressionError("'is' may only be used as 'is none' or 'is not none'", self.col(right), "E100")
            spec = self.fact(left)
            return Known(spec.name, positive=isinstance(op, ast.IsNot) != negate)
        symbol = _AST_OPS[type(op)]
        if self.is_fact(right) and not self.is_fact(left):
            left, right, symbol = right, left, MIRROR[symbol]
        if not self.is_fact(left):
            raise ExpressionError(f"'{ast.unparse(left)}' is not a fact", self.col(left), "E102")
        if self.is_fact(right):
            self.fact(right)  # an unknown name: "unknown fact ... (did you mean ...)"
            raise ExpressionError("compare a fact with a value, not with another fact", self.col(right), "E103")
        spec = self.fact(left)
        value = self.literal(right)
        self.check_value(spec, symbol, value, right)
        return Compare(spec.name, INVERSE[symbol] if negate else symbol, value)

    def membership(self, left: ast.AST, right: ast.AST, positive: bool) -> Condition:
        if self.is_fact(right):
            spec = self.fact(right)
            if spec.type != "list":
                raise ExpressionError(
                    f"'{spec.name}' is a {spec.type}, not a list; use == to compare", self.col(right), "E103"
                )
            value = self.literal(left)
            for each in self.candidates(value):
                if not isinstance(each, str):
                    raise ExpressionError(
                        f"'{spec.name}' holds text; write the value in quotes", self.col(left), "E103"
                    )
                self.check_domain(spec, each, left)
            return Contains(spec.name, value, positive)
        spec = self.fact(left)
        if not isinstance(right, (ast.List, ast.Tuple, ast.Set)) or not right.elts:
            raise ExpressionError("after 'in' give a list of values in [ ], or a list fact", self.col(right), "E103")
        terms = []
        for element in right.elts:
            value = self.literal(element)
            self.check_value(spec, "==", value, element)
            terms.append(Compare(spec.name, "==" if positive else "!=", value))
        return AnyOf(tuple(terms)) if positive else AllOf(tuple(terms))

    def candidates(self, value: Any) -> tuple:
        """The values a literal or a parameter can take."""
        return tuple(self.params[value.name]) if isinstance(value, Param) else (value,)

    def check_value(self, spec: FactSpec, op: str, value: Any, node: ast.AST) -> None:
        if isinstance(value, Param):
            for each in self.candidates(value):
                try:
                    self.check_value(spec, op, each, node)
                except ExpressionError as exc:
                    raise ExpressionError(
                        f"parameter '{value.name}' = {each!r}: {exc.message}", exc.column, exc.code
                    ) from None
            return
        where = self.col(node)
        if value is None:
            raise ExpressionError(f"to test for an unknown value write '{spec.name} is none'", where, "E103")
        if spec.type == "list":
            raise ExpressionError(f"'{spec.name}' is a list; test it with \"value\" in {spec.name}", where, "E103")
        if spec.type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExpressionError(f"'{spec.name}' is a number and cannot be compared with {value!r}", where, "E103")
            self.check_range(spec, op, value, where)
            return
        if op in ORDER_OPS:
            raise ExpressionError(f"'{spec.name}' is {spec.type}; only == and != apply to it", where, "E103")
        if spec.type == "boolean" and not isinstance(value, bool):
            raise ExpressionError(
                f"'{spec.name}' is true or false and cannot be compared with {value!r}", where, "E103"
            )
        if spec.type == "text":
            if not isinstance(value, str):
                raise ExpressionError(f"'{spec.name}' is text; write the value in quotes", where, "E103")
            self.check_domain(spec, value, node)

    def check_domain(self, spec: FactSpec, value: str, node: ast.AST) -> None:
        if spec.values is not None and value not in spec.values:
            raise ExpressionError(
                f"'{value}' is not a known value of '{spec.name}'{suggest(value, spec.values)}", self.col(node), "E104"
            )

    @staticmethod
    def check_range(spec: FactSpec, op: str, value: float, where: int | None) -> None:
        low, high = spec.minimum, spec.maximum
        never = (
            (op in (">", ">=") and high is not None and (value > high or (op == ">" and value == high)))
            or (op in ("<", "<=") and low is not None and (value < low or (op == "<" and value == low)))
            or (op == "==" and ((high is not None and value > high) or (low is not None and value < low)))
        )
        if never:
            raise ExpressionError(
                f"'{spec.name} {op} {value}' can never be true: '{spec.name}' lies between "
                f"{_fmt(low)} and {_fmt(high)}",
                where,
                "E105",
            )

    def fact(self, node: ast.AST) -> FactSpec:
        if not isinstance(node, ast.Name) or node.id in _BOOL_NAMES or node.id in _NONE_NAMES:
            raise ExpressionError(f"'{ast.unparse(node)}' is not a fact", self.col(node), "E102")
        spec = self.facts.get(node.id)
        if spec is None:
            if node.id in self.params:
                raise ExpressionError(
                    f"'{node.id}' is a parameter, not a fact; compare a fact with it", self.col(node), "E103"
                )
            raise ExpressionError(
                f"unknown fact '{node.id}'{suggest(node.id, [*self.facts, *self.params])}", self.col(node), "E102"
            )
        return spec

    def is_fact(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Name)
            and node.id not in _BOOL_NAMES
            and node.id not in _NONE_NAMES
            and not (node.id in self.params and node.id not in self.facts)
        )

    @staticmethod
    def is_none(node: ast.AST) -> bool:
        return (isinstance(node, ast.Constant) and node.value is None) or (
            isinstance(node, ast.Name) and node.id in _NONE_NAMES
        )

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
            return node.value
        if isinstance(node, ast.Name) and node.id in _BOOL_NAMES:
            return _BOOL_NAMES[node.id]
        if self.is_none(node):
            return None
        if isinstance(node, ast.Name) and node.id in self.params and node.id not in self.facts:
            return Param(node.id)
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            return -node.operand.value
        raise ExpressionError(f"'{ast.unparse(node)}' is not a plain value", self.col(node), "E100")

    @staticmethod
    def col(node: ast.AST) -> int | None:
        offset = getattr(node, "col_offset", None)
        return offset + 1 if offset is not None else None


def _fmt(number: float | None) -> str:
    return "any value" if number is None else f"{number:g}"


def params_used(condition: Condition) -> list[str]:
    """The parameters a condition reads, in order of first use."""
    seen: dict[str, None] = {}
    for atom in atoms(condition):
        value = getattr(atom, "value", None)
        if isinstance(value, Param):
            seen.setdefault(value.name, None)
    return list(seen)


def bind(condition: Condition, values: Mapping[str, Any]) -> Condition:
    """The condition with every parameter replaced by its value in `values`."""
    if isinstance(condition, (AllOf, AnyOf)):
        return type(condition)(tuple(bind(term, values) for term in condition.terms))
    if isinstance(condition, (Compare, Contains)) and isinstance(condition.value, Param):
        fields = dict(condition.__dict__, value=values[condition.value.name])
        return type(condition)(**fields)
    return condition


def facts_used(condition: Condition) -> list[str]:
    """The facts a condition reads, in order of first use."""
    seen: dict[str, None] = {}
    for atom in atoms(condition):
        seen.setdefault(atom.fact, None)
    return list(seen)


def atoms(condition: Condition) -> list:
    """The comparisons of a condition, left to right."""
    if isinstance(condition, (AllOf, AnyOf)):
        return [atom for term in condition.terms for atom in atoms(term)]
    if isinstance(condition, Always):
        return []
    return [condition]


def to_text(condition: Condition) -> str:
    """The condition written back in the rule language (after `not` was pushed down)."""
    if isinstance(condition, Compare):
        return f"{condition.fact} {condition.op} {_literal_text(condition.value)}"
    if isinstance(condition, Contains):
        return f"{_literal_text(condition.value)} {'in' if condition.positive else 'not in'} {condition.fact}"
    if isinstance(condition, Known):
        return f"{condition.fact} is {'not ' if condition.positive else ''}none"
    if isinstance(condition, Always):
        return "true" if condition.value else "false"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    parts = [
        to_text(term) if isinstance(term, (Compare, Contains, Known, Always)) else f"({to_text(term)})"
        for term in condition.terms
    ]
    return joiner.join(parts)


def _literal_text(value: Any) -> str:
    if isinstance(value, Param):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return f"{value:g}" if isinstance(value, float) else str(value)
