"""Catalogues: the data files that name what rules and records may refer to.

Indicators, interventions (with their four main types and aliases), research findings, the ten
checklist points and the staircase phrases are data, not code, so a municipality can add an
indicator or map its own intervention codes without touching Python.

Indicators, intervention types and interventions, findings and staircase phrases may carry
`valid_from` / `valid_to` (inclusive dates); one id may appear several times with periods that do
not overlap. `Catalogue.at(day)` is the catalogue in force on a day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import field
from typing import Annotated, Any, Literal

from .errors import Problem, problem
from .expr import closest
from .models import BeforeValidator, DataModel, Field, data_class

Lang = Literal["da", "en"]
LANGUAGES: tuple[str, ...] = ("da", "en")
RULE_ID = r"^[a-z][a-z0-9_]*$"  # the id of a rule, a phase or a catalogue entry


@data_class(frozen=True, kw_only=True)
class _Dated(DataModel):
    """A catalogue entry's days in force (a class without a docstring would have the stdlib write one with `inspect`)."""

    valid_from: Annotated[dt.date | None, Field(description="First day in force (inclusive)")] = None
    valid_to: Annotated[dt.date | None, Field(description="Last day in force (inclusive)")] = None

    def in_force(self, day: dt.date) -> bool:
        """Whether the entry is in force on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@data_class(frozen=True, kw_only=True)
class Text(DataModel):
    """A text in Danish and English."""

    da: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, lang: str) -> str:
        """The text in `lang` (Danish when the language is unknown)."""
        return self.en if lang == "en" else self.da


@data_class(frozen=True, kw_only=True)
class Indicator(_Dated):
    """A progression indicator scored 1-5."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    rated_by: Literal["citizen", "caseworker"]
    job_linked: bool = True
    label: Text


@data_class(frozen=True, kw_only=True)
class InterventionType(_Dated):
    """One of the main types of intervention."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    label: Text


@data_class(frozen=True, kw_only=True)
class InterventionKind(_Dated):
    """An intervention in the catalogue, with its main type and the aliases records may use."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    type: str
    label: Text
    internship: bool = False
    aliases: list[str] = field(default_factory=list)


@data_class(frozen=True, kw_only=True)
class Finding(_Dated):
    """What a rule rests on: a research finding, a law (statute or executive order) or local policy."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    kind: Annotated[
        Literal["research", "law", "local"],
        Field(description="research (BIP, Danneris), law (with its reference) or local policy"),
    ] = "research"
    title: Text
    statement: Text
    reference: Annotated[str, Field(description="The publication, or for a law the statute or order and its section")]


@data_class(frozen=True, kw_only=True)
class ChecklistPoint(DataModel):
    """One of the ten points of the professional checklist."""

    number: Annotated[int, Field(ge=1)]
    title: Text


@data_class(frozen=True, kw_only=True)
class IndicatorFile(DataModel):
    """indicators.yaml"""

    indicators: Annotated[list[Indicator], Field(min_length=1)]


@data_class(frozen=True, kw_only=True)
class InterventionFile(DataModel):
    """interventions.yaml"""

    types: Annotated[list[InterventionType], Field(min_length=1)]
    interventions: Annotated[list[InterventionKind], Field(min_length=1)]


@data_class(frozen=True, kw_only=True)
class FindingFile(DataModel):
    """findings.yaml"""

    findings: Annotated[list[Finding], Field(min_length=1)]


@data_class(frozen=True, kw_only=True)
class ChecklistFile(DataModel):
    """checklist.yaml"""

    points: Annotated[list[ChecklistPoint], Field(min_length=1)]


@data_class(frozen=True, kw_only=True)
class StaircasePhrase(_Dated):
    """A staircase pattern (the pattern language of `bip_engine.staircase`), with when it is in force.

    `name`: what the flag calls the pattern (the pattern itself when not given); `unless`: patterns
    that, sharing a word with a match, make it mean something else ("ikke klar over" is about
    knowing, "kan ikke klare" about managing).
    """

    phrase: Annotated[str, Field(min_length=1)]
    name: str | None = None
    unless: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The pattern's name, or the pattern itself."""
        return (self.name or self.phrase).strip()


@data_class(frozen=True, kw_only=True)
class StaircaseSet(DataModel):
    """A named set of words a pattern may use as `@name`."""

    name: Annotated[str, Field(pattern=r"^[\w-]+$")]
    words: Annotated[list[str], Field(min_length=1)]


def _pattern_alone(phrases: Any) -> Any:
    """A pattern written alone is an entry with only its `phrase`."""
    if isinstance(phrases, list):
        return [{"phrase": item} if isinstance(item, str) else item for item in phrases]
    return phrases


@data_class(frozen=True, kw_only=True)
class StaircaseFile(DataModel):
    """staircase.yaml"""

    phrases: Annotated[list[StaircasePhrase], BeforeValidator(_pattern_alone)] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    sets: list[StaircaseSet] = field(default_factory=list)


