"""The pre-meeting check: record → facts → rules → report.

`Checker` is the library's entry point. Load a rulebook once and check many records, from
several threads if you like::

    from bip_engine import Checker
    checker = Checker()                       # bundled rules and guidance
    report = checker.check_file("examples/stilstand.yaml", as_of=date(2026, 11, 22), lang="da")
    print(report.phase.id, [flag.id for flag in report.flags])
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import record as record_models
from . import report as report_models
from .assemble import ReportBuilder
from .clock import today
from .errors import Problem, RulebookError
from .evaluation import Evaluation
from .executors import Executor, ExecutorClosed, Outcome, make_executor
from .executors.python_exec import PythonExecutor, RuleTrace
from .facts import derive_facts
from .models import Data, data_class
from .paths import default_rules
from .record import Record, check_names, cpr_warning, read_record_file, record_warnings, validate_record
from .render import Guidance
from .report import PhasePoint, Report, Trajectory
from .rulebook import CompiledRule, Rulebook, load_rulebook
from .rulebook_cache import load_built_models, load_rulebook_cached
from .trajectory import trajectory as build_trajectory

if TYPE_CHECKING:
    from os import PathLike

    from .citizen import CitizenView

#: The modules whose models a check builds: their validators and serializers come from the cache.
_MODELS = (record_models, report_models)


@data_class(frozen=True)
class _Loaded(Data):
    """A rulebook with one executor per stretch of days in which its rules do not change, swapped as one on reload."""

    rulebook: Rulebook
    engine: str | None
    executors: dict = field(default_factory=dict)
    lock: Any = field(default_factory=threading.Lock)

    @classmethod
    def create(cls, rulebook: Rulebook, engine: str | None) -> _Loaded:
        """Load and make the executor for the newest rules at once, so a bad engine name fails here.

        The newest, not today's: a check of a given date then never needs the clock (whose time zone
        data costs a cold check more than a millisecond); today's rules are made on first use.
        """
        loaded = cls(rulebook, engine)
        timeline = rulebook.timeline
        loaded.at(timeline.representative(timeline.stretches()[-1]))
        return loaded

    def at(self, day: dt.date) -> tuple[Rulebook, Any]:
        """The rules in force on `day` and their executor (made once per stretch, then cached)."""
        index = self.rulebook.period_index(day)
        found = self.executors.get(index)
        if found is None:
            with self.lock:
                found = self.executors.get(index)
                if found is None:
                    view = self.rulebook.at(day)
                    found = self.executors[index] = (view, make_executor(view, self.engine))
        return found

    @property
    def executor(self) -> Executor:
        """The executor of today's rules."""
        return self.at(today())[1]

    def close(self) -> None:
        """Close every executor (after a reload)."""
        for _, executor in list(self.executors.values()):
            close = getattr(executor, "close", None)
            if close:
                close()


