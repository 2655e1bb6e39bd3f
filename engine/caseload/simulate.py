"""A synthetic cohort of citizen records, calibrated to the BIP findings.

Every record is invented by a random generator: no real person's data is used or imitated. The
cohort is for benchmarks, demonstrations and tests of `bip batch`, where real records must not go.

What is calibrated (defaults as of 22 November 2026, two years of history):
- progression measurements about every three months (90 days with some spread) on every indicator
  of the catalogue; about 10 % of measurements missed, and for about 20 % of citizens the latest
  measurement is more than three months old;
- the interventions active in the last three months: about 23 % none, about 50 % exactly one
  (job-oriented 24 %, health 14 %, social 6 %, upskilling 6 % of all citizens) and about 26 %
  combined, 18 % of all citizens with a combination that includes a job-oriented intervention;
  before that a history of earlier interventions, with some cancelled and some planned ones, and a
  few citizens (3-4 %) with five or more internships;
- trajectories that follow the findings: no intervention drifts down, a job-oriented intervention
  alone rises a little, a combination with a job-oriented one rises most, other types alone stay
  flat; with noise, sharp falls (about 5 %) and some citizens at a very low level, so that all
  four phases occur under the default phase rules;
- caseworker changes (0-3, about 25 % with a change in the last six months), a caseworker belief
  that is sometimes low and sometimes far from the citizen's own belief, and notes for about 30 %,
  some with staircase phrases;
- the data as it is kept (record format 1.1): for about 3 % the latest measurement holds only the
  caseworker's scores (for about 1 % every measurement does), and for about 3 % the two latest measurements are more than six months
  apart; about 5 % of earlier interventions were `interrupted` after one to four weeks, and about
  3 % are `completed` without an end date; meetings about every four to six weeks over the last
  year (mostly held, some cancelled, some no-shows), and for about 10 % none held in the last six
  weeks.

These data-keeping parts draw from a second random stream, so the rest of a citizen's record is the
same as before they were added.

`calibration_summary` measures the shares that matter in any cohort of records. Intervention and
indicator ids are read from the rulebook's catalogue files.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from ..errors import KeyedError
from ..paths import default_rules
from ..rulebook import load_rulebook
from .readers import CSV_COLUMNS

DEFAULT_AS_OF = date(2026, 11, 22)
THREE_MONTHS = timedelta(days=91)
SIX_MONTHS = timedelta(days=182)

JOB_ORIENTED, UPSKILLING, SOCIAL, HEALTH = "job_oriented", "upskilling", "social", "health"
MAIN_TYPES = (JOB_ORIENTED, UPSKILLING, SOCIAL, HEALTH)

#: Staircase phrases that `calibration_summary` looks for when the rule folder has no staircase.yaml.
STAIRCASE_PHRASES = ("ikke klar", "ikke motiveret", "brug for ro", "for dårlig", "mødestabil", "først bolig")

# Who has which interventions in the last three months (BIP: 23 % none, about half one, about a
# quarter combined, 18 % combined with a job-oriented one).
_CURRENT_MIX = (
    ("none", 0.235),
    (JOB_ORIENTED, 0.24),
    (HEALTH, 0.14),
    (SOCIAL, 0.06),
    (UPSKILLING, 0.06),
    ("combined_job", 0.18),
    ("combined_other", 0.085),
)
# Mean change of the latent level per three-month interval while the current interventions run.
_DRIFT = {
    "none": -0.3,
    JOB_ORIENTED: 0.18,
    "combined_job": 0.35,
    HEALTH: 0.0,
    SOCIAL: 0.0,
    UPSKILLING: 0.0,
    "combined_other": 0.03,
}
_HISTORY_TYPES = ((JOB_ORIENTED, 0.45), (HEALTH, 0.25), (SOCIAL, 0.15), (UPSKILLING, 0.15))

_STAIRCASE_NOTES = (
    "Borgeren er ikke klar til virksomhedspraktik endnu; vi ser på det igen efter nytår.",
    "Vurderes ikke motiveret for jobrettede tilbud lige nu.",
    "Borgeren har brug for ro, indtil sagen om boligen er afgjort.",
    "Er for dårlig til at deltage i forløb, oplyser borgeren.",
    "Skal være mødestabil i det nuværende forløb, før praktik kan komme på tale.",
    "Planen er først bolig, så behandling, og derefter en praktik.",
    "Borgeren virker ikke klar til at møde på en arbejdsplads.",
    "Har brug for ro efter en svær periode; vi venter med nye tiltag.",
    "Fremmødet er ustabilt; skal først være mødestabil hos os.",
    "Virker ikke motiveret, udeblev fra to samtaler.",
)
_NEUTRAL_NOTES = (
    "Samtalen foregik telefonisk, og borgeren deltog aktivt.",
    "Borgeren vil gerne prøve lagerarbejde.",
    "Vi følger op om fire uger.",
    "Borgeren fortæller om god kontakt til sin mentor.",
    "Har selv fundet en mulig praktikplads i en dagligvarebutik.",
    "Vi talte om ønsket om en uddannelse inden for pleje.",
    "Lægeattesten er modtaget uden nye oplysninger.",
    "Borgeren er interesseret i kørekort med henblik på job som chauffør.",
    "Aftalt at borgeren selv kontakter to virksomheder inden næste møde.",
    "Borgeren har været til samtale hos en lokal arbejdsgiver.",
    "Ønsker hjælp til at skrive et CV.",
    "Netværksmødet med familien gik godt.",
)


@dataclass(frozen=True)
class _Catalogue:
    """What the simulator needs from the catalogue files."""

    citizen_indicators: tuple[str, ...]
    caseworker_indicators: tuple[str, ...]
    by_type: dict[str, tuple[str, ...]]
    internships: frozenset[str]
    internship_names: frozenset[str]
    type_of: dict[str, str]
    staircase: Any  # the rulebook's compiled staircase patterns (`bip_engine.staircase.Matcher`)


@lru_cache(maxsize=8)
def _catalogue(rules_dir: Path) -> _Catalogue:
    catalogue = load_rulebook(rules_dir).catalogue
    interventions = catalogue.interventions.values()
    by_type = {name: tuple(item.id for item in interventions if item.type == name) for name in MAIN_TYPES}
    missing = [name for name, ids in by_type.items() if not ids]
    if missing:
        raise KeyedError("simulate.missing_types", path=str(rules_dir / "interventions.yaml"), types=", ".join(missing))
    type_of, internship_names = {}, set()
    for item in interventions:
        for name in (item.id, *item.aliases):
            type_of[name.casefold()] = item.type
            if item.internship:
                internship_names.add(name.casefold())
    indicators = catalogue.indicators.values()
    return _Catalogue(
        citizen_indicators=tuple(i.id for i in indicators if i.rated_by == "citizen"),
        caseworker_indicators=tuple(i.id for i in indicators if i.rated_by == "caseworker"),
        by_type=by_type,
        internships=frozenset(item.id for item in interventions if item.internship),
        internship_names=frozenset(internship_names),
        type_of=type_of,
        staircase=catalogue.staircase_matcher(),
    )


def _rules(rules_dir: str | Path | None) -> _Catalogue:
    return _catalogue(Path(rules_dir).resolve() if rules_dir else default_rules())


# --- The cohort ---------------------------------------------------------------------------------


def generate_cohort(
    n: int, seed: int = 0, years: float = 2.0, as_of: date | str = DEFAULT_AS_OF, rules_dir: str | Path | None = None
) -> Iterator[dict]:
    """Yield `n` synthetic citizen records, one at a time, ids `SIM-000001` onwards.

    Citizen i depends only on (seed, i): the same seed gives the same records, and citizen i is
    the same whatever `n` is. `years` is the length of the history before `as_of` (at least half a
    year is generated, so that the three- and six-month windows fit).
    """
    if n < 0 or years <= 0:
        raise KeyedError("simulate.bad_size")
    as_of = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    catalogue = _rules(rules_dir)
    for index in range(1, n + 1):
        rng = random.Random(f"bip-sim:{seed}:{index}")
        record = _citizen(index, rng, as_of, years, catalogue)
        _as_kept(record, random.Random(f"bip-sim-kept:{seed}:{index}"), as_of, catalogue)
        yield record


def _citizen(index: int, rng: random.Random, as_of: date, years: float, catalogue: _Catalogue) -> dict:
    span = max(int(years * 365.25), 180)
    enrolled = as_of - timedelta(days=span)
    if rng.random() < 0.2:
        enrolled += timedelta(days=rng.randint(0, max(0, span - 200)))
    kind = _weighted(rng, _CURRENT_MIX)
    record = {
        "id": f"SIM-{index:06d}",
        "measurements": _measurements(rng, kind, enrolled, as_of, catalogue),
        "interventions": _interventions(rng, kind, enrolled, as_of, catalogue),
        "caseworkers": _caseworkers(rng, enrolled, as_of),
    }
    notes = _notes(rng)
    if notes:
        record["notes"] = notes
    return record


def _weighted(rng: random.Random, choices: Iterable[tuple[str, float]]) -> str:
    names, weights = zip(*choices, strict=True)
    return rng.choices(names, weights)[0]


def _days(n: int) -> timedelta:
    return timedelta(days=n)


# --- Interventions ------------------------------------------------------------------------------


def _interventions(rng: random.Random, kind: str, enrolled: date, as_of: date, catalogue: _Catalogue) -> list[dict]:
    items = [_current(rng, main_type, enrolled, as_of, catalogue) for main_type in _current_types(rng, kind)]
    history_end = as_of - _days(100)
    if rng.random() < 0.035:
        items += _serial_internships(rng, enrolled, history_end, catalogue)
    else:
        items += _history(rng, enrolled, history_end, catalogue)
    if rng.random() < 0.12:
        items.append(_planned(rng, as_of, catalogue))
    if rng.random() < 0.07:
        items.append(_cancelled(rng, enrolled, as_of, catalogue))
    return sorted(items, key=lambda item: item["start"])


def _current_types(rng: random.Random, kind: str) -> list[str]:
    """The main types of the interventions active in the last three months."""
    if kind == "none":
        return []
    if kind == "combined_job":
        partners = rng.choices(
            (HEALTH, SOCIAL, UPSKILLING, JOB_ORIENTED), (0.4, 0.25, 0.2, 0.15), k=rng.choice((1, 1, 2))
        )
        return [JOB_ORIENTED, *partners]
    if kind == "combined_other":
        return rng.sample((HEALTH, SOCIAL, UPSKILLING), rng.choice((2, 2, 3)))
    return [kind]


def _pick(rng: random.Random, main_type: str, catalogue: _Catalogue) -> str:
    ids = catalogue.by_type[main_type]
    internships = [name for name in ids if name in catalogue.internships]
    if internships and rng.random() < 0.3:
        return rng.choice(internships)
    return rng.choice([name for name in ids if name not in catalogue.internships] or ids)


def _current(rng: random.Random, main_type: str, enrolled: date, as_of: date, catalogue: _Catalogue) -> dict:
    # Every current intervention runs at least from 80 to 70 days before as_of, so they are parallel.
    start = max(enrolled, as_of - _days(rng.randint(80, 400)))
    item = {"type": _pick(rng, main_type, catalogue), "start": start.isoformat()}
    if rng.random() < 0.35:
        item["end"] = (as_of - _days(rng.randint(5, 70))).isoformat()
        item["status"] = "completed"
    elif rng.random() < 0.6:
        item["status"] = "ongoing"
    return item


def _history(rng: random.Random, enrolled: date, until: date, catalogue: _Catalogue) -> list[dict]:
    count = rng.choices((0, 1, 2, 3, 4, 5), (0.15, 0.25, 0.25, 0.2, 0.1, 0.05))[0]
    items, day = [], enrolled + _days(rng.randint(0, 60))
    for _ in range(count):
        end = day + _days(rng.randint(30, 180))
        if end > until:
            break
        item = {
            "type": _pick(rng, _weighted(rng, _HISTORY_TYPES), catalogue),
            "start": day.isoformat(),
            "end": end.isoformat(),
            "status": "completed",
        }
        if rng.random() < 0.08:
            item["end"] = (day + _days(rng.randint(1, 20))).isoformat()
            item["status"] = "cancelled"
        items.append(item)
        day = end + _days(rng.randint(0, 120))
    return items


def _serial_internships(rng: random.Random, enrolled: date, until: date, catalogue: _Catalogue) -> list[dict]:
    """Five or six short internships in a row: the pattern the repeated-internship finding is about."""
    internships = sorted(catalogue.internships) or list(catalogue.by_type[JOB_ORIENTED])
    items, day = [], enrolled + _days(rng.randint(0, 20))
    for _ in range(rng.choice((5, 5, 6))):
        end = day + _days(rng.randint(28, 60))
        if end > until:
            break
        items.append(
            {"type": rng.choice(internships), "start": day.isoformat(), "end": end.isoformat(), "status": "completed"}
        )
        day = end + _days(rng.randint(5, 25))
    return items


def _planned(rng: random.Random, as_of: date, catalogue: _Catalogue) -> dict:
    start = as_of + _days(rng.randint(5, 75))
    item = {"type": _pick(rng, _weighted(rng, _HISTORY_TYPES), catalogue), "start": start.isoformat()}
    if rng.random() < 0.5:
        item["end"] = (start + _days(rng.randint(30, 120))).isoformat()
    item["status"] = "planned"
    return item


def _cancelled(rng: random.Random, enrolled: date, as_of: date, catalogue: _Catalogue) -> dict:
    start = enrolled + _days(rng.randint(0, max(0, (as_of - enrolled).days - 10)))
    return {
        "type": _pick(rng, _weighted(rng, _HISTORY_TYPES), catalogue),
        "start": start.isoformat(),
        "status": "cancelled",
    }


# --- Measurements -------------------------------------------------------------------------------


def _measurements(rng: random.Random, kind: str, enrolled: date, as_of: date, catalogue: _Catalogue) -> list[dict]:
    if rng.random() < 0.01:
        return []
    dates = _measurement_dates(rng, enrolled, as_of)
    levels = _levels(rng, kind, dates, as_of)
    citizen_offsets = {name: rng.gauss(0, 0.35) for name in catalogue.citizen_indicators}
    belief_offset = _belief_offset(rng, levels[-1])
    result = []
    for day, level in zip(dates, levels, strict=True):
        scores = {name: _score(level + offset + rng.gauss(0, 0.35)) for name, offset in citizen_offsets.items()}
        for name in catalogue.caseworker_indicators:
            offset = belief_offset if name == "caseworker_belief" else belief_offset / 2
            scores[name] = _score(level + offset + rng.gauss(0, 0.4))
        result.append({"date": day.isoformat(), "scores": scores})
    return result


def _measurement_dates(rng: random.Random, enrolled: date, as_of: date) -> list[date]:
    """About every 90 days back from the latest; some missed; the latest sometimes overdue."""
    overdue = rng.random() < 0.2
    last = as_of - _days(rng.randint(95, 200) if overdue else rng.randint(3, 88))
    dates, day = [last], last
    while True:
        day -= _days(min(115, max(70, round(rng.gauss(91, 9)))))
        if day < enrolled:
            break
        if rng.random() >= 0.1:
            dates.append(day)
    return dates[::-1]


def _levels(rng: random.Random, kind: str, dates: list[date], as_of: date) -> list[float]:
    """The citizen's latent level (1-5) at each measurement."""
    very_low = rng.random() < 0.03
    base = rng.uniform(1.0, 1.6) if very_low else min(4.5, max(1.4, rng.gauss(2.95, 0.5)))
    drift = _DRIFT[kind] + rng.gauss(0, 0.1)
    if very_low:
        drift = min(drift, 0.0)
    # The current interventions (or the lack of any) shape the last intervals.
    current_from = as_of - _days(200 if kind == "none" else 300)
    levels, level = [], base
    for index, day in enumerate(dates):
        if index:
            if day >= current_from:
                step = drift + rng.gauss(0, 0.12)
            else:
                step = 0.3 * (base - level) + rng.gauss(0, 0.15)
            level = min(5.0, max(1.0, level + step))
        levels.append(level)
    if len(levels) >= 2 and rng.random() < 0.05:
        levels[-1] = max(1.0, levels[-1] - rng.uniform(1.2, 1.9))
    return levels


