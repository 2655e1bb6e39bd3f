"""`bip replay DECISION_ID`: run a logged decision again under the release it used, and compare.

The decision log keeps, for every check, the rulebook (name, version, content hash), the release
it ran from (if any), the rules date, the executor, the facts the rules saw and the result. Replay
finds that release in the release store (by the logged release hash, else by the rulebook hash),
and then:

1. runs the rules of the rules date on the logged facts: the same rules on the same facts must give
   the same phase and flags;
2. given the original record (`--record FILE`, whose hash must equal the logged `record_hash`),
   runs the whole check again from the record: a newer engine that derives a fact differently
   shows up here, fact by fact ("change was derived as -0.5 then, -0.45 now").

3. with the record, renders the report again (in the logged language, with the phase margins when
   the logged one had them) and compares its SHA-256 with the logged `report_hash`: the same phase
   and flags in other words show up here. The comparison leaves the report's provenance (rulebook
   reference, templates hash, software version, executor) as logged, so a report that reads the
   same is not called different because it was made by another release or version; when the words
   differ, the causes replay can see are named: the templates hash differs (other guidance
   templates), the software version differs. Without the record the wording cannot be compared,
   but a templates hash or software version other than the logged one is still named.

It answers "which rules applied on that day, and why did they give this?".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..assemble import software_version
from ..check import Checker
from ..errors import RecordError, problem
from ..executors import Outcome, durable_available
from ..messages import text, texts
from ..releases import (
    DEFAULT_STORE,
    Release,
    ReleaseError,
    find_by_rulebook_hash,
    open_release,
)
from ..report import Report
from ..severity import SEVERITY_ORDER
from .decisions import find_decision, record_hash, report_hash
from .store import Store


@dataclass(frozen=True)
class Result:
    """Phase, confidence and flags (id -> severity) of one run."""

    phase: str | None
    confidence: str | None
    flags: dict[str, str]

    @classmethod
    def of_logged(cls, entry: dict) -> Result:
        """The result a decision-log entry records."""
        return cls(
            entry.get("phase"),
            entry.get("confidence"),
            {flag["id"]: flag["severity"] for flag in entry.get("flags") or []},
        )

    @classmethod
    def of_outcome(cls, outcome: Outcome, facts: dict[str, Any]) -> Result:
        """The result of running the rules now (flags by severity, then rank, as the report orders them)."""
        flags: dict[str, str] = {}
        for rule in sorted(outcome.flag_rules, key=lambda rule: (SEVERITY_ORDER[rule.severity], rule.rank)):
            assert rule.severity is not None, "a flag rule has a severity"
            flags.setdefault(rule.conclusion, rule.severity)
        phase = outcome.phase_rule.conclusion if outcome.phase_rule else None
        confidence = facts.get("confidence")
        confidence = (confidence if confidence in ("low", "medium", "high") else "low") if phase else None
        return cls(phase, confidence, flags)

    def differences(self, now: Result) -> list[tuple[str, Any, Any]]:
        """(what, then, now) for each part that differs."""
        found = []
        if self.phase != now.phase:
            found.append(("phase", self.phase, now.phase))
        if self.confidence != now.confidence:
            found.append(("confidence", self.confidence, now.confidence))
        for flag in dict.fromkeys([*self.flags, *now.flags]):
            if self.flags.get(flag) != now.flags.get(flag):
                found.append((f"flag {flag}", self.flags.get(flag), now.flags.get(flag)))
        return found


@dataclass
class Replay:
    """What replaying one decision showed."""

    decision: dict
    release: Release
    rules_as_of: dt.date
    engine: str
    engine_note: str | None  # the message key of a note on the engine that ran (replay.engine_note)
    logged: Result
    from_facts: Result
    from_record: Result | None = None
    fact_differences: list[tuple[str, Any, Any]] = field(default_factory=list)
    rules_from_facts: dict[str, list[str]] = field(default_factory=dict)
    templates_hash: str | None = None  # of the release's templates in the logged language (None: unknown)
    software_version: str | None = None  # of the software replaying
    wording_same: bool | None = None  # the report rendered again reads as logged (None: not compared)

    @property
    def causes(self) -> list[str]:
        """What replay can see differs from the logged check's provenance: `templates`, `software`."""
        found = []
        logged_templates, logged_software = self.decision.get("templates_hash"), self.decision.get("software_version")
        if logged_templates and self.templates_hash and logged_templates != self.templates_hash:
            found.append("templates")
        if logged_software and self.software_version and logged_software != self.software_version:
            found.append("software")
        return found

    @property
    def identical(self) -> bool:
        """Whether every run gave the logged result, every fact was derived the same and the report reads the same."""
        return not (
            self.logged.differences(self.from_facts)
            or self.fact_differences
            or (self.from_record is not None and self.logged.differences(self.from_record))
            or self.wording_same is False
        )


