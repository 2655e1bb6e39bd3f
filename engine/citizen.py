"""The citizen version of a check: a one-page, plain-language text to go through with the citizen.

It says where the citizen is now and how that was seen (the citizen's OWN ratings over time), what
has helped others in the same situation, and the next steps agreed. It never shows rule ids,
internal terms or anything the caseworker rated: the context handed to the templates holds only
citizen-rated indicators, the phase and flag ids (used to choose texts, never printed) and the
steps. The texts live in `guidance/<lang>/citizen.txt.j2` (blocks `title`, `now`, `seen`,
`helped`, `steps_intro`, `closing`), so the page can render the same blocks as HTML.

Next steps are not part of the record (its format stays as it is): they are agreed in the meeting,
so the caller passes them in (`bip check --next-step TEXT`, the page's text field). Without any,
the page has lines to write them on by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .render import Guidance
from .report import Report
from .rulebook import Rulebook

TEMPLATE = "citizen.txt.j2"
BLOCKS = ("title", "now", "seen", "helped", "steps_intro", "closing")


@dataclass(frozen=True)
class CitizenView:
    """The citizen version as parts: texts from the template blocks, and the citizen's own ratings."""

    language: str
    as_of: str
    phase: str | None
    title: str
    now: str
    seen: str
    helped: list[str]
    steps_intro: str
    closing: str
    dates: list[str] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)  # {id, label, scores aligned with dates}
    next_steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON and the page's templates)."""
        return asdict(self)


def citizen_context(report: Report, rulebook: Rulebook, lang: str, next_steps: Iterable[str] = ()) -> dict[str, Any]:
    """What the citizen templates may see: nothing caseworker-rated, no rule ids to print."""
    catalogue = rulebook.catalogue
    own = set(catalogue.citizen_indicators())
    trajectory = report.trajectory
    dates = list(trajectory.dates) if trajectory else []
    ratings = []
    for series in trajectory.indicators if trajectory else []:
        if series.id in own and series.rated_by == "citizen":
            ratings.append(
                {
                    "id": series.id,
                    "label": catalogue.indicators[series.id].label.get(lang),
                    "scores": list(series.scores),
                }
            )
    keep = [index for index in range(len(dates)) if any(r["scores"][index] is not None for r in ratings)]
    for rating in ratings:
        rating["scores"] = [rating["scores"][index] for index in keep]
    return {
        "language": lang,
        "as_of": report.as_of,
        "phase": report.phase.id if report.phase else None,
        "flags": [flag.id for flag in report.flags],
        "change": report.facts.get("change"),
        "dates": [dates[index] for index in keep],
        "ratings": ratings,
        "next_steps": [step.strip() for step in next_steps if step and step.strip()],
    }


def citizen_parts(
    report: Report, rulebook: Rulebook, guidance: Guidance, lang: str, next_steps: Iterable[str] = ()
) -> CitizenView:
    """The citizen version as structured parts (each text from its template block)."""
    citizen = citizen_context(report, rulebook, lang, next_steps)
    context = {"citizen": citizen, "width": 78}
    texts = {name: guidance.block(TEMPLATE, name, context) for name in BLOCKS}
    helped = [" ".join(part.split()) for part in texts["helped"].split("\n\n") if part.strip()]
    return CitizenView(
        language=lang,
        as_of=citizen["as_of"],
        phase=citizen["phase"],
        title=texts["title"],
        now=texts["now"],
        seen=texts["seen"],
        helped=helped,
        steps_intro=texts["steps_intro"],
        closing=texts["closing"],
        dates=citizen["dates"],
        ratings=citizen["ratings"],
        next_steps=citizen["next_steps"],
    )


def citizen_text(
    report: Report, rulebook: Rulebook, guidance: Guidance, lang: str, next_steps: Iterable[str] = (), width: int = 78
) -> str:
    """The citizen version as plain text, from `citizen.txt.j2`."""
    return guidance.render(TEMPLATE, {"citizen": citizen_context(report, rulebook, lang, next_steps), "width": width})
