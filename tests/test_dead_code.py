"""No dead code: every public function, class, method and module-level name defined in the package is
used somewhere, by the package, its templates or the tests.

"Used" means the name is read as code: a name, an attribute, an imported name, a keyword argument, or a
word in a string (`bip_engine.__getattr__`'s table, the code a worker process is started with); docstrings
and comments do not count. A decorated function is used by what it is registered with (click commands, FastAPI routes),
and pytest hooks by pytest.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT

ENGINE = ROOT / "engine"
PACKAGE = [*sorted(path for path in ENGINE.rglob("*.py") if not path.is_symlink()), ROOT / "cli.py"]
TESTS = sorted((ROOT / "tests").glob("*.py"))
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TEMPLATES = [*ENGINE.rglob("*.j2"), *ENGINE.rglob("*.html"), *(ROOT / "guidance").rglob("*.j2")]


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def uses(tree: ast.AST) -> Counter:
    """How often each name is read as code in `tree`."""
    skip = docstrings(tree)
    counted: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            counted[node.id] += 1
        elif isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store):
            counted[node.attr] += 1
        elif isinstance(node, ast.alias):
            counted[node.name.rsplit(".", 1)[-1]] += 1
        elif isinstance(node, ast.keyword) and node.arg:
            counted[node.arg] += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            counted.update(WORD.findall(node.value))
    return counted


def definitions(tree: ast.Module) -> list[tuple[str, int]]:
    """The public names `tree` defines that must be used somewhere: (name, line)."""
    found = []
    for node in ast.walk(tree):
        registered = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and bool(node.decorator_list)
        named = isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        if named and not registered and not node.name.startswith(("_", "pytest_")):
            found.append((node.name, node.lineno))
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        found += [(t.id, node.lineno) for t in targets if isinstance(t, ast.Name) and not t.id.startswith("_")]
    return found


def unused_names(package: list[Path]) -> list[str]:
    """`path:line name` of each public name defined in `package` and used nowhere."""
    used: Counter = Counter()
    for path in [*package, *TESTS]:
        used += uses(ast.parse(path.read_text(encoding="utf-8")))
    for path in TEMPLATES:
        used.update(WORD.findall(path.read_text(encoding="utf-8")))
    return [
        f"{path.name}:{line} {name}"
        for path in package
        for name, line in definitions(ast.parse(path.read_text(encoding="utf-8")))
        if used[name] == 0
    ]


def test_every_public_name_is_used():
    assert unused_names(PACKAGE) == []


def test_an_unused_function_and_constant_are_found(tmp_path):
    # The names are put together here, so that this file (one of the tests, read for uses) does not use them.
    dead, constant = "_".join(["never", "called"]), "_".join(["NEVER", "READ"])
    planted = tmp_path / "planted.py"
    planted.write_text(
        f'"""{dead} is named in a docstring only."""\n\n'
        f"{constant} = 1\n\n\n"
        f"def {dead}():\n"
        '    """Dead."""\n\n\n'
        "def called():\n"
        '    """Alive."""\n\n\n'
        "called()\n",
        encoding="utf-8",
    )
    assert unused_names([planted]) == [f"planted.py:6 {dead}", f"planted.py:3 {constant}"]
