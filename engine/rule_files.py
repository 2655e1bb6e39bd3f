"""The YAML side of a rulebook: the shapes of `rulebook.yaml` and of the rule files, as validated when loading.

Only `bip_engine.rulebook.load_rulebook` needs them: a compiled rulebook (`Rulebook`, `CompiledRule`)
holds none of them, so a check that takes its compiled rulebook from the cache
(`bip_engine.rulebook_cache`) never defines these classes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import field
from typing import Annotated, Any, Literal

from .catalogue import RULE_ID, Text
from .models import BeforeValidator, DataModel, Field, data_class
from .severity import Severity


def _text(value: Any) -> Any:
    """Let a rule give one text for both languages."""
    return {"da": value, "en": value} if isinstance(value, str) else value


@data_class(frozen=True, kw_only=True)
class RulebookInfo(DataModel):
    """rulebook.yaml: the rulebook's name, version and description; what it extends and disables."""

    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    description: Annotated[Text | None, BeforeValidator(_text)] = None
    extends: Annotated[str | None, Field(description="'default', or the path of another rulebook folder")] = None
    disable: Annotated[list[str], Field(description="Ids of base rules to switch off")] = field(default_factory=list)
    author: Annotated[
        str | list[str] | None,
        Field(description="Who last changed the rules of this folder (a release needs another approver)"),
    ] = None


@data_class(frozen=True, kw_only=True)
class _RuleBase(DataModel):
    id: Annotated[str, Field(pattern=RULE_ID)]
    when: Annotated[str, Field(min_length=1)]
    reason: Annotated[Text, BeforeValidator(_text)]
    source: str
    description: Annotated[Text | None, BeforeValidator(_text)] = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


@data_class(frozen=True, kw_only=True)
class PhaseRule(_RuleBase):
    """A phase rule: the first matching one, by priority (lowest number first), sets the phase."""

    phase: str
    priority: Annotated[int, Field(ge=0, le=60000)]


@data_class(frozen=True, kw_only=True)
class FlagRule(_RuleBase):
    """A flag rule: every matching one raises its flag (`flag`, or the rule id) at its severity."""

    flag: Annotated[str | None, Field(pattern=RULE_ID)] = None
    severity: Severity


@data_class(frozen=True, kw_only=True)
class ChecklistRule(_RuleBase):
    """A checklist rule: when it matches, its checklist point is put in focus, with its reason."""

    point: Annotated[int, Field(ge=1)]


@data_class(frozen=True, kw_only=True)
class RuleFileShape(DataModel):
    """The outer shape of a rule file; each rule is validated by its stage's model."""

    stage: Literal["phase", "flag", "checklist"]
    phases: list[dict] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)


AnyRule = PhaseRule | FlagRule | ChecklistRule
RULE_MODELS: dict[str, type[AnyRule]] = {"phase": PhaseRule, "flag": FlagRule, "checklist": ChecklistRule}
