"""The mypy settings reach the code: every override that makes typing stricter or looser names modules that mypy checks.

mypy reads the source folder (`files`), so it names the modules after the folders (engine.*), not after the
installed package (bip_engine.*); an override naming modules mypy never sees is silently ignored.
"""

from __future__ import annotations

import fnmatch
import tomllib

from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def _checked_modules() -> set[str]:
    modules = set()
    for folder in CONFIG["files"]:
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


def test_every_typing_override_names_modules_that_mypy_checks():
    checked = _checked_modules()
    assert "engine.log.store" in checked and "engine.service.page" in checked
    typing_overrides = [item for item in CONFIG["overrides"] if "disallow_untyped_defs" in item]
    assert typing_overrides
    for override in typing_overrides:
        for pattern in override["module"]:
            assert fnmatch.filter(checked, pattern), f"the mypy override {pattern!r} names no module mypy checks"


def test_the_library_is_typed_strictly_and_only_the_command_line_is_not():
    strict = [item for item in CONFIG["overrides"] if item.get("disallow_untyped_defs") is True]
    loose = [item for item in CONFIG["overrides"] if item.get("disallow_untyped_defs") is False]
    assert any("engine.*" in item["module"] for item in strict)
    assert [module for item in loose for module in item["module"]] == ["engine.cli"]
