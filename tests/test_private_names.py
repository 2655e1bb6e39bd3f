"""No module of the package uses another module's private names (`_x`): what is shared is public,
with a docstring; what is private stays in its module."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = [*sorted(path for path in (ROOT / "engine").rglob("*.py") if not path.is_symlink()), ROOT / "cli.py"]


#: Private names of other libraries that we use on purpose, each with the reason.
THIRD_PARTY = {
    # SQLAlchemy's copy of a column: its public `Column.copy()` is deprecated in favour of it, and the
    # log's schema needs a table as it was at an earlier migration (engine/log/schema.py).
    "column._copy",
}


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def borrowed_private_names(path: Path) -> list[str]:
    """`line name` of each private name `path` imports from, or reads off, another module or its objects."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if private(alias.name):
                    found.append(f"{node.lineno} {alias.name}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    for node in ast.walk(tree):
        # module._x, and other._x on an object that is not self or cls (namedtuple's _replace/_asdict are public API)
        if (
            isinstance(node, ast.Attribute)
            and private(node.attr)
            and node.attr not in {"_replace", "_asdict", "_fields"}
        ):
            owner = node.value
            name = f"{owner.id}.{node.attr}" if isinstance(owner, ast.Name) else ""
            if name and owner.id not in {"self", "cls"} and name not in THIRD_PARTY:
                found.append(f"{node.lineno} {name}")
    return found


def test_no_module_borrows_a_private_name():
    borrowed = {str(path.relative_to(ROOT)): names for path in PACKAGE if (names := borrowed_private_names(path))}
    assert borrowed == {}


def test_a_borrowed_private_name_is_found(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from .facts import _status\nfrom . import rulebook_cache\n\n"
        "rulebook_cache._key\nself_like = object()\nself_like._hidden\n",
        encoding="utf-8",
    )
    assert borrowed_private_names(planted) == ["1 _status", "4 rulebook_cache._key", "6 self_like._hidden"]