def _belief_offset(rng: random.Random, level: float) -> float:
    """How far the caseworker's ratings sit from the citizen's; sometimes two points or more."""
    if rng.random() < 0.08:
        gap = rng.uniform(1.8, 2.6)
        return gap if level < 3 else -gap
    return rng.gauss(0, 0.35)


def _score(value: float) -> int:
    return min(5, max(1, round(value)))


# --- The data as it is kept: gaps, interrupted interventions, meetings -------------------------------


def _as_kept(record: dict, rng: random.Random, as_of: date, catalogue: _Catalogue) -> None:
    """Add what real records hold besides the ideal: incomplete and sparse measurements, interventions
    that stopped or lack an end date, and the meetings held, cancelled or missed (in place)."""
    measurements = record["measurements"]
    draw = rng.random()
    if measurements and draw < 0.01:  # the citizen was never asked: no phase can be given
        for measurement in measurements:
            measurement["scores"] = {name: measurement["scores"][name] for name in catalogue.caseworker_indicators}
    elif len(measurements) >= 3 and draw < 0.04:
        latest = measurements[-1]
        latest["scores"] = {name: latest["scores"][name] for name in catalogue.caseworker_indicators}
    elif len(measurements) >= 3 and rng.random() < 0.03:
        latest = date.fromisoformat(measurements[-1]["date"])
        earlier = [m for m in measurements[:-1] if latest - date.fromisoformat(m["date"]) > SIX_MONTHS]
        if earlier:
            record["measurements"] = [*earlier, measurements[-1]]
    for item in record["interventions"]:
        if item.get("status") == "completed" and "end" in item:
            start, end = date.fromisoformat(item["start"]), date.fromisoformat(item["end"])
            draw = rng.random()
            if draw < 0.05 and (end - start).days > 30:
                item["end"] = (start + _days(rng.randint(7, 28))).isoformat()
                item["status"] = "interrupted"
            elif draw < 0.08:
                del item["end"]
    record["meetings"] = _meetings(rng, as_of)


