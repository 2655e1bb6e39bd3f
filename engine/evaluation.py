"""`Evaluation`: what evaluating one record gives, before any text (facts, the rules that matched)."""

from __future__ import annotations

import datetime as dt
from dataclasses import field
from typing import TYPE_CHECKING, Any

from .models import Data, data_class

if TYPE_CHECKING:
    from .executors import Outcome
    from .facts import LeftOut
    from .record import Record
    from .rulebook import Rulebook


@data_class()
class Evaluation(Data):
    """The language-neutral result of evaluating one record."""

    record: Record
    as_of: dt.date
    facts: dict[str, Any]
    outcome: Outcome
    engine: str
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[str | tuple[str, dict[str, Any]]] = field(default_factory=list)  # keys (W001) or (key, args)
    rulebook: Rulebook = field(kw_only=True)  # the rules in force on rules_as_of
    rules_as_of: dt.date | None = None  # the date that selected the rules (default: as_of)

    @property
    def phase(self) -> str | None:
        """The phase id, or None."""
        return self.outcome.phase_rule.conclusion if self.outcome.phase_rule else None

    @property
    def flags(self) -> list[str]:
        """The ids of the flags raised, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.outcome.flag_rules))
