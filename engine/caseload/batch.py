"""Checking a whole caseload: stream records in, evaluate (in parallel if asked), rows out.

Each record becomes one triage `Row`: id, phase, confidence, flag counts by severity and the flag
ids. A record that cannot be read or is invalid becomes a `Rejection` naming its source and
problems; it never stops the others. Evaluation is per citizen and stateless, so it runs in
worker processes in windows of records, and the rows come back in input order: the output of
`--workers N` is identical to one process. Memory stays flat: records are read, evaluated and
handed on as they come; only the triage sort spills to disk (`extsort`).

Triage order (most urgent first):
1. phase: derailment, regress, no phase (no measurement), standstill, progress;
2. more high-severity flags first, then more medium, then more low;
3. citizen id, as a tie-breaker, so the order is fully determined.

Every batch output names what it was computed with (`provenance`): the rulebook (name, version,
hash, release), the check date, the date that selected the rules and the software version. The CLI
and `/v1/batch` build it with the same function; `trailer` is the last line of a JSON Lines batch.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ..check import Checker
from ..errors import BipError, Problem
from ..messages import text
from ..rulebook import CompiledRule, Rulebook
from ..severity import SEVERITY_ORDER
from .extsort import external_sort
from .readers import RawLine, RawRecord, ReadProblem
from .unique import SeenIds, duplicate_problem

PHASE_URGENCY = {"derailment": 0, "regress": 1, None: 2, "standstill": 3, "progress": 4}
WINDOW = 4000


@dataclass(frozen=True)
class Row:
    """One citizen's triage line."""

    citizen_id: str
    phase: str | None
    confidence: str | None
    high: int
    medium: int
    low: int
    flags: list[str]
    source: str
    phase_rule: str | None = None  # the rule that decided the phase: logged by /v1/batch, not a column

    def as_dict(self) -> dict:
        """The row as a plain dict (for JSON and CSV; without `phase_rule`); faster than `dataclasses.asdict`."""
        return {
            "citizen_id": self.citizen_id,
            "phase": self.phase,
            "confidence": self.confidence,
            "high": self.high,
            "medium": self.medium,
            "low": self.low,
            "flags": list(self.flags),
            "source": self.source,
        }


@dataclass(frozen=True)
class Rejection:
    """A record that could not be checked, and why: each problem as `{code, message, path, line}`.

    The messages are in the batch's language; `path` is the problem's file or line source and
    `line` its line in that file (none when unknown)."""

    source: str
    citizen_id: str | None
    problems: list[dict[str, Any]]

    def text(self, lang: str = "en") -> str:
        """The problems on one line: `CODE message (line N); ...` (for the terminal)."""
        line = text("batch.line", lang)
        return "; ".join(
            f"{item['code']} {item['message']}" + (line.format(line=item["line"]) if item["line"] else "")
            for item in self.problems
        )


def triage_key(row: dict) -> tuple:
    """The sort key of the documented triage order."""
    return (
        PHASE_URGENCY.get(row["phase"], len(PHASE_URGENCY)),
        -row["high"],
        -row["medium"],
        -row["low"],
        row["citizen_id"],
    )


@dataclass
class Summary:
    """Counts over a batch: N read = M evaluated + K rejected, citizens per phase, flags by frequency."""

    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    phases: Counter = field(default_factory=Counter)
    flags: Counter = field(default_factory=Counter)

    def add(self, item: Row | Rejection) -> None:
        """Count one result."""
        self.read += 1
        if isinstance(item, Rejection):
            self.rejected += 1
        else:
            self.evaluated += 1
            self.phases[item.phase or "none"] += 1
            self.flags.update(item.flags)

    def as_dict(self) -> dict:
        """Plain data, phases in urgency order and flags by frequency (then id)."""
        order = [phase or "none" for phase in PHASE_URGENCY]
        return {
            "read": self.read,
            "evaluated": self.evaluated,
            "rejected": self.rejected,
            "phases": {phase: self.phases[phase] for phase in order if self.phases[phase]},
            "flags": dict(sorted(self.flags.items(), key=lambda item: (-item[1], item[0]))),
        }


def software_version() -> str:
    """The version of bip-engine (`bip_engine.__version__`)."""
    from .. import __version__

    return str(__version__)


def provenance(book: Rulebook, as_of: dt.date, rules_as_of: dt.date | None = None) -> dict[str, Any]:
    """What a batch was computed with: rulebook, release, check date, rules date and software version.

    `release` is the release hash when the rules were loaded from a release store (`--release`),
    else None; `rules_as_of` is the date that selected the rules in force (the check date unless
    given). The CLI's outputs and the trailer of `/v1/batch` are built from this one dict.
    """
    return {
        "rulebook": {"name": book.name, "version": book.version, "hash": book.content_hash, "release": book.release},
        "as_of": as_of.isoformat(),
        "rules_as_of": (rules_as_of or as_of).isoformat(),
        "software": {"name": "bip-engine", "version": software_version()},
    }


def trailer(
    summary: Summary, source: dict[str, Any], complete: bool = True, next_line: int | None = None
) -> dict[str, Any]:
    """The last line of a JSON Lines batch: the counts, whether every line was read, and the provenance.

    A batch that stopped early (`complete` false) names `next_line`, the first line of its input it
    did not process: sending the input again from that line on resumes it.
    """
    stopped = {} if complete else {"next_line": next_line}
    return {"summary": {**summary.as_dict(), "complete": complete, **stopped, **source}}


@dataclass(frozen=True)
class BatchSettings:
    """What a worker needs to build its own checker; `lang` is the language of the rejection messages."""

    rules: str | None
    engine: str | None
    as_of: dt.date
    lang: str = "en"
    rules_as_of: dt.date | None = None  # the date that selects the rules (default: as_of)


