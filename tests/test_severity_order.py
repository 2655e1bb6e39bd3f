"""The order of the flag severities is defined once, in bip_engine.severity; everything that sorts,
compares or lists severities takes it from there."""

from __future__ import annotations

import ast
from pathlib import Path

from bip_engine.severity import SEVERITIES, SEVERITY_ORDER, at_least
from tests.conftest import ROOT

#: How the severities are spelt out, most severe first (the confidence levels are the same words, from low up).
SPELT = ["high", "medium", "low"]
SOURCES = [*sorted(path for path in (ROOT / "engine").rglob("*.py") if not path.is_symlink()), ROOT / "cli.py"]


def strings(nodes) -> list[str] | None:
    """The strings of `nodes` when every one of them is a string constant."""
    values = [node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return values if len(values) == len(nodes) else None


def severity_definitions(path: Path) -> list[int]:
    """The lines of `path` that spell out the severities as a sequence, a Literal or a ranking."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        items = None
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = strings(node.elts)
        elif isinstance(node, ast.Dict) and all(
            isinstance(value, ast.Constant) and isinstance(value.value, int) for value in node.values
        ):
            items = strings(node.keys)  # a ranking: severity -> number
        if items == SPELT:
            found.add(node.lineno)
    return sorted(found)


def test_the_severities_are_spelt_out_in_one_place():
    places = {str(path.relative_to(ROOT)): lines for path in SOURCES if (lines := severity_definitions(path))}
    assert places == {"engine/severity.py": places.get("engine/severity.py", [])}
    assert len(places["engine/severity.py"]) == 1


def test_the_order_runs_from_the_most_severe():
    assert [name for name, _ in sorted(SEVERITY_ORDER.items(), key=lambda item: item[1])] == list(SEVERITIES)
    assert SEVERITIES[0] == "high" and SEVERITIES[-1] == "low"
    assert at_least("high", "medium") and at_least("medium", "medium") and not at_least("low", "medium")


def test_a_second_definition_would_be_found(tmp_path):
    copy = tmp_path / "copy.py"
    copy.write_text('RANK = {"high": 3, "medium": 2, "low": 1}\nORDER = ("high", "medium", "low")\n', encoding="utf-8")
    assert severity_definitions(copy) == [1, 2]
