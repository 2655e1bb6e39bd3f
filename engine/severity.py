"""The severities of a flag and their order, defined once: `high` is the most severe, `low` the least.

Everything that validates, sorts, compares or lists severities takes them from here: the rulebook's
and the report's `Severity` type, the report's flag order, `--fail-on`, the caseload summary and the
scenario steps.
"""

from __future__ import annotations

from typing import Literal, get_args

#: A flag's severity, as written in a rulebook and a report.
Severity = Literal["high", "medium", "low"]

#: The severities, most severe first.
SEVERITIES: tuple[str, ...] = get_args(Severity)

#: A severity's place in SEVERITIES (0 = most severe): the key to sort flags by, most severe first.
SEVERITY_ORDER: dict[str | None, int] = {name: place for place, name in enumerate(SEVERITIES)}


def at_least(severity: str, threshold: str) -> bool:
    """Whether `severity` is `threshold` or more severe (as `--fail-on` asks)."""
    return SEVERITY_ORDER[severity] <= SEVERITY_ORDER[threshold]
