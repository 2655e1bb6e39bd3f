"""The result of a check: a versioned, documented schema (`bip schema output`).

`Report` is what `bip check --format json` prints and what the library returns. Its fields are
stable within a major `schema_version`; new optional fields may be added in a minor version.
Texts (labels, guidance, messages) are in the report's `language`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from .severity import Severity

SCHEMA_VERSION = "1.3"


class _Out(BaseModel):
    # Built on first use, not at import: a command that never makes a given part pays nothing for it.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class RulebookRef(_Out):
    """Which rules made this result."""

    name: str
    version: str
    hash: str = Field(description="SHA-256 of the rulebook's YAML files")
    release: str | None = Field(default=None, description="The approved release it was run from (its hash), if any")
    templates_hash: str | None = Field(
        default=None,
        description="SHA-256 of the guidance templates on the search path that wrote the texts, "
        "every folder's files in search order (1.3)",
    )
    software_version: str | None = Field(default=None, description="The bip-engine version that made it (1.3)")


class FindingRef(_Out):
    """The research finding a conclusion rests on."""

    id: str
    title: str
    statement: str
    reference: str
    kind: Literal["research", "law", "local"] = Field(
        default="research", description="research (BIP, Danneris), law (statute or order) or local policy"
    )
    law_reference: str | None = Field(default=None, description="For a law: the statute or order and its section")


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
    severity: Severity
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

    kind: Literal["measurement", "intervention", "caseworker", "meeting"]
    detail: str
    date: str | None
    reason: str


@with_config(ConfigDict(extra="forbid"))
class ScorePoint(TypedDict):
    """One score of one indicator on a measurement date."""

    # A typed dict, not a model: a report holds dozens of these (an indicator's score on each date),
    # and a dict is made and written in a fraction of a model's time. The same JSON and JSON Schema.
    date: str
    score: int


class IndicatorSeries(_Out):
    """One indicator over time: its scores on the measurement dates where it was scored."""

    id: str
    label: str
    rated_by: Literal["citizen", "caseworker"]
    points: list[ScorePoint]
    scores: list[int | None] = Field(description="The score on each of the trajectory's `dates` (none: not scored)")


class LevelPoint(_Out):
    """The level (mean of the citizen-rated scores) on one measurement date."""

    date: str
    level: float | None


class InterventionBand(_Out):
    """An intervention period, for drawing as a band: from start to end (or to the check date)."""

    type: str = Field(description="Intervention id from the catalogue")
    label: str
    main_type: str = Field(description="Main type id (job_oriented, upskilling, social, health, ...)")
    main_type_label: str
    start: str
    end: str | None = Field(description="The recorded end; none when open")
    until: str = Field(description="Where the band ends: the end, or the check date when open or later")
    status: Literal["active", "ended", "planned"]


class CaseworkerMarker(_Out):
    """A change of caseworker: the date and the caseworker taking over."""

    date: str
    caseworker: str
    previous: str


class PhasePoint(_Out):
    """The phase the rules give as of one past measurement date (the check re-run on that date)."""

    date: str
    phase: str | None
    label: str | None
    rule: str | None
    confidence: str


class Trajectory(_Out):
    """The citizen's course up to the check date: scores, level, interventions, caseworker changes."""

    as_of: str
    dates: list[str] = Field(description="The measurement dates up to the check date, oldest first")
    indicators: list[IndicatorSeries] = Field(description="In catalogue order; only indicators ever scored")
    level: list[LevelPoint]
    interventions: list[InterventionBand] = Field(description="Not cancelled ones, by start date")
    caseworker_changes: list[CaseworkerMarker]
    phases: list[PhasePoint] | None = Field(
        default=None, description="The phase at each measurement date; only from Checker.trajectory (none in a check)"
    )


class FactChange(_Out):
    """How far one fact is from the boundary of a phase rule's comparison."""

    fact: str
    type: str = Field(description="The fact's type: number, integer, boolean, text or list")
    value: Any = Field(description="The fact's value now")
    operator: str = Field(
        description="What the fact would have to be: <, <=, >, >=, ==, !=, contains, lacks, known, unknown"
    )
    threshold: Any = Field(description="The boundary value the operator compares with")
    target: Any = Field(description="The nearest value that meets it (used to work out the outcome)")
    distance: float | None = Field(description="target - value, for numbers; none otherwise")


class PhaseMargin(_Out):
    """One way the phase could change: which facts would have to move, and what the phase would then be."""

    rule: str = Field(description="The phase rule this is about")
    phase: str = Field(description="The phase that rule concludes")
    matched: bool = Field(description="Whether the rule matches now")
    position: Literal["decides", "above", "below"] = Field(
        description="decides: the rule that gave the phase (the changes would make it stop matching); "
        "above/below: a rule of another phase with higher/lower priority (the changes make it match)"
    )
    changes: list[FactChange] = Field(description="All of these together")
    result_phase: str | None = Field(description="The phase the rules give with the changed facts")
    result_label: str | None
    result_rule: str | None
    text: str = Field(description="The same in words, in the report's language")


class Report(_Out):
    """The full result of one pre-meeting check."""

    schema_version: str = SCHEMA_VERSION
    citizen_id: str
    as_of: str = Field(description="The check date (YYYY-MM-DD); later data is left out")
    rules_as_of: str | None = Field(
        default=None,
        description="The date that selected the rules in force (YYYY-MM-DD; the check date unless set apart)",
    )
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
    trajectory: Trajectory | None = Field(
        default=None, description="Scores, level, interventions and caseworker changes over time (1.1)"
    )
    phase_margins: list[PhaseMargin] | None = Field(
        default=None,
        description="What would change the phase: the deciding rule and its neighbours (1.1); only when asked for "
        "(`bip explain`, `bip check --margins`, the caseworker's page), none otherwise (1.2)",
    )