def replay(
    decision_id: str, database: str | None = None, store_path: str | Path | None = None, record_file: str | None = None
) -> Replay:
    """Replay a logged decision; raise ReleaseError (not found) or RecordError (record hash differs)."""
    log = Store.open(database, create=False)
    try:
        entry = find_decision(log, decision_id)
    finally:
        log.close()
    if entry is None:
        raise ReleaseError(problem("L005", database, decision=decision_id))
    store_path = Path(store_path or DEFAULT_STORE)
    release = _release_of(entry, store_path)
    engine, note = entry.get("engine") or "python", None
    if engine == "durable" and not durable_available():
        engine, note = "python", "replay.engine_note"
    checker = Checker(release.rules, release.guidance, engine=engine)
    rules_day = dt.date.fromisoformat(entry.get("rules_as_of") or entry["as_of"])
    facts = dict(entry["facts"])
    outcome = checker.run_facts(facts, rules_day)
    result = Replay(
        entry, release, rules_day, checker.engine, note, Result.of_logged(entry), Result.of_outcome(outcome, facts)
    )
    if entry.get("language"):
        result.templates_hash = checker.guidance(entry["language"]).templates_hash
    result.software_version = software_version()
    result.rules_from_facts = {
        "phase": [outcome.phase_rule.id] if outcome.phase_rule else [],
        "flag": [rule.id for rule in outcome.flag_rules],
    }
    if record_file is not None:
        record, _, name = checker.read_record(record_file)
        digest = record_hash(record)
        if digest != entry["record_hash"]:
            raise RecordError(
                problem("L004", name, decision=decision_id, digest=digest[:12], logged=entry["record_hash"][:12])
            )
        evaluation = checker.evaluate(record, dt.date.fromisoformat(entry["as_of"]), rules_day)
        result.from_record = Result.of_outcome(evaluation.outcome, evaluation.facts)
        for name_ in dict.fromkeys([*facts, *evaluation.facts]):
            then, now = facts.get(name_), _plain(evaluation.facts.get(name_))
            if then != now:
                result.fact_differences.append((name_, then, now))
        if entry.get("report_hash") and entry.get("language"):
            report = checker.report(evaluation, entry["language"], margins=bool(entry.get("margins")))
            result.wording_same = report_hash(_as_logged(report, entry)) == entry["report_hash"]
    return result


def _as_logged(report: Report, entry: dict) -> Report:
    """The report with the provenance the log recorded (rulebook reference, templates hash, software
    version, executor), so that only what it says is compared."""
    rulebook = report.rulebook.model_copy(
        update={
            "name": entry["rulebook_name"],
            "version": entry["rulebook_version"],
            "hash": entry["rulebook_hash"],
            "release": entry.get("release"),
            "templates_hash": entry.get("templates_hash"),
            "software_version": entry.get("software_version"),
        }
    )
    return report.model_copy(update={"rulebook": rulebook, "engine": entry["engine"]})


def _plain(value: Any) -> Any:
    """A fact value as the log stores it (JSON: tuples become lists)."""
    return list(value) if isinstance(value, tuple) else value


def _release_of(entry: dict, store_path: Path) -> Release:
    if entry.get("release"):
        return open_release(store_path, entry["release"])
    found = find_by_rulebook_hash(store_path, entry["rulebook_hash"])
    if found is None:
        raise ReleaseError(
            problem(
                "L001.no_release",
                str(store_path),
                name=entry["rulebook_name"],
                version=entry["rulebook_version"],
                hash=entry["rulebook_hash"][:12],
            )
        )
    return found


def _cause(cause: str, entry: dict, result: Replay, words: dict) -> str:
    """One line naming a difference from the logged provenance."""
    if cause == "templates":
        return words["cause_templates"].format(then=entry["templates_hash"][:12], now=str(result.templates_hash)[:12])
    return words["cause_software"].format(then=entry["software_version"], now=result.software_version)


def render_replay(result: Replay, lang: str = "da") -> str:
    """The replay as plain text, Danish by default."""
    words = texts("replay", lang)
    entry, release = result.decision, result.release
    lines = [
        words["head"].format(id=entry["decision_id"]),
        words["made"].format(time=entry["time"], user=entry["user"], role=entry["role"], as_of=entry["as_of"]),
        words["release"].format(
            hash=release.hash[:12],
            name=release.name,
            version=release.version,
            approver=release.approver,
            time=release.time,
        ),
        words["rules"].format(day=result.rules_as_of.isoformat(), engine=result.engine),
    ]
    if result.engine_note:
        lines.append(f"({text(result.engine_note, lang)})")
    lines.append("")

    def show(value: Any) -> str:
        return words["none"] if value is None else str(value)

    def summary(run: Result) -> str:
        flags = ", ".join(f"{flag} ({severity})" for flag, severity in run.flags.items()) or words["none"]
        return f"{words['phase']} {show(run.phase)}; {words['flags']}: {flags}"

    for label, run in ((words["facts"], result.from_facts), (words["record"], result.from_record)):
        if run is None:
            continue
        differences = result.logged.differences(run)
        if run is result.from_record:
            differences = differences or []
        if not differences and not (run is result.from_record and result.fact_differences):
            lines.append(f"{label}: {words['same'].format(result=summary(run))}")
            continue
        lines.append(f"{label}: {words['differs']}")
        lines += [
            words["then_now"].format(what=what, then=show(then), now=show(now)) for what, then, now in differences
        ]
        if run is result.from_record:
            lines += [
                words["fact"].format(name=name, then=show(then), now=show(now))
                for name, then, now in result.fact_differences
            ]
    if result.wording_same is not None:
        if result.wording_same:
            verdict = words["wording_same"]
        elif result.from_record is not None and not result.logged.differences(result.from_record):
            verdict = words["wording_only"]
        else:
            verdict = words["wording_differs"]
        lines.append(f"{words['report']}: {verdict}")
    causes = result.causes
    if result.wording_same is True and causes:
        lines.append(words["provenance_differs"])
    elif result.wording_same is None and causes:
        lines.append(words["provenance_unknown"])
    lines += [_cause(cause, entry, result, words) for cause in causes]
    if result.wording_same is False and not causes:
        lines.append(words["no_cause"])
    lines += ["", words["identical"] if result.identical else words["different"]]
    return "\n".join(lines) + "\n"
