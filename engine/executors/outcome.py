"""What an executor gives back (`Outcome`) and how it refuses after a reload (`ExecutorClosed`).

Kept apart from the package's `__init__` so that the executors import these names without importing
the package that picks them (which would be a circle of imports).
"""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from ..models import Data, data_class

if TYPE_CHECKING:  # annotations only: a cold check runs the rules without loading the pydantic models
    from ..rulebook import CompiledRule


@data_class()
class Outcome(Data):
    """What the rules concluded for one record, stage by stage."""

    phase_rule: CompiledRule | None
    phase_matches: list[str] = field(default_factory=list)
    flag_rules: list[CompiledRule] = field(default_factory=list)
    checklist_rules: list[CompiledRule] = field(default_factory=list)


class ExecutorClosed(RuntimeError):
    """The executor was closed because a reload replaced its rulebook; evaluate again."""
