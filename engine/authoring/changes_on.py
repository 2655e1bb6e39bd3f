"""`bip rules changes --on DATE`: what changes in a rulebook on one day, rule by rule and parameter by parameter.

The rulebook in force the day before is compared with the one in force on the day (`Rulebook.at`):
rules that start, stop or change (condition, severity, the values of the parameters they use), and
parameters whose value changes. Each line names the file and line of the rule or value.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..messages import text
from ..periods import ONE_DAY
from ..rulebook import STAGES, CompiledRule, Rulebook


@dataclass(frozen=True)
class Change:
    """One change on the day: what (`rule` or `parameter`), its id, how, before and after, and where."""

    what: str
    id: str
    how: str  # "starts", "stops" or "changes"
    before: str | None
    after: str | None
    where: str


def _describe(rule: CompiledRule) -> str:
    values = ", ".join(f"{name} = {value}" for name, value in rule.parameters)
    severity = f" ({rule.severity})" if rule.severity else ""
    return f"{rule.when}{severity}" + (f" [{values}]" if values else "")


def _value_place(path: object, item: Any) -> str:
    """Where a parameter's dated value is written."""
    return f"{path}:{item.line}"


def _change(
    what: str, ident: str, was: Any, now: Any, shown: Callable[[Any], str], where: Callable[[Any], str]
) -> Change:
    """The change of `ident` from `was` to `now` (either None where it is not in force), each `shown` in words."""
    how = "starts" if was is None else "stops" if now is None else "changes"
    return Change(
        what,
        ident,
        how,
        shown(was) if was is not None else None,
        shown(now) if now is not None else None,
        where(now if now is not None else was),
    )


def changes_on(rulebook: Rulebook, day: dt.date) -> list[Change]:
    """What changes between `day - 1` and `day`, rules stage by stage, then parameters."""
    before, after = rulebook.at(day - ONE_DAY), rulebook.at(day)
    found: list[Change] = []
    for stage in STAGES:
        old = {rule.id: rule for rule in before.rules[stage]}
        new = {rule.id: rule for rule in after.rules[stage]}
        for rule_id in dict.fromkeys([*old, *new]):
            was, now = old.get(rule_id), new.get(rule_id)
            if was is not None and now is not None and _describe(was) == _describe(now):
                continue
            found.append(_change("rule", rule_id, was, now, _describe, lambda rule: f"{rule.path}:{rule.line}"))
    for name, parameter in rulebook.parameters.items.items():
        was_item = next((item for item in parameter.values if item.period.contains(day - ONE_DAY)), None)
        now_item = next((item for item in parameter.values if item.period.contains(day)), None)
        if was_item is now_item:
            continue
        found.append(
            _change(
                "parameter",
                name,
                was_item,
                now_item,
                lambda item: str(item.value),
                functools.partial(_value_place, parameter.path),
            )
        )
    return found


def render_changes(rulebook: Rulebook, day: dt.date, lang: str = "da") -> str:
    """The changes on `day` as plain text in `lang`."""
    found = changes_on(rulebook, day)
    lines = [text("changes_on.head", lang, name=rulebook.name, version=rulebook.version, day=day.isoformat())]
    if not found:
        lines.append(text("changes_on.none", lang))
    for change in found:
        lines.append(
            "  "
            + text(
                f"changes_on.{change.what}.{change.how}",
                lang,
                id=change.id,
                before=change.before,
                after=change.after,
                where=change.where,
            )
        )
    return "\n".join(lines) + "\n"
