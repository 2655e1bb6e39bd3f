"""The result of a check: a versioned, documented schema (`bip schema output`).

`Report` is what `bip check --format json` prints and what the library returns. Its fields are
stable within a major `schema_version`; new optional fields may be added in a minor version.
Texts (labels, guidance, messages) are in the report's `language`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Any, Literal

from typing_extensions import TypedDict

from .models import DataModel, Field, data_class
from .severity import Severity

SCHEMA_VERSION = "1.3"

#: The report's languages, executors, kinds of left-out part and intervention band states (the
#: builders in `bip_engine.assemble` and `bip_engine.trajectory` type their values with these).
Language = Literal["da", "en"]
EngineName = Literal["durable", "python"]
LeftOutKind = Literal["measurement", "intervention", "caseworker", "meeting"]
BandStatus = Literal["active", "ended", "planned"]


@data_class(kw_only=True)
class RulebookRef(DataModel):
    """Which rules made this result."""

    name: str
    version: str
    hash: Annotated[str, Field(description="SHA-256 of the rulebook's YAML files")]
    release: Annotated[str | None, Field(description="The approved release it was run from (its hash), if any")] = None
    templates_hash: Annotated[
        str | None,
        Field(
            description="SHA-256 of the guidance templates on the search path that wrote the texts, "
            "every folder's files in search order (1.3)"
        ),
    ] = None
    software_version: Annotated[str | None, Field(description="The bip-engine version that made it (1.3)")] = None


@data_class(kw_only=True)
class FindingRef(DataModel):
    """The research finding a conclusion rests on."""

    id: str
    title: str
    statement: str
    reference: str
    kind: Annotated[
        Literal["research", "law", "local"],
        Field(description="research (BIP, Danneris), law (statute or order) or local policy"),
    ] = "research"
    law_reference: Annotated[str | None, Field(description="For a law: the statute or order and its section")] = None


@data_class(kw_only=True)
class PhaseResult(DataModel):
    """The citizen's phase and why."""

    id: Annotated[str, Field(description="progress, standstill, regress or derailment (in the default rulebook)")]
    label: str
    confidence: Literal["low", "medium", "high"]
    rule: Annotated[str, Field(description="Id of the phase rule that decided it")]
    reason: str
    source: Annotated[str, Field(description="Id of the finding the rule rests on")]
    finding: FindingRef
    evidence: Annotated[dict[str, Any], Field(description="The facts the deciding rule read, with their values")]
    also_matched: Annotated[list[str], Field(description="Lower-priority phase rules that also matched")] = field(
        default_factory=list
    )


@data_class(kw_only=True)
class Guidance(DataModel):
    """What the phase asks of the caseworker: the three quality parameters, and the signs of the phase."""

    signs: str
    meaning: str
    coherence: str
    momentum: str


@data_class(kw_only=True)
class FlagResult(DataModel):
    """Something that needs attention, with its evidence and the finding behind it."""

    id: str
    title: str
    severity: Severity
    message: str
    rules: Annotated[list[str], Field(description="The flag rules that raised it, most severe first")]
    reasons: list[str]
    source: Annotated[str, Field(description="Id of the finding the (most severe) rule rests on")]
    finding: FindingRef
    evidence: dict[str, Any]


@data_class(kw_only=True)
class FocusReason(DataModel):
    """Why a checklist point is in focus."""

    rule: str
    reason: str
    source: str


@data_class(kw_only=True)
class ChecklistPoint(DataModel):
    """One of the ten checklist points; `focus` says whether it matters most now."""

    number: int
    title: str
    focus: bool
    reasons: list[FocusReason] = field(default_factory=list)


@data_class(kw_only=True)
class LeftOutItem(DataModel):
    """A part of the record the check did not use."""

    kind: LeftOutKind
    detail: str
    date: str | None
    reason: str


class ScorePoint(TypedDict):
    """One score of one indicator on a measurement date."""

    # A typed dict, not a model: a report holds dozens of these (an indicator's score on each date),
    # and a dict is made and written in a fraction of a model's time. The same JSON and JSON Schema.
    date: str
    score: int


ScorePoint.__pydantic_config__ = {"extra": "forbid"}  # type: ignore[attr-defined]


@data_class(kw_only=True)
class IndicatorSeries(DataModel):
    """One indicator over time: its scores on the measurement dates where it was scored."""

    id: str
    label: str
    rated_by: Literal["citizen", "caseworker"]
    points: list[ScorePoint]
    scores: Annotated[
        list[int | None], Field(description="The score on each of the trajectory's `dates` (none: not scored)")
    ]


@data_class(kw_only=True)
class LevelPoint(DataModel):
    """The level (mean of the citizen-rated scores) on one measurement date."""

    date: str
    level: float | None


