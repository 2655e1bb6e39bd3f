"""What caseworkers' assessments tell policy staff: `bip log agreement --since ... --until ...`.

Every assessment in the decision log says whether the caseworker agreed with a logged check, and
may name the phase they would have chosen, a reason, and per flag whether they acted on it or found
it not relevant. `agreement` counts the assessments of the checks logged in a period (and, with a team map,
per team):

- the share agreed, in all, per decided phase and per phase rule that decided it (entries logged
  before the log kept the rule are counted under `NO_RULE`, shown as "(ukendt regel)");
- per flag the decision raised: the share agreed (a note "not relevant" is a disagreement with
  that flag, "acted" an agreement; without a note the assessment's overall answer counts);
- the disagreements: the decided phase and the phase chosen instead, counted, and the reasons
  grouped (the same words, ignoring case and spaces), most frequent first.

`render_agreement` writes it as text, markdown, json or a self-contained printable HTML page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import sqlalchemy as sa

from .. import clock
from ..messages import texts
from .schema import assessments, decisions
from .store import Store

FORMATS = ("text", "markdown", "json", "html")
TEMPLATES = Path(__file__).resolve().parent / "templates"
NO_PHASE = "none"
NO_RULE = "(unknown)"
"""The phase rule of a decision logged before the log kept it (or one that decided no phase)."""


@dataclass
class Share:
    """Agreed out of assessed."""

    agreed: int = 0
    assessed: int = 0

    def add(self, agrees: bool) -> None:
        self.assessed += 1
        self.agreed += bool(agrees)

    @property
    def percent(self) -> float:
        return round(100 * self.agreed / self.assessed, 1) if self.assessed else 0.0

    def as_dict(self) -> dict:
        return {"agreed": self.agreed, "assessed": self.assessed, "percent": self.percent}


@dataclass
class Agreement:
    """The assessments of one group (all, or one team) in a period."""

    overall: Share = field(default_factory=Share)
    phases: dict[str, Share] = field(default_factory=dict)
    rules: dict[str, Share] = field(default_factory=dict)  # phase rule id (or NO_RULE) -> share
    flags: dict[str, Share] = field(default_factory=dict)
    moves: Counter = field(default_factory=Counter)  # (decided phase, chosen phase) -> disagreements
    reasons: Counter = field(default_factory=Counter)  # normalised reason -> disagreements
    wording: dict[str, str] = field(default_factory=dict)  # normalised reason -> first wording seen

    def add(
        self,
        decided: str | None,
        flags: list[str],
        agrees: bool,
        chosen: str | None,
        reason: str | None,
        notes: Mapping,
        rule: str | None = None,
    ) -> None:
        """Count one assessment of a decision that set `decided` by the phase rule `rule` and raised `flags`."""
        self.overall.add(agrees)
        self.phases.setdefault(decided or NO_PHASE, Share()).add(agrees)
        self.rules.setdefault(rule or NO_RULE, Share()).add(agrees)
        for flag in flags:
            status = (notes.get(flag) or {}).get("status")
            self.flags.setdefault(flag, Share()).add(agrees if status is None else status == "acted")
        if agrees:
            return
        self.moves[(decided or NO_PHASE, chosen or NO_PHASE)] += 1
        if reason and reason.strip():
            key = " ".join(reason.split()).casefold()
            self.wording.setdefault(key, " ".join(reason.split()))
            self.reasons[key] += 1

    def as_dict(self) -> dict:
        return {
            "overall": self.overall.as_dict(),
            "phases": {phase: share.as_dict() for phase, share in sorted(self.phases.items())},
            "phase_rules": {rule: share.as_dict() for rule, share in sorted(self.rules.items())},
            "flags": {flag: share.as_dict() for flag, share in sorted(self.flags.items())},
            "disagreements": {
                "phases": [
                    {"decided": old, "chosen": new, "count": count}
                    for (old, new), count in sorted(self.moves.items(), key=lambda item: (-item[1], item[0]))
                ],
                "reasons": [
                    {"reason": self.wording[key], "count": count}
                    for key, count in sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))
                ],
            },
        }


@dataclass
class AgreementReport:
    """The agreement in a period: in all, and per team when a team map was given."""

    since: str
    until: str
    total: Agreement
    teams: dict[str, Agreement]

    def as_dict(self) -> dict:
        return {
            "since": self.since,
            "until": self.until,
            **self.total.as_dict(),
            "teams": {team: agreement.as_dict() for team, agreement in sorted(self.teams.items())},
        }


def agreement(
    store: Store,
    since: dt.date,
    until: dt.date,
    teams: Mapping[str, str] | None = None,
    team: str | None = None,
) -> AgreementReport:
    """The assessments of the checks logged from `since` to `until` (inclusive days in `clock.zone()`, the days of "today"), counted.

    `teams` maps a caseworker's user name to a team; `team` keeps only that team's assessments."""
    start, end = clock.day_start(since), clock.day_start(until + dt.timedelta(days=1))
    query = (
        sa.select(
            assessments.c.user_name,
            assessments.c.agrees,
            assessments.c.phase.label("chosen"),
            assessments.c.reason,
            assessments.c.flag_notes,
            decisions.c.phase.label("decided"),
            decisions.c.phase_rule,
            decisions.c.flags,
        )
        .join(decisions, decisions.c.decision_id == assessments.c.decision_id)
        .where(decisions.c.time >= start, decisions.c.time < end)
        .order_by(assessments.c.seq)
    )
    teams = teams or {}
    total, by_team = Agreement(), dict[str, Agreement]()
    with store.read() as conn:
        for row in conn.execute(query):
            group = teams.get(row.user_name)
            if team is not None and group != team:
                continue
            flags = [item["id"] for item in json.loads(row.flags)]
            notes = json.loads(row.flag_notes)
            args = (row.decided, flags, bool(row.agrees), row.chosen, row.reason, notes, row.phase_rule)
            total.add(*args)
            if group is not None:
                by_team.setdefault(group, Agreement()).add(*args)
    return AgreementReport(since.isoformat(), until.isoformat(), total, by_team)


def render_agreement(
    report: AgreementReport, fmt: str = "text", lang: str = "da", labels: Mapping[str, str] | None = None
) -> str:
    """The report as `text`, `markdown`, `json` or `html` (one self-contained, printable page); ends
    with a newline. `labels` shows phases by name (phase id -> label) instead of by id."""
    if fmt == "json":
        return json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"
    words = texts("agreement", lang)
    names = dict(labels or {})

    def label(phase: str) -> str:
        return names.get(phase, phase)

    def rule_name(rule: str) -> str:
        return words["unknown_rule"] if rule == NO_RULE else rule

    def share(item: Share) -> str:
        return words["share"].format(agreed=item.agreed, assessed=item.assessed, percent=_percent(item, lang))

    groups: list[tuple[str | None, Agreement]] = [(None, report.total), *sorted(report.teams.items())]
    if fmt == "html":
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
        )
        page = env.get_template("agreement.html.j2").render(
            r=report,
            w=words,
            lang=lang,
            groups=groups,
            label=label,
            rule_name=rule_name,
            share=share,
            percent=lambda i: _percent(i, lang),
        )
        return page.rstrip("\n") + "\n"
    heading = (lambda title: [f"## {title}", ""]) if fmt == "markdown" else (lambda title: [title, "-" * len(title)])
    bullet = "- " if fmt == "markdown" else "  "
    out = ["# " + words["title"] if fmt == "markdown" else words["title"], ""]
    out += [words["period"].format(since=report.since, until=report.until), ""]
    for team, group in groups:
        prefix = f"{words['team']} {team}: " if team else ""
        out += heading(prefix + words["overall"])
        out += [share(group.overall), ""]
        for kind, shares in (("phases", group.phases), ("rules", group.rules), ("flags", group.flags)):
            out += [words[kind] + ":"]
            name_of = {"phases": label, "rules": rule_name}.get(kind, str)
            for name, item in sorted(shares.items()):
                out.append(bullet + f"{name_of(name)}: " + share(item))
            out.append("")
        data = group.as_dict()["disagreements"]
        out += [words["moves"] + ":"]
        moves = [f"{label(row['decided'])} → {label(row['chosen'])}: {row['count']}" for row in data["phases"]]
        out += [bullet + line for line in moves] or [bullet + words["none"]]
        out += ["", words["reasons"] + ":"]
        out += [bullet + f"{row['count']} × {row['reason']}" for row in data["reasons"]] or [bullet + words["none"]]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _percent(share: Share, lang: str) -> str:
    shown = f"{share.percent:.1f}"
    return shown.replace(".", ",") if lang == "da" else shown


def read_teams(path: str) -> dict[str, str]:
    """A team map: a CSV file of `user,team` lines (a header line `user,team` is allowed)."""
    import csv

    with open(path, encoding="utf-8", newline="") as stream:
        rows = [row for row in csv.reader(stream) if len(row) >= 2]
    return {row[0].strip(): row[1].strip() for row in rows if row[0].strip() and row[0].strip() != "user"}