def staircase_problems(path: str | None, data: Any, staircase: StaircaseFile) -> list[Problem]:
    """Each staircase pattern that cannot be read or names an unknown set, with its file and line."""
    from .staircase import PatternError, parse, set_names  # here: only a rulebook with patterns needs it
    from .yamlio import locate

    sets = [item.name for item in staircase.sets]
    problems = []
    for index, entry in enumerate(staircase.phrases):
        texts: list[tuple[tuple, str]] = [(("phrases", index, "phrase"), entry.phrase)]
        texts += [(("phrases", index, "unless", number), text) for number, text in enumerate(entry.unless)]
        for loc, text in texts:
            where, line = locate(data, loc, path)
            try:
                elements = parse(text)
            except PatternError as exc:
                problems.append(problem(exc.key, where, line, pattern=text, **exc.args_))
                continue
            for name in set_names(elements):
                if name not in sets:
                    problems.append(
                        problem("C004.set", where, line, pattern=text, set=name, hint_name=closest(name, sets))
                    )
    return problems


def _pick(variants: list, day: dt.date, keep_nearest: bool) -> Any:
    """The variant in force on `day`; else, when `keep_nearest`, the latest one before it (or the first)."""
    for item in variants:
        if item.in_force(day):
            return item
    if not keep_nearest:
        return None
    before = [item for item in variants if item.valid_to is not None and item.valid_to < day]
    return before[-1] if before else variants[0]


class Catalogue:
    """All catalogues of one rulebook, with look-ups by id and alias."""

    def __init__(
        self,
        indicators: IndicatorFile,
        interventions: InterventionFile,
        findings: FindingFile,
        checklist: ChecklistFile,
        staircase: StaircaseFile,
    ):
        self._files = (indicators, interventions, findings, checklist, staircase)
        self.indicators = {item.id: item for item in indicators.indicators}
        self.types = {item.id: item for item in interventions.types}
        self.interventions = {item.id: item for item in interventions.interventions}
        self.findings = {item.id: item for item in findings.findings}
        self.checklist = {item.number: item for item in checklist.points}
        self.staircase = list(staircase.phrases)
        self.phrases = list(dict.fromkeys(item.label for item in self.staircase))
        self._matcher: Any = None
        self.intervention_aliases: dict[str, str] = {}  # an intervention's id or alias, case folded -> its id
        for item in interventions.interventions:
            for name in (item.id, *item.aliases):
                self.intervention_aliases[name.casefold()] = item.id

    def variants(self) -> dict[str, dict[str, list]]:
        """Every dated entry by kind and id, in file order (phrases keyed by their text)."""
        indicators, interventions, findings, _, staircase = self._files
        result: dict[str, dict[str, list]] = {
            "indicator": {},
            "type": {},
            "intervention": {},
            "finding": {},
            "phrase": {},
        }
        for kind, items in (
            ("indicator", indicators.indicators),
            ("type", interventions.types),
            ("intervention", interventions.interventions),
            ("finding", findings.findings),
        ):
            for item in items:
                result[kind].setdefault(item.id, []).append(item)
        for phrase in staircase.phrases:
            result["phrase"].setdefault(phrase.phrase.strip(), []).append(phrase)
        return result

    def dated(self) -> bool:
        """Whether any entry has a validity period."""
        return any(
            getattr(item, "valid_from", None) or getattr(item, "valid_to", None)
            for items in self.variants().values()
            for variants in items.values()
            for item in variants
        )

    def at(self, day: dt.date) -> Catalogue:
        """The catalogue in force on `day`: indicators and phrases not in force are left out; an
        intervention, type or finding not in force keeps its nearest variant, so that older records
        and earlier results can still be read."""
        checklist, staircase = self._files[3:]
        if not self.dated():
            return self
        variants = self.variants()

        def pick(kind: str, keep: bool) -> list:
            chosen = (_pick(items, day, keep) for items in variants[kind].values())
            return [item for item in chosen if item is not None]

        phrases = [item for item in staircase.phrases if item.in_force(day)]
        return Catalogue(
            IndicatorFile(indicators=pick("indicator", False)),
            InterventionFile(types=pick("type", True), interventions=pick("intervention", True)),
            FindingFile(findings=pick("finding", True)),
            checklist,
            StaircaseFile(phrases=phrases, words=staircase.words, sets=staircase.sets),
        )

    def staircase_matcher(self) -> Any:
        """The compiled staircase patterns (a `bip_engine.staircase.Matcher`), built on first use."""
        if self._matcher is None:
            from .staircase import compile_matcher  # here: only notes need it

            staircase = self._files[4]
            self._matcher = compile_matcher(
                [(item.label, item.phrase, item.unless) for item in self.staircase],
                staircase.words,
                {item.name: item.words for item in staircase.sets},
            )
        return self._matcher

    def intervention_id(self, name: str) -> str | None:
        """The catalogue id for an intervention id or alias (case ignored), or None."""
        return self.intervention_aliases.get(name.strip().casefold())

    def citizen_indicators(self) -> list[str]:
        """The ids of the indicators the citizen rates."""
        return [item.id for item in self.indicators.values() if item.rated_by == "citizen"]

    def cross_problems(self, path: str) -> list[Problem]:
        """Problems between catalogues: interventions of unknown types, duplicate ids or aliases."""
        problems = []
        for item in self.interventions.values():
            if item.type not in self.types:
                problems.append(
                    problem(
                        "C002.type",
                        path,
                        intervention=item.id,
                        type=item.type,
                        hint_name=closest(item.type, self.types),
                    )
                )
        return problems