@data_class(kw_only=True)
class InterventionBand(DataModel):
    """An intervention period, for drawing as a band: from start to end (or to the check date)."""

    type: Annotated[str, Field(description="Intervention id from the catalogue")]
    label: str
    main_type: Annotated[str, Field(description="Main type id (job_oriented, upskilling, social, health, ...)")]
    main_type_label: str
    start: str
    end: Annotated[str | None, Field(description="The recorded end; none when open")]
    until: Annotated[str, Field(description="Where the band ends: the end, or the check date when open or later")]
    status: BandStatus


@data_class(kw_only=True)
class CaseworkerMarker(DataModel):
    """A change of caseworker: the date and the caseworker taking over."""

    date: str
    caseworker: str
    previous: str


@data_class(kw_only=True)
class PhasePoint(DataModel):
    """The phase the rules give as of one past measurement date (the check re-run on that date)."""

    date: str
    phase: str | None
    label: str | None
    rule: str | None
    confidence: str


@data_class(kw_only=True)
class Trajectory(DataModel):
    """The citizen's course up to the check date: scores, level, interventions, caseworker changes."""

    as_of: str
    dates: Annotated[list[str], Field(description="The measurement dates up to the check date, oldest first")]
    indicators: Annotated[list[IndicatorSeries], Field(description="In catalogue order; only indicators ever scored")]
    level: list[LevelPoint]
    interventions: Annotated[list[InterventionBand], Field(description="Not cancelled ones, by start date")]
    caseworker_changes: list[CaseworkerMarker]
    phases: Annotated[
        list[PhasePoint] | None,
        Field(description="The phase at each measurement date; only from Checker.trajectory (none in a check)"),
    ] = None


@data_class(kw_only=True)
class FactChange(DataModel):
    """How far one fact is from the boundary of a phase rule's comparison."""

    fact: str
    type: Annotated[str, Field(description="The fact's type: number, integer, boolean, text or list")]
    value: Annotated[Any, Field(description="The fact's value now")]
    operator: Annotated[
        str, Field(description="What the fact would have to be: <, <=, >, >=, ==, !=, contains, lacks, known, unknown")
    ]
    threshold: Annotated[Any, Field(description="The boundary value the operator compares with")]
    target: Annotated[Any, Field(description="The nearest value that meets it (used to work out the outcome)")]
    distance: Annotated[float | None, Field(description="target - value, for numbers; none otherwise")]


@data_class(kw_only=True)
class PhaseMargin(DataModel):
    """One way the phase could change: which facts would have to move, and what the phase would then be."""

    rule: Annotated[str, Field(description="The phase rule this is about")]
    phase: Annotated[str, Field(description="The phase that rule concludes")]
    matched: Annotated[bool, Field(description="Whether the rule matches now")]
    position: Annotated[
        Literal["decides", "above", "below"],
        Field(
            description="decides: the rule that gave the phase (the changes would make it stop matching); "
            "above/below: a rule of another phase with higher/lower priority (the changes make it match)"
        ),
    ]
    changes: Annotated[list[FactChange], Field(description="All of these together")]
    result_phase: Annotated[str | None, Field(description="The phase the rules give with the changed facts")]
    result_label: str | None
    result_rule: str | None
    text: Annotated[str, Field(description="The same in words, in the report's language")]


@data_class(kw_only=True)
class Report(DataModel):
    """The full result of one pre-meeting check."""

    schema_version: str = SCHEMA_VERSION
    citizen_id: str
    as_of: Annotated[str, Field(description="The check date (YYYY-MM-DD); later data is left out")]
    rules_as_of: Annotated[
        str | None,
        Field(description="The date that selected the rules in force (YYYY-MM-DD; the check date unless set apart)"),
    ] = None
    language: Language
    engine: EngineName
    rulebook: RulebookRef
    phase: Annotated[PhaseResult | None, Field(description="None when the record has no measurement")]
    guidance: Guidance | None
    flags: Annotated[list[FlagResult], Field(description="Most severe first")]
    checklist: Annotated[list[ChecklistPoint], Field(description="All ten points, in order")]
    facts: Annotated[dict[str, Any], Field(description="Every fact the rules could use, with its value")]
    left_out: list[LeftOutItem]
    warnings: list[str]
    trajectory: Annotated[
        Trajectory | None, Field(description="Scores, level, interventions and caseworker changes over time (1.1)")
    ] = None
    phase_margins: Annotated[
        list[PhaseMargin] | None,
        Field(
            description="What would change the phase: the deciding rule and its neighbours (1.1); only when asked for "
            "(`bip explain`, `bip check --margins`, the caseworker's page), none otherwise (1.2)"
        ),
    ] = None