def _meetings(rng: random.Random, as_of: date) -> list[dict]:
    """Meetings about every four to six weeks over the last year; for about 10 % none held lately."""
    quiet = rng.random() < 0.1
    day = as_of - _days(rng.randint(43, 90) if quiet else rng.randint(1, 40))
    meetings: list[dict] = []
    while day > as_of - _days(365):
        status = (
            "held"
            if quiet and not meetings
            else _weighted(rng, (("held", 0.85), ("cancelled", 0.08), ("no_show", 0.07)))
        )
        meetings.append(
            {
                "date": day.isoformat(),
                "kind": rng.choice(("samtale", "samtale", "opfølgning", "netværksmøde")),
                "status": status,
            }
        )
        day -= _days(rng.randint(28, 42))
    return meetings[::-1]


# --- Caseworkers and notes ----------------------------------------------------------------------


def _caseworkers(rng: random.Random, enrolled: date, as_of: date) -> list[dict]:
    recent = rng.random() < 0.25
    older = rng.choices((0, 1, 2), (0.55, 0.3, 0.15))[0]
    latest_older = as_of - _days(190)
    room = (latest_older - enrolled).days - 30
    days = sorted(enrolled + _days(30 + rng.randint(0, room)) for _ in range(older)) if room > 0 else []
    if recent:
        days.append(as_of - _days(rng.randint(3, 175)))
    chain = [rng.randint(1, 120)]
    for _ in days:
        chain.append(rng.choice([n for n in range(1, 121) if n != chain[-1]]))
    starts = [enrolled, *days]
    return [
        {"id": f"cw-{number}", "from": day.isoformat(), "team": _caseworker_team(number)}
        for number, day in zip(chain, starts, strict=True)
    ]


