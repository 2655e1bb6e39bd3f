"""The condition language: parsing, type checks, negation and evaluation."""

import pytest

from bip_engine.executors.python_exec import holds
from bip_engine.expr import AllOf, AnyOf, Compare, Contains, ExpressionError, FactSpec, Known, parse_condition, to_text

FACTS = {
    spec.name: spec
    for spec in [
        FactSpec("level", "number", minimum=1, maximum=5, nullable=True),
        FactSpec("change", "number", minimum=-4, maximum=4, nullable=True),
        FactSpec("count", "integer", minimum=0),
        FactSpec("active", "boolean"),
        FactSpec("phase", "text", values=("progress", "standstill"), nullable=True),
        FactSpec("types", "list", values=("job_oriented", "social")),
    ]
}


def parse(text):
    return parse_condition(text, FACTS)


def test_comparison_and_boolean_operators():
    condition = parse("level <= 1.8 or change <= -1.0")
    assert condition == AnyOf((Compare("level", "<=", 1.8), Compare("change", "<=", -1.0)))


def test_not_is_pushed_down_to_the_comparisons():
    assert parse("not (level < 2 and active)") == AnyOf((Compare("level", ">=", 2), Compare("active", "==", False)))


def test_literal_on_the_left_is_mirrored():
    assert parse("2 < level") == Compare("level", ">", 2)


def test_chained_comparison_becomes_and():
    assert parse("1 <= level < 3") == AllOf((Compare("level", ">=", 1), Compare("level", "<", 3)))


def test_membership_in_a_list_fact_and_its_negation():
    assert parse('"social" in types') == Contains("types", "social", True)
    assert parse('"social" not in types') == Contains("types", "social", False)
    assert parse('not "social" in types') == Contains("types", "social", False)


def test_fact_in_a_list_of_values():
    assert parse('phase in ["progress", "standstill"]') == AnyOf(
        (Compare("phase", "==", "progress"), Compare("phase", "==", "standstill"))
    )
    assert parse('phase not in ["progress"]') == AllOf((Compare("phase", "!=", "progress"),))


def test_is_none():
    assert parse("change is none") == Known("change", False)
    assert parse("not change is not none") == Known("change", False)


@pytest.mark.parametrize(
    "text, message",
    [
        ("levl > 2", "unknown fact 'levl' (did you mean 'level'?)"),
        ("level > 'high'", "'level' is a number"),
        ('phase == "progres"', "did you mean 'progress'?"),
        ("phase > 2", "'phase' is text; only == and != apply"),
        ('"nope" in types', "'nope' is not a known value of 'types'"),
        ("level > 5", "can never be true"),
        ("count < 0", "can never be true"),
        ("level", "is a number, not true or false"),
        ("level = 2", "use == to compare"),
        ("level > change", "compare a fact with a value"),
        ("__import__('os')", "not a condition"),
        ("level > (1 + 1)", "not a plain value"),
        ("", "empty"),
    ],
)
def test_invalid_conditions_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert message in info.value.message


def test_unknown_values_make_comparisons_false_even_after_not():
    facts = {"level": 3, "change": None, "count": 1, "active": True, "phase": None, "types": []}
    assert not holds(parse("change >= 0.4"), facts)
    assert not holds(parse("not change >= 0.4"), facts)
    assert holds(parse("change is none"), facts)
    assert holds(parse("level >= 3 and active"), facts)
    assert not holds(parse('"social" in types'), facts)
    assert holds(parse('"social" not in types'), facts)


def test_to_text_writes_the_condition_back():
    text = 'level <= 1.8 or ("social" in types and change is not none)'
    assert to_text(parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "level <= 1.8 or change <= -1.0",
        "not (level < 2 and active)",
        "1 <= level < 3 and count >= 1",
        '"social" in types or phase in ["progress", "standstill"]',
        "change is none or (active and count > 2)",
        '"social" not in types and not phase == "progress" and change > -1',
        "true",
        "false",
    ],
)
def test_compiled_conditions_agree_with_holds(text):
    from itertools import product

    from bip_engine.executors.python_exec import compile_condition

    condition = parse(text)
    compiled = compile_condition(condition)
    for level, change, count, active, phase, types in product(
        (None, 1, 2.5, 4),
        (None, -1.2, 0, 0.5),
        (0, 1, 3),
        (True, False),
        (None, "progress", "standstill"),
        ([], ["social"], ["job_oriented", "social"]),
    ):
        facts = {"level": level, "change": change, "count": count, "active": active, "phase": phase, "types": types}
        assert compiled(facts) == holds(condition, facts), facts
