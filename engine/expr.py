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
from typing import Any

from .errors import KeyedError
from .messages import part
from .models import Data, data_class

ORDER_OPS = {"<", "<=", ">", ">="}
INVERSE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_AST_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BOOL_NAMES = {"true": True, "True": True, "false": False, "False": False}
_NONE_NAMES = {"none", "None", "null"}


@data_class(frozen=True)
class FactSpec(Data):
    """What the language needs to know about one fact: its type, range and allowed values."""

    name: str
    type: str  # "number" | "integer" | "boolean" | "text" | "list"
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] | None = None  # allowed text values, or list items
    nullable: bool = False
    stage: str = "facts"  # "facts", or the stage whose result it is ("phase", "flag")


@data_class(frozen=True)
class Param(Data):
    """A named parameter standing for a value; `bind` replaces it by the value in force."""

    name: str

    def __str__(self) -> str:
        return self.name


@data_class(frozen=True)
class Compare(Data):
    """`fact op value`: false when the fact is unknown."""

    fact: str
    op: str
    value: Any


@data_class(frozen=True)
class Contains(Data):
    """`value in fact` for a list fact (or its negation when `positive` is false)."""

    fact: str
    value: str
    positive: bool = True


@data_class(frozen=True)
class Known(Data):
    """`fact is not none` (or `fact is none` when `positive` is false)."""

    fact: str
    positive: bool = True


@data_class(frozen=True)
class AllOf(Data):
    """Every term holds."""

    terms: tuple


@data_class(frozen=True)
class AnyOf(Data):
    """At least one term holds."""

    terms: tuple


@data_class(frozen=True)
class Always(Data):
    """A constant condition (`true` or `false`)."""

    value: bool


Condition = Compare | Contains | Known | AllOf | AnyOf | Always


class ExpressionError(KeyedError):
    """A condition that cannot be parsed or does not fit the facts; `column` is 1-based.

    A keyed message (`bip_engine.errors.KeyedError`); `code` is the problem code (the key's, unless given)."""

    def __init__(self, key: str, column: int | None = None, *, code: str | None = None, **values: Any):
        super().__init__(key, **values)
        self.column = column
        self.code = code or key.split(".")[0]


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
        raise ExpressionError("E100.empty")
    source = " ".join(text.split())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        eq_hint = part("expr.use_eq") if "=" in source and "==" not in source else ""
        raise ExpressionError("E100.syntax", exc.offset, detail=exc.msg, eq_hint=eq_hint) from None
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
                raise ExpressionError("E103.not_truth", self.col(node), name=spec.name, type=spec.type)
            return Compare(spec.name, "==", not negate)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return Always(node.value != negate)
        raise ExpressionError("E100.not_condition", self.col(node), expr=ast.unparse(node))

    def comparison(self, left: ast.AST, op: ast.cmpop, right: ast.AST, negate: bool) -> Condition:
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(left, right, positive=isinstance(op, ast.NotIn) == negate)
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not self.is_none(right):
                raise ExpressionError("E100.is_none", self.col(right))
            spec = self.fact(left)
            return Known(spec.name, positive=isinstance(op, ast.IsNot) != negate)
        symbol = _AST_OPS[type(op)]
        if self.is_fact(right) and not self.is_fact(left):
            left, right, symbol = right, left, MIRROR[symbol]
        if not self.is_fact(left):
            raise ExpressionError("E102.not_fact", self.col(left), expr=ast.unparse(left))
        if self.is_fact(right):
            self.fact(right)  # an unknown name: "unknown fact ... (did you mean ...)"
            raise ExpressionError("E103.fact_vs_fact", self.col(right))
        spec = self.fact(left)
        value = self.literal(right)
        self.check_value(spec, symbol, value, right)
        return Compare(spec.name, INVERSE[symbol] if negate else symbol, value)

    def membership(self, left: ast.AST, right: ast.AST, positive: bool) -> Condition:
        if self.is_fact(right):
            spec = self.fact(right)
            if spec.type != "list":
                raise ExpressionError("E103.not_list", self.col(right), name=spec.name, type=spec.type)
            value = self.literal(left)
            for each in self.candidates(value):
                if not isinstance(each, str):
                    raise ExpressionError("E103.holds_text", self.col(left), name=spec.name)
                self.check_domain(spec, each, left)
            return Contains(spec.name, value, positive)
        spec = self.fact(left)
        if not isinstance(right, (ast.List, ast.Tuple, ast.Set)) or not right.elts:
            raise ExpressionError("E103.in_list", self.col(right))
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
                        "expr.param_value",
                        exc.column,
                        code=exc.code,
                        name=value.name,
                        value=repr(each),
                        detail=exc.part(),
                    ) from None
            return
        where = self.col(node)
        if value is None:
            raise ExpressionError("E103.is_none", where, name=spec.name)
        if spec.type == "list":
            raise ExpressionError("E103.list", where, name=spec.name)
        if spec.type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ExpressionError("E103.number", where, name=spec.name, value=repr(value))
            self.check_range(spec, op, value, where)
            return
        if op in ORDER_OPS:
            raise ExpressionError("E103.only_equal", where, name=spec.name, type=spec.type)
        if spec.type == "boolean" and not isinstance(value, bool):
            raise ExpressionError("E103.boolean", where, name=spec.name, value=repr(value))
        if spec.type == "text":
            if not isinstance(value, str):
                raise ExpressionError("E103.text", where, name=spec.name)
            self.check_domain(spec, value, node)

    def check_domain(self, spec: FactSpec, value: str, node: ast.AST) -> None:
        if spec.values is not None and value not in spec.values:
            raise ExpressionError(
                "E104.value", self.col(node), value=value, name=spec.name, hint_name=closest(value, spec.values)
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
                "E105.never", where, name=spec.name, op=op, value=value, low=_fmt(low), high=_fmt(high)
            )

    def fact(self, node: ast.AST) -> FactSpec:
        if not isinstance(node, ast.Name) or node.id in _BOOL_NAMES or node.id in _NONE_NAMES:
            raise ExpressionError("E102.not_fact", self.col(node), expr=ast.unparse(node))
        spec = self.facts.get(node.id)
        if spec is None:
            if node.id in self.params:
                raise ExpressionError("E103.parameter", self.col(node), name=node.id)
            raise ExpressionError(
                "E102.unknown", self.col(node), name=node.id, hint_name=closest(node.id, [*self.facts, *self.params])
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
        raise ExpressionError("E100.not_value", self.col(node), expr=ast.unparse(node))

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
