"""A compiled rulebook in plain Python, for the cold command-line check (no pydantic to load).

`lighten(rulebook)` copies a loaded `Rulebook` into plain objects with the same attributes and the
methods a check uses: its catalogue entries (texts with `get`, entries with `in_force`), compiled
rules, phases, fact catalogue, and the rules in force for each stretch of days, worked out in
advance. `bip_engine.fastpath` keeps the copy in the on-disk cache, so a new process reads it without
loading pydantic or the rulebook's models. Making the copy imports them; reading it does not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .expr import Condition, FactSpec, facts_used
from .periods import Period, Timeline


class LightText:
    """A text in Danish and English (`bip_engine.catalogue.Text`)."""

    def __init__(self, da: str, en: str):
        self.da, self.en = da, en

    def get(self, lang: str) -> str:
        """The text in `lang` (Danish when the language is unknown)."""
        return self.en if lang == "en" else self.da


class LightEntry:
    """A catalogue entry or phase definition: its fields as attributes."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    def in_force(self, day: dt.date) -> bool:
        """Whether the entry is in force on `day`."""
        start, end = getattr(self, "valid_from", None), getattr(self, "valid_to", None)
        return (start is None or start <= day) and (end is None or day <= end)


class LightRule:
    """`bip_engine.rulebook.CompiledRule`, field for field (a plain class: a dataclass costs time to make
    at import, which is what the cold check saves)."""

    id: str
    stage: str
    conclusion: Any
    rank: int
    severity: str | None
    when: str
    condition: Condition
    reason: LightText
    source: str
    path: str
    line: int | None
    origin: str
    overrides: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None
    parameters: tuple[tuple[str, Any], ...]

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    @property
    def facts(self) -> list[str]:
        """The facts the rule's condition reads."""
        return facts_used(self.condition)

    @property
    def period(self) -> Period:
        """When the rule is in force."""
        return Period(self.valid_from, self.valid_to)


class LightCatalogue:
    """`bip_engine.catalogue.Catalogue`: the look-ups a check uses."""

    def __init__(self, **fields: Any):
        self.indicators: dict[str, Any] = fields["indicators"]
        self.types: dict[str, Any] = fields["types"]
        self.interventions: dict[str, Any] = fields["interventions"]
        self.findings: dict[str, Any] = fields["findings"]
        self.checklist: dict[int, Any] = fields["checklist"]
        self.phrases: list[str] = fields["phrases"]
        self.staircase: list[Any] = fields["staircase"]
        self._alias: dict[str, str] = fields["alias"]

    def intervention_id(self, name: str) -> str | None:
        """The catalogue id for an intervention id or alias (case ignored), or None."""
        return self._alias.get(name.strip().casefold())

    def citizen_indicators(self) -> list[str]:
        """The ids of the indicators the citizen rates."""
        return [item.id for item in self.indicators.values() if item.rated_by == "citizen"]


class LightRulebook:
    """`bip_engine.rulebook.Rulebook`: identity, catalogue, phases, rules and facts; `at(day)` gives the
    rules in force on a day (every stretch of days worked out when the copy was made)."""

    def __init__(self, **fields: Any):
        self.name: str = fields["name"]
        self.version: str = fields["version"]
        self.content_hash: str = fields["content_hash"]
        self.release: str | None = fields["release"]
        self.path: Path = fields["path"]
        self.catalogue: LightCatalogue = fields["catalogue"]
        self.phases: dict[str, Any] = fields["phases"]
        self.rules: dict[str, list[LightRule]] = fields["rules"]
        self.facts: dict[str, FactSpec] = fields["facts"]
        self.period: Period | None = fields["period"]
        self.timeline: Timeline | None = fields.get("timeline")  # None: the same rules on every day
        self.views: list[LightRulebook] = fields.get("views", [])

    def period_index(self, day: dt.date) -> int:
        """The number of the stretch of days (in which nothing changes) that `day` lies in."""
        return self.timeline.index(day) if self.timeline is not None else 0

    def at(self, day: dt.date) -> LightRulebook:
        """The rules in force on `day`."""
        return self.views[self.timeline.index(day)] if self.timeline is not None else self

    @property
    def flag_ids(self) -> list[str]:
        """Every flag some rule can raise, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.rules["flag"]))

    def all_rules(self) -> list[LightRule]:
        """Every rule, stage by stage."""
        return [rule for stage in ("phase", "flag", "checklist") for rule in self.rules[stage]]


def lighten(rulebook: Any) -> LightRulebook:
    """A plain copy of a loaded `bip_engine.rulebook.Rulebook` (imports pydantic to read it)."""
    copier = _Copier()
    light = copier.rulebook(rulebook)
    if rulebook.period is None and rulebook.dated:
        timeline = rulebook.timeline
        light.timeline = timeline
        light.views = [
            copier.rulebook(rulebook.at(timeline.representative(stretch))) for stretch in timeline.stretches()
        ]
    return light


class _Copier:
    """Copies pydantic models into plain objects, each object once (shared parts stay shared)."""

    def __init__(self) -> None:
        from pydantic import BaseModel

        self.base_model = BaseModel
        self.done: dict[int, Any] = {}

    def value(self, value: Any) -> Any:
        if isinstance(value, self.base_model):
            found = self.done.get(id(value))
            if found is None:
                fields = {name: self.value(item) for name, item in value.__dict__.items()}
                found = LightText(**fields) if set(fields) == {"da", "en"} else LightEntry(**fields)
                self.done[id(value)] = found
            return found
        if type(value) is list:
            return [self.value(item) for item in value]
        if type(value) is tuple:
            return tuple(self.value(item) for item in value)
        if type(value) is dict:
            return {key: self.value(item) for key, item in value.items()}
        return value

    def rule(self, rule: Any) -> LightRule:
        return LightRule(**{name: self.value(item) for name, item in rule.__dict__.items()})

    def catalogue(self, catalogue: Any) -> LightCatalogue:
        found = self.done.get(id(catalogue))
        if found is None:
            found = self.done[id(catalogue)] = LightCatalogue(
                indicators=self.value(catalogue.indicators),
                types=self.value(catalogue.types),
                interventions=self.value(catalogue.interventions),
                findings=self.value(catalogue.findings),
                checklist=self.value(catalogue.checklist),
                phrases=list(catalogue.phrases),
                staircase=self.value(catalogue.staircase),
                alias=dict(catalogue.intervention_aliases),
            )
        return found

    def rulebook(self, rulebook: Any) -> LightRulebook:
        return LightRulebook(
            name=rulebook.name,
            version=rulebook.version,
            content_hash=rulebook.content_hash,
            release=rulebook.release,
            path=rulebook.path,
            catalogue=self.catalogue(rulebook.catalogue),
            phases=self.value(rulebook.phases),
            rules={stage: [self.rule(rule) for rule in rules] for stage, rules in rulebook.rules.items()},
            facts=dict(rulebook.facts),
            period=rulebook.period,
        )
