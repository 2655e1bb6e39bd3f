"""Catalogues: the data files that name what rules and records may refer to.

Indicators, interventions (with their four main types and aliases), research findings, the ten
checklist points and the staircase phrases are data, not code, so a municipality can add an
indicator or map its own intervention codes without touching Python.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import Problem
from .expr import suggest

Lang = Literal["da", "en"]
LANGUAGES: tuple[str, ...] = ("da", "en")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Text(_Data):
    """A text in Danish and English."""

    da: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in `lang` (Danish when the language is unknown)."""
        return self.en if lang == "en" else self.da


class Indicator(_Data):
    """A progression indicator scored 1-5."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    rated_by: Literal["citizen", "caseworker"]
    job_linked: bool = True
    label: Text


class InterventionType(_Data):
    """One of the main types of intervention."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text


class InterventionKind(_Data):
    """An intervention in the catalogue, with its main type and the aliases records may use."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: str
    label: Text
    internship: bool = False
    aliases: list[str] = Field(default_factory=list)


class Finding(_Data):
    """A research finding a rule rests on."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    statement: Text
    reference: str


class ChecklistPoint(_Data):
    """One of the ten points of the professional checklist."""

    number: int = Field(ge=1)
    title: Text


class IndicatorFile(_Data):
    """indicators.yaml"""

    indicators: list[Indicator] = Field(min_length=1)


class InterventionFile(_Data):
    """interventions.yaml"""

    types: list[InterventionType] = Field(min_length=1)
    interventions: list[InterventionKind] = Field(min_length=1)


class FindingFile(_Data):
    """findings.yaml"""

    findings: list[Finding] = Field(min_length=1)


class ChecklistFile(_Data):
    """checklist.yaml"""

    points: list[ChecklistPoint] = Field(min_length=1)


class StaircaseFile(_Data):
    """staircase.yaml"""

    phrases: list[str] = Field(default_factory=list)

    @field_validator("phrases")
    @classmethod
    def _non_empty(cls, phrases: list[str]) -> list[str]:
        if any(not phrase.strip() for phrase in phrases):
            raise ValueError("a phrase may not be empty")
        return phrases


class Catalogue:
    """All catalogues of one rulebook, with look-ups by id and alias."""

    def __init__(self, indicators: IndicatorFile, interventions: InterventionFile, findings: FindingFile,
                 checklist: ChecklistFile, staircase: StaircaseFile):
        self.indicators = {item.id: item for item in indicators.indicators}
        self.types = {item.id: item for item in interventions.types}
        self.interventions = {item.id: item for item in interventions.interventions}
        self.findings = {item.id: item for item in findings.findings}
        self.checklist = {item.number: item for item in checklist.points}
        self.phrases = [phrase.strip() for phrase in staircase.phrases]
        self._alias = {}
        for item in interventions.interventions:
            for name in (item.id, *item.aliases):
                self._alias[name.casefold()] = item.id

    def intervention_id(self, name: str) -> str | None:
        """The catalogue id for an intervention id or alias (case ignored), or None."""
        return self._alias.get(name.strip().casefold())

    def unknown_intervention(self, name: str) -> str:
        """A message for an intervention name that is not in the catalogue."""
        return f"unknown intervention type '{name}'{suggest(name.casefold(), self._alias)}"

    def unknown_indicator(self, name: str) -> str:
        """A message for an indicator id that is not in the catalogue."""
        return f"unknown indicator '{name}'{suggest(name, self.indicators)}"

    def citizen_indicators(self) -> list[str]:
        """The ids of the indicators the citizen rates."""
        return [item.id for item in self.indicators.values() if item.rated_by == "citizen"]

    def cross_problems(self, path: str) -> list[Problem]:
        """Problems between catalogues: interventions of unknown types, duplicate ids or aliases."""
        problems = []
        for item in self.interventions.values():
            if item.type not in self.types:
                problems.append(Problem("C002", f"intervention '{item.id}' has unknown type '{item.type}'"
                                        f"{suggest(item.type, self.types)}", path))
        return problems
