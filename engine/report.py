"""The result of a check: a versioned, documented schema (`bip schema output`).

`Report` is what `bip check --format json` prints and what the library returns. Its fields are
stable within a major `schema_version`; new optional fields may be added in a minor version.
Texts (labels, guidance, messages) are in the report's `language`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RulebookRef(_Out):
    """Which rules made this result."""

    name: str
    version: str
    hash: str = Field(description="SHA-256 of the rulebook's YAML files")


class FindingRef(_Out):
    """The research finding a conclusion rests on."""

    id: str
    title: str
    statement: str
    reference: str


class PhaseResult(_Out):
    """The citizen's phase and why."""

    id: str = Field(description="progress, standstill, regress or derailment (in the default rulebook)")
    label: str
    confidence: Literal["low", "medium", "high"]
    rule: str = Field(description="Id of the phase rule that decided it")
    reason: str
    source: str = Field(description="Id of the finding the rule rests on")
    finding: FindingRef
    evidence: dict[str, Any] = Field(description="The facts the deciding rule read, with their values")
    also_matched: list[str] = Field(default_factory=list, description="Lower-priority phase rules that also matched")


class Guidance(_Out):
    """What the phase asks of the caseworker: the three quality parameters, and the signs of the phase."""

    signs: str
    meaning: str
    coherence: str
    momentum: str


class FlagResult(_Out):
    """Something that needs attention, with its evidence and the finding behind it."""

    id: str
    title: str
    severity: Literal["high", "medium", "low"]
    message: str
    rules: list[str] = Field(description="The flag rules that raised it, most severe first")
    reasons: list[str]
    source: str = Field(description="Id of the finding the (most severe) rule rests on")
    finding: FindingRef
    evidence: dict[str, Any]


class FocusReason(_Out):
    """Why a checklist point is in focus."""

    rule: str
    reason: str
    source: str


class ChecklistPoint(_Out):
    """One of the ten checklist points; `focus` says whether it matters most now."""

    number: int
    title: str
    focus: bool
    reasons: list[FocusReason] = Field(default_factory=list)


class LeftOutItem(_Out):
    """A part of the record the check did not use."""

    kind: Literal["measurement", "intervention", "caseworker"]
    detail: str
    date: str | None
    reason: str


class Report(_Out):
    """The full result of one pre-meeting check."""

    schema_version: str = SCHEMA_VERSION
    citizen_id: str
    as_of: str = Field(description="The check date (YYYY-MM-DD); later data is left out")
    language: Literal["da", "en"]
    engine: Literal["durable", "python"]
    rulebook: RulebookRef
    phase: PhaseResult | None = Field(description="None when the record has no measurement")
    guidance: Guidance | None
    flags: list[FlagResult] = Field(description="Most severe first")
    checklist: list[ChecklistPoint] = Field(description="All ten points, in order")
    facts: dict[str, Any] = Field(description="Every fact the rules could use, with its value")
    left_out: list[LeftOutItem]
    warnings: list[str]