def check_one(
    checker: Checker,
    item: RawRecord | RawLine | ReadProblem,
    as_of: dt.date,
    lang: str = "en",
    rules_as_of: dt.date | None = None,
) -> Row | Rejection:
    """Validate and evaluate one read item; a bad record becomes a `Rejection` (messages in `lang`)."""
    if isinstance(item, RawLine):
        item = item.parse()
    if isinstance(item, ReadProblem):
        return Rejection(item.source, None, [problem_row(item.problem, lang)])
    citizen_id = item.data.get("id") if isinstance(item.data.get("id"), str) else None
    try:
        evaluation = checker.evaluate(checker.parse_record(item.data, item.source), as_of, rules_as_of)
    except BipError as error:
        return Rejection(item.source, citizen_id, [problem_row(p, lang) for p in error.problems])
    severities = Counter(rule.severity for rule in strongest_rules(evaluation.outcome.flag_rules))
    return Row(
        evaluation.record.id,
        evaluation.phase,
        evaluation.facts["confidence"] if evaluation.phase else None,
        severities["high"],
        severities["medium"],
        severities["low"],
        evaluation.flags,
        item.source,
        evaluation.outcome.phase_rule.id if evaluation.outcome.phase_rule else None,
    )


def problem_row(item: Problem, lang: str) -> dict[str, Any]:
    """A problem of a rejected record as batch output gives it: code, message in `lang`, path, line."""
    return {"code": item.code, "message": item.text(lang), "path": item.path, "line": item.line}


def strongest_rules(rules: Iterable[CompiledRule]) -> list[CompiledRule]:
    """One rule per flag: the most severe one (rules raising the same flag count once)."""
    best: dict = {}
    for rule in rules:
        if (
            rule.conclusion not in best
            or SEVERITY_ORDER[rule.severity] < SEVERITY_ORDER[best[rule.conclusion].severity]
        ):
            best[rule.conclusion] = rule
    return list(best.values())


_worker_checker: Checker | None = None
_worker_settings: BatchSettings | None = None


def _init_worker(settings: BatchSettings) -> None:
    global _worker_checker, _worker_settings
    _worker_checker = Checker(settings.rules, engine=settings.engine)
    _worker_settings = settings


def _work(item: RawRecord | RawLine | ReadProblem) -> Row | Rejection:
    assert _worker_checker is not None and _worker_settings is not None, "_init_worker runs first"
    return check_one(_worker_checker, item, _worker_settings.as_of, _worker_settings.lang, _worker_settings.rules_as_of)


def evaluate_stream(
    items: Iterable[RawRecord | RawLine | ReadProblem],
    settings: BatchSettings,
    workers: int = 1,
    checker: Checker | None = None,
) -> Iterator[Row | Rejection]:
    """Rows and rejections in input order, evaluated in this process or in `workers` processes."""
    if workers <= 1:
        checker = checker or Checker(settings.rules, engine=settings.engine)
        for item in items:
            yield check_one(checker, item, settings.as_of, settings.lang, settings.rules_as_of)
        return
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
        iterator = iter(items)
        pending = None
        while True:  # the next window is read and queued while the workers finish the current one
            window = list(itertools.islice(iterator, WINDOW))
            queued = pool.imap(_work, window, chunksize=max(1, len(window) // (workers * 8))) if window else None
            if pending is not None:
                yield from pending
            if queued is None:
                return
            pending = queued


def run_batch(
    items: Iterable[RawRecord | RawLine | ReadProblem],
    settings: BatchSettings,
    out: IO[str],
    fmt: str = "text",
    workers: int = 1,
    lang: str = "da",
    order: str = "triage",
    on_rejection: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[Summary], None] | None = None,
    checker: Checker | None = None,
) -> Summary:
    """Check every record and write the rows to `out` in `fmt`; return the summary.

    `on_rejection(rejection)` is called for each rejected record as it happens, and
    `on_progress(summary)` after each record; both may be None. `checker` is the one already
    loaded for `settings` (else one is loaded). Every format names the `provenance`: JSON Lines
    ends with the `trailer` line, JSON has it in its summary, CSV in columns of every row, the
    text table under its summary.
    """
    from . import output as batch_output

    checker = checker or Checker(settings.rules, engine=settings.engine)
    source = provenance(checker.rulebook, settings.as_of, settings.rules_as_of)
    summary = Summary()
    seen = SeenIds()

    def rows() -> Iterator[dict]:
        for result in evaluate_stream(items, settings, workers, checker):
            result = _unique(result, seen, settings.lang)
            summary.add(result)
            if on_progress:
                on_progress(summary)
            if isinstance(result, Rejection):
                if on_rejection:
                    on_rejection(result)
                continue
            yield result.as_dict()

    ordered = external_sort(rows(), triage_key) if order == "triage" else rows()
    try:
        if fmt == "jsonl":
            batch_output.write_jsonl(ordered, out)
            out.write(json.dumps(trailer(summary, source), ensure_ascii=False) + "\n")
        elif fmt == "csv":
            batch_output.write_csv(ordered, out, source)
        elif fmt == "json":
            batch_output.write_json(ordered, out, lambda: {**summary.as_dict(), **source})
        else:
            batch_output.write_text(ordered, out, summary.as_dict, lang, source)
    finally:
        seen.close()
    return summary


def _unique(result: Row | Rejection, seen: SeenIds, lang: str) -> Row | Rejection:
    """The result, or a rejection (R006) when its citizen id was read before in this batch (see `unique`)."""
    citizen_id = result.citizen_id
    if citizen_id is None:
        return result
    first = seen.first_seen(citizen_id, result.source)
    if first is None:
        return result
    return Rejection(
        result.source, citizen_id, [problem_row(duplicate_problem(citizen_id, result.source, first), lang)]
    )
