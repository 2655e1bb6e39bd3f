"""The house holds: the core never imports a wing, and no engine module imports click or a web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
WINGS = ("authoring", "caseload", "service")
FORBIDDEN_EVERYWHERE = ("click",)
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "flask", "django", "aiohttp")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, as an absolute dotted name (relative imports resolved)."""
    package = ".".join(path.relative_to(ENGINE.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
                found.add(module)
                if not node.module:
                    found.update(f"{prefix}.{alias.name}" for alias in node.names)
            else:
                found.add(node.module or "")
    return found


def engine_modules(core_only: bool) -> list[Path]:
    paths = sorted(ENGINE.rglob("*.py"))
    if core_only:
        paths = [p for p in paths if p.relative_to(ENGINE).parts[0] not in WINGS]
    return paths


@pytest.mark.parametrize("path", engine_modules(core_only=True), ids=lambda p: str(p.relative_to(ENGINE)))
def test_core_imports_no_wing(path):
    wings = {
        m for m in imported_modules(path) for wing in WINGS if m == f"engine.{wing}" or m.startswith(f"engine.{wing}.")
    }
    assert not wings, f"{path.relative_to(ENGINE.parent)} (core) imports wing modules {sorted(wings)}"


@pytest.mark.parametrize("path", engine_modules(core_only=False), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_click_anywhere_in_engine(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN_EVERYWHERE}
    assert not bad, f"{path.relative_to(ENGINE.parent)} imports {sorted(bad)}; only cli.py may"


@pytest.mark.parametrize(
    "path",
    [p for p in engine_modules(core_only=False) if p.relative_to(ENGINE).parts[0] != "service"],
    ids=lambda p: str(p.relative_to(ENGINE)),
)
def test_web_frameworks_only_in_the_service_wing(path):
    bad = {m for m in imported_modules(path) if m.split(".")[0] in WEB_FRAMEWORKS}
    assert not bad, f"{path.relative_to(ENGINE.parent)} imports {sorted(bad)}; only engine/service/ may"


def test_the_checker_sees_a_violation(tmp_path):
    """The import walker itself works: a relative import of a wing from the core is caught."""
    fake = ENGINE / "_architecture_probe.py"
    fake.write_text("from .caseload import batch\nimport click\n", encoding="utf-8")
    try:
        found = imported_modules(fake)
    finally:
        fake.unlink()
    assert "engine.caseload" in found and "click" in found
