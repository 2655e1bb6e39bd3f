"""Where the bundled default rulebook, guidance templates and features live.

In a source checkout (or an editable install) they are the top-level `rules/`, `guidance/` and
`features/` folders next to `engine/`; a wheel installs them as package data in `engine/bundled/`.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The bundled folder `name` (rules, guidance or features)."""
    installed = _HERE / "bundled" / name
    return installed if installed.is_dir() else _HERE.parent / name


def default_rules() -> Path:
    """The default rulebook folder."""
    return bundled("rules")


def default_guidance() -> Path:
    """The default guidance template folder (with `da/` and `en/` inside)."""
    return bundled("guidance")
