"""Static analysis of conditions: contradictions and shadowed rules."""

import pytest

from bip_engine.authoring.analysis import dnf, implies, never_true, satisfiable, shadowed_by
from bip_engine.expr import parse_condition
from tests.test_expr import FACTS as SPECS  # the same small fact catalogue as the language tests


def c(text):
    return parse_condition(text, SPECS)


@pytest.mark.parametrize(
    "text, never",
    [
        ("level > 3 and level < 2", True),
        ("level > 3 and level <= 3", True),
        ("level >= 3 and level <= 3", False),
        ("count > 1 and count < 2", True),
        ("count >= 1 and count < 2", False),
        ('phase == "progress" and phase == "standstill"', True),
        ('"social" in types and "social" not in types', True),
        ("change is none and change > 0", True),
        ("active and not active", True),
        ("(level > 4 or level < 2) and level > 4.5", False),
        ("false", True),
        ('types is none and "social" in types', True),
        ('types is none and "social" not in types', False),
    ],
)
def test_never_true(text, never):
    assert never_true(c(text), SPECS) is never


def test_dnf_distributes_and_over_or():
    assert len(dnf(c("(level > 1 or change > 0) and (count > 1 or active)"))) == 4


@pytest.mark.parametrize(
    "narrow, wide, expected",
    [
        ("level > 3", "level > 2", True),
        ("level > 2", "level > 3", False),
        ("level >= 3 and active", "level >= 3", True),
        ("count >= 1", "count >= 1", True),
        ("count >= 2", "count > 1", True),
        ("level == 2", "level < 3", True),
        ('phase == "progress"', 'phase != "standstill"', True),
        ("level > 3", "change > 0", False),
        ('"social" in types', '"social" in types', True),
        ("change > 0", "change is not none", True),
    ],
)
def test_implies(narrow, wide, expected):
    (left,), (right,) = dnf(c(narrow)), dnf(c(wide))
    assert implies(left, right, SPECS) is expected


def test_shadowed_rule_found_and_unshadowed_left_alone():
    earlier = [c("count >= 1"), c("level <= 1.8")]
    assert shadowed_by(c("count >= 2 and change > 0"), earlier, SPECS)
    assert shadowed_by(c("level <= 1.5 or count >= 3"), earlier, SPECS)
    assert not shadowed_by(c("level <= 2"), [c("level <= 1.8")], SPECS)
    assert not shadowed_by(c("change <= -0.4"), [c("change <= -1.0"), c("level <= 1.8")], SPECS)


def test_satisfiable_respects_fact_ranges():
    (conjunct,) = dnf(c("level >= 1"))
    assert satisfiable(conjunct, SPECS)