def _caseworker_team(number: int) -> str:
    """The team of simulated caseworker `cw-NUMBER`: six teams of twenty (cw-1..20 in team-1, ...)."""
    return f"team-{(number - 1) // 20 + 1}"


def _notes(rng: random.Random) -> str | None:
    if rng.random() >= 0.3:
        return None
    sentences = rng.sample(_NEUTRAL_NOTES, rng.randint(1, 2))
    if rng.random() < 0.45:
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(_STAIRCASE_NOTES))
    return " ".join(sentences)


# --- Writing ------------------------------------------------------------------------------------


def write_jsonl(records: Iterable[dict], fp: IO[str]) -> int:
    """Write records as JSON Lines to a text file; return how many were written."""
    count = 0
    for record in records:
        fp.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(records: Iterable[dict], out_dir: str | Path) -> dict[str, Path]:
    """Write records as the three CSV exports that `caseload_io.read_csv_exports` reads.

    Writes measurements.csv, interventions.csv and caseworkers.csv in `out_dir` (created if need
    be), streaming, citizens in the same order in all three. Notes are not part of the exports. A
    citizen with no measurements gets a measurements row with only the citizen_id. Returns the paths.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{kind}.csv" for kind in CSV_COLUMNS}
    streams = {kind: path.open("w", encoding="utf-8", newline="") for kind, path in paths.items()}
    try:
        writers = {kind: csv.writer(stream, lineterminator="\n") for kind, stream in streams.items()}
        for kind, writer in writers.items():
            writer.writerow(CSV_COLUMNS[kind])
        for record in records:
            _write_record(record, writers)
    finally:
        for stream in streams.values():
            stream.close()
    return paths


def _write_record(record: dict, writers: dict) -> None:
    citizen = record["id"]
    for measurement in record.get("measurements", []):
        for indicator, score in measurement["scores"].items():
            writers["measurements"].writerow((citizen, measurement["date"], indicator, score))
    if not record.get("measurements"):
        writers["measurements"].writerow((citizen, "", "", ""))
    for item in record.get("interventions", []):
        writers["interventions"].writerow(
            (citizen, item["type"], item["start"], item.get("end", ""), item.get("status", ""))
        )
    for entry in record.get("caseworkers", []):
        writers["caseworkers"].writerow((citizen, entry["id"], entry["from"], entry.get("team", "")))


# --- Calibration --------------------------------------------------------------------------------


def calibration_summary(
    records: Iterable[dict], as_of: date | str = DEFAULT_AS_OF, rules_dir: str | Path | None = None
) -> dict:
    """The shares of citizens (0-1) that the simulator is calibrated to, measured in `records`.

    Interventions count as active in the last three months when they started on or before
    `as_of`, have no end or ended at most 91 days before it, and are not planned or cancelled.
    Keys: citizens (a count), no_intervention, one_intervention, combined,
    combined_with_job_oriented, single_<type> for each main type, internships_5_plus (counting
    planned and ongoing, not cancelled ones), measurement_overdue (none, or latest more than 91
    days old), caseworker_change_6m, with_notes and notes_with_staircase_phrase.
    """
    day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    catalogue = _rules(rules_dir)
    counts: Counter[str] = Counter()
    for record in records:
        counts["citizens"] += 1
        counts.update(_calibration_keys(record, day, catalogue))
    total = counts["citizens"]
    keys = [
        "no_intervention",
        "one_intervention",
        "combined",
        "combined_with_job_oriented",
        *(f"single_{name}" for name in MAIN_TYPES),
        "internships_5_plus",
        "measurement_overdue",
        "caseworker_change_6m",
        "with_notes",
        "notes_with_staircase_phrase",
    ]
    return {"citizens": total, **{key: counts[key] / total if total else 0.0 for key in keys}}


def _calibration_keys(record: dict, as_of: date, catalogue: _Catalogue) -> list[str]:
    """The calibration keys one record counts towards."""
    active = _active_types(record.get("interventions", []), as_of, catalogue)
    keys = []
    if not active:
        keys.append("no_intervention")
    elif len(active) == 1:
        keys += ["one_intervention", f"single_{active[0]}"]
    else:
        keys.append("combined")
        if JOB_ORIENTED in active:
            keys.append("combined_with_job_oriented")
    internships = sum(
        1
        for item in record.get("interventions", [])
        if item.get("status") != "cancelled" and str(item["type"]).casefold() in catalogue.internship_names
    )
    if internships >= 5:
        keys.append("internships_5_plus")
    dates = [date.fromisoformat(str(m["date"])) for m in record.get("measurements", [])]
    if not dates or as_of - max(dates) > THREE_MONTHS:
        keys.append("measurement_overdue")
    if any(as_of - date.fromisoformat(str(c["from"])) <= SIX_MONTHS for c in record.get("caseworkers", [])[1:]):
        keys.append("caseworker_change_6m")
    notes = (record.get("notes") or "").casefold()
    if notes:
        keys.append("with_notes")
        if (
            catalogue.staircase.find(record.get("notes"))
            if catalogue.staircase.patterns
            else any(phrase in notes for phrase in STAIRCASE_PHRASES)
        ):
            keys.append("notes_with_staircase_phrase")
    return keys


def _active_types(interventions: list[dict], as_of: date, catalogue: _Catalogue) -> list[str]:
    """The main type of each intervention active in the three months before `as_of`."""
    types = []
    for item in interventions:
        start = date.fromisoformat(str(item["start"]))
        end = date.fromisoformat(str(item["end"])) if item.get("end") else None
        if item.get("status") in ("planned", "cancelled") or start > as_of:
            continue
        if end is None or end >= as_of - THREE_MONTHS:
            types.append(catalogue.type_of.get(str(item["type"]).casefold(), "unknown"))
    return types