class Checker:
    """A loaded rulebook with its guidance templates: evaluates and renders records."""

    def __init__(
        self,
        rules: str | Path | Rulebook | None = None,
        guidance: Iterable[str | Path] = (),
        engine: str | None = None,
        colour: bool = False,
    ):
        rulebook = rules if isinstance(rules, Rulebook) else load_rulebook_cached(rules or default_rules())
        load_built_models(_MODELS)
        self._state = _Loaded.create(rulebook, engine)
        self._guidance_dirs = [Path(folder) for folder in guidance]
        self._colour = colour
        self._guidance: dict[str, Guidance] = {}
        self._builders: dict[tuple[int, str], ReportBuilder] = {}
        self._lock = threading.Lock()

    @property
    def rulebook(self) -> Rulebook:
        """The rulebook in use."""
        return self._state.rulebook

    @property
    def executor(self) -> Executor:
        """The executor in use."""
        return self._state.executor

    @property
    def engine(self) -> str:
        """The name of the executor in use."""
        return self._state.executor.name

    def reload(self, rules: str | Path | None = None, guidance: Iterable[str | Path] | None = None) -> list[Problem]:
        """Load the rulebook again (from `rules`, or its own folder) and switch to it atomically.

        The guidance templates are read again as well; `guidance`, when given, replaces their folders
        at the same moment (a release carries its own templates). When the new rulebook is invalid, the current one stays in use and the
        problems are returned; an empty list means the new rulebook is now in use.
        """
        try:
            rulebook = load_rulebook(rules or self.rulebook.path)
            loaded = _Loaded.create(rulebook, self.engine)
        except RulebookError as error:
            return error.problems
        with self._lock:
            old, self._state = self._state, loaded
            if guidance is not None:
                self._guidance_dirs = [Path(folder) for folder in guidance]
            self._guidance = {}  # the templates are read again too
            self._builders = {}
        old.close()
        return []

    def guidance(self, lang: str) -> Guidance:
        """The guidance templates for `lang` (created once)."""
        with self._lock:
            if lang not in self._guidance:
                self._guidance[lang] = Guidance(lang, self._guidance_dirs, self._colour)
            return self._guidance[lang]

    def read_record(self, source: str | PathLike[str]) -> tuple[Record, Any, str]:
        """Read and validate a record file (a path, or `-` for stdin); return the record, raw data and display name."""
        data, name = read_record_file(source)
        return self.parse_record(data, name), data, name

    def parse_record(self, data: Any, source: str = "<record>") -> Record:
        """Validate already-loaded record data against the format and this rulebook's catalogues."""
        record = validate_record(data, source)
        check_names(record, data, source, self.rulebook.catalogue)
        return record

    def evaluate(
        self, record: Record | dict, as_of: dt.date | None = None, rules_as_of: dt.date | None = None
    ) -> Evaluation:
        """Derive the facts of `record` on `as_of` (default today) and run the rules in force on
        `rules_as_of` (default: `as_of`)."""
        if not isinstance(record, Record):
            record = self.parse_record(record)
        as_of = as_of or today()
        rules_day = rules_as_of or as_of
        state = self._state  # one consistent rulebook and executor, even while another thread reloads
        rulebook, executor = state.at(rules_day)
        derived = derive_facts(record, as_of, rulebook.catalogue)
        try:
            outcome = executor.run(derived.values)
        except ExecutorClosed:
            return self.evaluate(record, as_of, rules_as_of)  # a reload replaced the rulebook meanwhile
        warnings: list[str | tuple[str, dict[str, Any]]] = [w for w in (cpr_warning(record),) if w]
        warnings.extend(record_warnings(record))
        return Evaluation(
            record,
            as_of,
            derived.values,
            outcome,
            executor.name,
            derived.left_out,
            warnings,
            rules_day,
            rulebook=rulebook,
        )

    def run_facts(self, facts: dict[str, Any], rules_as_of: dt.date) -> Outcome:
        """Run the rules in force on `rules_as_of` on facts derived earlier (a logged decision's facts)."""
        return self._state.at(rules_as_of)[1].run(facts)

    def explain(self, evaluation: Evaluation) -> list[RuleTrace]:
        """Every rule of every stage, matched or not, with the values that decided it."""
        return PythonExecutor(evaluation.rulebook).explain(evaluation.facts, evaluation.outcome)

    def report(self, evaluation: Evaluation, lang: str = "da", margins: bool = False) -> Report:
        """The full, rendered report of an evaluation in `lang`; with `margins`, what would change the
        phase too (`Report.phase_margins`, worked out for each phase rule: it costs more than the rest)."""
        return self._builder(evaluation.rulebook, lang).build(evaluation, margins)

    def _builder(self, rulebook: Rulebook, lang: str) -> ReportBuilder:
        """The report builder of `rulebook` (a dated view) in `lang`: made once, as it keeps what
        depends only on them; made again after a reload."""
        guidance = self.guidance(lang)
        builders = self._builders
        builder = builders.get((id(rulebook), lang))
        if builder is None or builder.rulebook is not rulebook or builder.guidance is not guidance:
            builder = builders[(id(rulebook), lang)] = ReportBuilder(rulebook, guidance, lang)
        return builder

    def check(
        self,
        record: Record | dict,
        as_of: dt.date | None = None,
        lang: str = "da",
        rules_as_of: dt.date | None = None,
        margins: bool = False,
    ) -> Report:
        """Evaluate and report in one step."""
        return self.report(self.evaluate(record, as_of, rules_as_of), lang, margins)

    def check_file(
        self,
        source: str,
        as_of: dt.date | None = None,
        lang: str = "da",
        rules_as_of: dt.date | None = None,
        margins: bool = False,
    ) -> Report:
        """Read a record file and check it."""
        record, _, _ = self.read_record(source)
        return self.check(record, as_of, lang, rules_as_of, margins)

    def render(self, report: Report, fmt: str = "text", width: int = 78) -> str:
        """The report as `json` (stable, byte-identical for the same input), `markdown`, `text` or `citizen`."""
        if fmt == "json":
            return report_json(report)
        if fmt == "citizen":
            return self.citizen_view(report, report.language, width=width)
        context = {"report": report.model_dump(mode="json"), "width": width}
        layout = {"text": "report.txt.j2", "markdown": "report.md.j2"}[fmt]
        return self.guidance(report.language).render(layout, context)

    def trace(self, evaluation: Evaluation, lang: str = "da") -> list[dict[str, Any]]:
        """The full rule trace as plain data (what `bip explain` shows): every rule, matched or not."""
        return [
            {
                "stage": item.rule.stage,
                "rule": item.rule.id,
                "conclusion": item.rule.conclusion,
                "matched": item.matched,
                "when": item.rule.when,
                "reason": item.rule.reason.get(lang),
                "origin": _origin(item.rule),
                "source": item.rule.source,
                "atoms": [
                    {"test": atom.test, "fact": atom.fact, "value": atom.value, "result": atom.result}
                    for atom in item.atoms
                ],
            }
            for item in self.explain(evaluation)
        ]

    def trajectory(self, record: Record | dict, as_of: dt.date | None = None, lang: str = "da") -> Trajectory:
        """The trajectory up to `as_of`, with the phase the rules give as of each measurement date.

        Each phase is the check re-run as of that date (only the measurements up to it count), so this
        costs one evaluation per measurement; `Report.trajectory` leaves `phases` out for that reason.
        """
        if not isinstance(record, Record):
            record = self.parse_record(record)
        as_of = as_of or today()
        rulebook = self.rulebook
        base = build_trajectory(record, as_of, rulebook.catalogue, lang)
        points = []
        for day in base.dates:
            evaluation = self.evaluate(record, dt.date.fromisoformat(day))
            rule = evaluation.outcome.phase_rule
            phase = evaluation.rulebook.phases.get(evaluation.phase) if evaluation.phase else None
            points.append(
                PhasePoint(
                    date=day,
                    phase=evaluation.phase,
                    label=phase.label.get(lang) if phase else None,
                    rule=rule.id if rule else None,
                    confidence=evaluation.facts["confidence"],
                )
            )
        return base.model_copy(update={"phases": points})

    def what_if(
        self, record: Record | dict, interventions: Iterable[dict] = (), caseworker: dict | None = None
    ) -> Record:
        """`record` with proposed interventions and/or a change of caseworker, validated against this rulebook."""
        from .whatif import what_if

        if not isinstance(record, Record):
            record = self.parse_record(record)
        return what_if(record, interventions, caseworker, self.rulebook.catalogue)

    def citizen_view(
        self, report: Report, lang: str | None = None, next_steps: Iterable[str] = (), width: int = 78
    ) -> str:
        """The citizen version of a report as plain text (`citizen.txt.j2`): no rule ids, no caseworker scores."""
        from .citizen import citizen_text

        lang = lang or report.language
        return citizen_text(report, self.rulebook, self.guidance(lang), lang, next_steps, width)

    def citizen_parts(self, report: Report, lang: str | None = None, next_steps: Iterable[str] = ()) -> CitizenView:
        """The citizen version as structured parts (`bip_engine.citizen.CitizenView`), for rendering as HTML."""
        from .citizen import citizen_parts

        lang = lang or report.language
        return citizen_parts(report, self.rulebook, self.guidance(lang), lang, next_steps)

    def render_explanation(self, evaluation: Evaluation, report: Report) -> str:
        """The full rule trace as text, from `explain.txt.j2`."""
        trace = self.trace(evaluation, report.language)
        context = {"report": report.model_dump(mode="json"), "trace": trace}
        return self.guidance(report.language).render("explain.txt.j2", context)


def _origin(rule: CompiledRule) -> str:
    """Where a rule was written: file:line, its rulebook layer, and the base rule it overrides."""
    where = f"{rule.path}:{rule.line}" if rule.line else rule.path
    return f"{where} ({rule.origin}" + (f"; overrides {rule.overrides})" if rule.overrides else ")")


def report_json(report: Report) -> str:
    """The report as indented JSON, keys in schema order, non-ASCII kept as is.

    The characters are those of `json.dumps(report.model_dump(mode="json"), ensure_ascii=False,
    indent=2)`, written by pydantic's own serializer straight from the models (about five times
    sooner). The two write every number alike except those between 1e-5 and 1e-4 (`0.00001` against
    `1e-05`); the report rounds its numbers to at most four decimals, so none is ever in that range
    (tests/test_service_speed.py holds both facts). An infinite or NaN number (none is expected)
    is written `null`, which keeps the JSON valid.
    """
    return report.model_dump_json(indent=2) + "\n"
