"""The Danish step vocabulary for testing a rulebook with Gherkin scenarios (`# language: da`).

This module is a pytest plugin. Load it with ``pytest -p bip_engine.authoring.gherkin_steps`` (or
``pytest_plugins = ["bip_engine.authoring.gherkin_steps"]`` in a conftest.py) and bind feature files with
``pytest_bdd.scenarios(...)``. It adds three options:

``--bip-rules DIR``      the rulebook folder to test (default: the bundled rules)
``--bip-engine NAME``    the executor: ``python`` (default) or ``durable``
``--bip-coverage``       print, after the run, which rules no scenario made match (file:line)
``--bip-lang da|en``     the language of the failures, explanations and coverage lines (default: da)

A scenario builds a citizen record step by step (``Givet``), runs the pre-meeting check on a date
(``Når``) and states what the engine must conclude (``Så``). A failing ``Så`` step says, in Danish (or English with ``--bip-lang en``),
what the engine concluded instead and which rule decided it; the step phrases are Danish either way. `STEPS` lists every step with an
example and an explanation, for the documentation.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest
from pytest_bdd import given, parsers, then, when

from ..check import Checker, Evaluation
from ..errors import RecordError, RulebookError
from ..messages import LANGS, part, text
from ..paths import default_rules
from ..record import Record
from ..rulebook import CompiledRule, Rulebook
from ..severity import SEVERITY_ORDER

#: Every step: (pattern, example, explanation as a message part, `bip_engine.messages.part`).
#: Filled by `_step` below, in module order. The patterns and examples are Danish, the scenarios' language.
STEPS: list[tuple[str, str, dict[str, Any]]] = []

CONFIDENCE_DA = {"ingen": "none", "lav": "low", "middel": "medium", "høj": "high"}
SEVERITY_DA = {"høj": "high", "middel": "medium", "lav": "low"}
#: Danish words by English value; a value that is not there (None) is looked up and not found.
DA_OF: dict[str | None, str] = {value: key for key, value in {**CONFIDENCE_DA, **SEVERITY_DA}.items()}
ALL_INDICATORS = "alle"
DATE_COLUMN = "dato"

_MATCHED: set[str] = set()
_CHECKER_KEY = pytest.StashKey[Checker]()
_SCENARIO_KEY = pytest.StashKey[tuple]()
#: The language of this session's failure texts (`--bip-lang`), set when pytest configures the plugin.
_LANG = {"lang": "da"}


# --- plugin options, session state and hooks -------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options of the rulebook scenario tests."""
    group = parser.getgroup("bip", "BIP rulebook scenarios (Danish Gherkin)")
    group.addoption(
        "--bip-rules",
        dest="bip_rules",
        default=None,
        metavar="DIR",
        help="rulebook folder the scenarios test (default: the bundled rules)",
    )
    group.addoption(
        "--bip-engine",
        dest="bip_engine",
        default="python",
        choices=("python", "durable"),
        help="executor that runs the rules (default: python)",
    )
    group.addoption(
        "--bip-coverage",
        dest="bip_coverage",
        action="store_true",
        default=False,
        help="after the run, list the rules that no scenario made match, with file:line",
    )
    group.addoption(
        "--bip-lang",
        dest="bip_lang",
        default="da",
        choices=LANGS,
        help="language of the failure texts and the coverage lines (default: da; the steps stay Danish)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Take the language of the failure texts from `--bip-lang`."""
    _LANG["lang"] = _option(config, "bip_lang", "da") or "da"


def _t(key: str, **args: Any) -> str:
    """The message `key` in this session's language (`--bip-lang`)."""
    return text(key, _LANG["lang"], **args)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start every session with an empty rule coverage."""
    reset_coverage()


def matched_rules() -> frozenset[str]:
    """The ids of the rules that matched in some scenario of this session (phase: the deciding rule)."""
    return frozenset(_MATCHED)


def reset_coverage() -> None:
    """Forget the rules matched so far."""
    _MATCHED.clear()


def _option(config: pytest.Config, name: str, default: Any = None) -> Any:
    try:
        return config.getoption(name, default=default)
    except ValueError:  # the plugin's options are not registered (steps imported, plugin not loaded)
        return default


def _rules_folder(config: pytest.Config) -> Path:
    return Path(_option(config, "bip_rules") or default_rules())


@pytest.fixture(scope="session")
def bip_checker(request: pytest.FixtureRequest) -> Checker:
    """One checker for the whole session, on `--bip-rules` with the `--bip-engine` executor."""
    config = request.config
    if _CHECKER_KEY in config.stash:
        return config.stash[_CHECKER_KEY]
    folder = _rules_folder(config)
    checker: Checker | None = None
    problem = ""
    try:
        checker = Checker(folder, engine=_option(config, "bip_engine", "python") or "python")
    except RulebookError as exc:
        problem = _t("gherkin.fail.rulebook", folder=str(folder), problem=_problems(exc))
    except Exception as exc:  # noqa: BLE001 - an unavailable executor
        problem = _t("gherkin.fail.engine", problem=str(exc))
    if checker is None:
        _fail(problem)
    config.stash[_CHECKER_KEY] = checker
    return checker


@dataclass
class ScenarioState:
    """What the steps of one scenario build up: the citizen record, then the evaluation."""

    record: dict = field(
        default_factory=lambda: {"id": "scenarie", "measurements": [], "interventions": [], "caseworkers": []}
    )
    evaluation: Evaluation | None = None
    rules_as_of: dt.date | None = None  # the date that selects the rules; default: the check date


@pytest.fixture
def bip_scenarie() -> ScenarioState:
    """A fresh, empty citizen record for each scenario."""
    return ScenarioState()


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """Remember the running scenario, so that record errors can name it."""
    request.node.stash[_SCENARIO_KEY] = (feature, scenario)


_STEP_KEY = pytest.StashKey[int]()


def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: Any,
    exception: Exception,
) -> None:
    """Remember the line of the step that failed, for the failure's heading."""
    request.node.stash[_STEP_KEY] = step.line_number


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Name a scenario by its `.feature` file and line, not by the generated test module.

    Under `bip rules test` (`--bip-rules`), the report's location (the heading of a failure) and
    node id (the summary line) become `path/x.feature:LINE` with the scenario's name; a failure
    starts with the file and line of the step that failed. The scenario is also kept in the report's `user_properties` as `bip_scenario`.
    """
    outcome = yield
    report = outcome.get_result()
    feature, scenario = item.stash.get(_SCENARIO_KEY, (None, None))
    if feature is None or scenario is None:
        return
    path = _display_path(feature.filename)
    heading = f"{scenario.keyword}: {scenario.name}"
    if _option(item.config, "bip_rules", None):  # under `bip rules test` only, not in a project's own test run
        report.location = (path, scenario.line_number - 1, heading)
        report.nodeid = f"{Path(feature.filename).resolve()}:{scenario.line_number} {heading}"  # shown relative to cwd
    step_line = item.stash.get(_STEP_KEY, None)
    if report.failed and report.when == "call":
        where = f"{path}:{step_line or scenario.line_number}"
        report.longrepr = f"{where}: {heading}\n{report.longreprtext}"
    report.user_properties.append(
        (
            "bip_scenario",
            {
                "feature": path,
                "line": scenario.line_number,
                "name": scenario.name,
                "step_line": step_line,
                "test": item.nodeid,
            },
        )
    )


def _display_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    """A step that no step definition matches: fail in `--bip-lang`, naming the file and line."""
    text = f"{step.keyword} {step.name}".strip()
    examples = [example for _, example, _ in STEPS]
    close = difflib.get_close_matches(text, examples, n=1, cutoff=0.5)
    hint = _t("gherkin.fail.closest_step", step=close[0]) if close else ""
    where = f"{_display_path(feature.filename)}:{step.line_number}"
    pytest.fail(_t("gherkin.fail.unknown_step", where=where, step=text, closest=hint), pytrace=False)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """With `--bip-coverage`: which rules matched in some scenario, and which did not (file:line)."""
    if not _option(config, "bip_coverage", False):
        return
    checker = config.stash.get(_CHECKER_KEY, None)
    try:
        rulebook = checker.rulebook if checker else Checker(_rules_folder(config), engine="python").rulebook
    except Exception as exc:  # noqa: BLE001 - a report footer must not fail the run
        terminalreporter.write_line(_t("gherkin.coverage.unavailable", problem=str(exc)))
        return
    terminalreporter.section(_t("gherkin.coverage.title"))
    for line in coverage_lines(rulebook, matched_rules(), _LANG["lang"]):
        terminalreporter.write_line(line)


def coverage_lines(rulebook: Rulebook, matched: frozenset[str] | set[str], lang: str = "da") -> list[str]:
    """The coverage report in `lang`: a count, then every rule that never matched, with file:line."""
    rules = rulebook.all_rules()
    missed = [rule for rule in rules if rule.id not in matched]
    lines = [text("gherkin.coverage.count", lang, matched=len(rules) - len(missed), total=len(rules))]
    if missed:
        lines.append(text("gherkin.coverage.missed", lang))
        for rule in missed:
            lines.append(f"  {rule.id} ({_stage(rule.stage, lang)}) {_where(rule)}")
    return lines


# --- helpers for the steps --------------------------------------------------------------------------


def _step(
    kind: str, pattern: str, regex: str, example: str, explanation: str, after_og: tuple[str, str, str] | None = None
) -> Callable:
    """Define a step (`given`, `when` or `then`) and list it in `STEPS`; `explanation` is a message key.

    `after_og` is the same step with the word order Danish uses after Og or Men ("Så er fasen X",
    but "Og fasen er X"): (pattern, regex, example).
    """
    STEPS.append((pattern, example, part(explanation)))
    regexes = [regex]
    if after_og:
        other_pattern, other_regex, other_example = after_og
        STEPS.append((other_pattern, other_example, part("gherkin.steps.after_og", pattern=pattern)))
        regexes.append(other_regex)
    decorator = {"given": given, "when": when, "then": then}[kind]

    def register(func: Callable) -> Callable:
        for each in regexes:
            decorator(parsers.re(each), stacklevel=2)(func)
        return func

    return register


def _stage(stage: str, lang: str) -> str:
    return text(f"gherkin.stage.{stage}", lang) if stage in ("phase", "flag", "checklist") else stage


def _problems(error: Exception) -> str:
    """A record's or rulebook's problems, one a line, in this session's language."""
    problems = getattr(error, "problems", None)
    if not problems:
        return str(error)
    return "\n".join(problem.shown(_LANG["lang"]) for problem in problems)


def _word(value: Any) -> Any:
    """A confidence or severity value in this session's language: the Danish word, or the English value."""
    return DA_OF.get(value, value) if _LANG["lang"] == "da" else value


def _where(rule: CompiledRule) -> str:
    return _display_path(rule.path) + (f":{rule.line}" if rule.line else "")


def _number(value: Any) -> str:
    """A fact value in this session's language: 1,5 and ja/nej in Danish (1.5, yes/no in English), a list joined
    with commas, '–' for unknown."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return _t("gherkin.explain.yes") if value else _t("gherkin.explain.no")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",") if _LANG["lang"] == "da" else f"{value:g}"
    return str(value)


def _phase_name(checker: Checker, phase_id: str | None) -> str:
    if phase_id is None:
        return _t("gherkin.explain.no_phase")
    definition = checker.rulebook.phases.get(phase_id)
    return f"{definition.label.get(_LANG['lang'])} ({phase_id})" if definition else phase_id


def _severity(rules: list[CompiledRule], flag_id: str) -> str | None:
    severities = [rule.severity for rule in rules if rule.conclusion == flag_id and rule.severity]
    return min(severities, key=SEVERITY_ORDER.__getitem__) if severities else None


def _summary(checker: Checker, evaluation: Evaluation) -> str:
    """What the engine concluded, in this session's language, for a failure message."""
    outcome, facts = evaluation.outcome, evaluation.facts
    lines = [_t("gherkin.summary.title", date=evaluation.as_of.isoformat())]
    if outcome.phase_rule:
        rule = outcome.phase_rule
        phase = _phase_name(checker, rule.conclusion)
        lines.append(_t("gherkin.summary.phase", phase=phase, rule=rule.id, when=rule.when, where=_where(rule)))
    else:
        lines.append(_t("gherkin.summary.no_phase"))
    lines.append(_t("gherkin.summary.confidence", confidence=_word(facts.get("confidence"))))
    flags = [f"{flag} ({_word(_severity(outcome.flag_rules, flag)) or ''})" for flag in evaluation.flags]
    lines.append(_t("gherkin.summary.flags", flags=", ".join(flags) if flags else _t("gherkin.explain.none")))
    points = sorted(dict.fromkeys(rule.conclusion for rule in outcome.checklist_rules))
    shown_points = ", ".join(map(str, points)) if points else _t("gherkin.explain.none")
    lines.append(_t("gherkin.summary.points", points=shown_points))
    lines.append(
        _t(
            "gherkin.summary.facts",
            level=_number(facts.get("level")),
            change=_number(facts.get("change")),
            change_prev=_number(facts.get("change_prev")),
            count=facts.get("measurement_count"),
        )
    )
    return "\n".join([lines[0], *("  " + line for line in lines[1:])])


def _traces(checker: Checker, evaluation: Evaluation, rules: list[CompiledRule]) -> str:
    """Each rule with the values its comparisons saw, and whether it matched."""
    wanted = {rule.id for rule in rules}
    lines = []
    for trace in checker.explain(evaluation):
        if trace.rule.id not in wanted:
            continue
        seen = (
            ", ".join(
                _t(
                    "gherkin.trace.atom",
                    fact=atom.fact,
                    value=_number(atom.value),
                    test=atom.test,
                    held=_t("gherkin.explain.yes") if atom.result else _t("gherkin.explain.no"),
                )
                for atom in trace.atoms
                if atom.fact not in ("phase", "flags")
            )
            or "–"
        )
        extra = [
            _t("gherkin.trace.phase_value", phase=_phase_name(checker, evaluation.phase))
            for atom in trace.atoms
            if atom.fact == "phase"
        ]
        seen = ", ".join([seen, *dict.fromkeys(extra)]) if extra else seen
        verdict = _t("gherkin.trace.matched") if trace.matched else _t("gherkin.trace.not_matched")
        winner = evaluation.outcome.phase_rule
        if trace.matched and trace.rule.stage == "phase" and winner is not None and winner.id != trace.rule.id:
            verdict = _t("gherkin.trace.overtaken", rule=winner.id)
        rule = trace.rule
        line = _t("gherkin.trace.line", rule=rule.id, when=rule.when, where=_where(rule), verdict=verdict, values=seen)
        lines.append("  " + line)
    return "\n".join(lines)


def _fail(message: str) -> NoReturn:
    __tracebackhide__ = True
    pytest.fail(message, pytrace=False)


def _evaluation(state: ScenarioState) -> Evaluation:
    __tracebackhide__ = True
    if state.evaluation is None:
        _fail(_t("gherkin.fail.no_run"))
    return state.evaluation


def _known_flag(checker: Checker, flag_id: str) -> None:
    __tracebackhide__ = True
    known = checker.rulebook.flag_ids
    if flag_id not in known:
        close = difflib.get_close_matches(flag_id, known, n=1, cutoff=0.6)
        hint = _t("gherkin.fail.did_you_mean", name=close[0]) if close else ""
        _fail(_t("gherkin.fail.unknown_flag", flag=flag_id, closest=hint, known=", ".join(known)))


def _known_point(checker: Checker, point: int) -> None:
    __tracebackhide__ = True
    points = sorted(checker.rulebook.catalogue.checklist)
    if point not in points:
        _fail(_t("gherkin.fail.unknown_point", point=point, first=points[0], last=points[-1]))


def _phase_id(checker: Checker, name: str) -> str:
    __tracebackhide__ = True
    wanted = name.strip().casefold()
    for phase_id, definition in checker.rulebook.phases.items():
        if wanted in (phase_id.casefold(), definition.label.da.casefold(), definition.label.en.casefold()):
            return phase_id
    known = ", ".join(definition.label.get("da") for definition in checker.rulebook.phases.values())
    _fail(_t("gherkin.fail.unknown_phase", name=name, known=known))


def _intervention(state: ScenarioState, kind: str, start: str, status: str, end: str | None = None) -> None:
    item = {"type": kind, "start": start, "status": status}
    if end is not None:
        item["end"] = end
    state.record["interventions"].append(item)


def _score(cell: str) -> Any:
    cell = cell.strip()
    return int(cell) if re.fullmatch(r"[0-9]+", cell) else cell


# --- Givet: the citizen ----------------------------------------------------------------------------


@_step(
    "given",
    "Givet en borger med disse målinger:",
    r"en borger med disse målinger:?",
    "Givet en borger med disse målinger:\n"
    "  | dato       | alle | caseworker_belief |\n"
    "  | 2026-08-12 | 3    | 2                 |\n"
    "  | 2026-11-10 | 3    | 2                 |",
    "gherkin.steps.measurements",
)
def _borger_med_maalinger(bip_scenarie: ScenarioState, bip_checker: Checker, datatable: list[list[str]]) -> None:
    header = [cell.strip() for cell in datatable[0]] if datatable else []
    if DATE_COLUMN not in header:
        columns = ", ".join(header) or _t("gherkin.explain.none")
        _fail(_t("gherkin.fail.no_date_column", column=DATE_COLUMN, columns=columns))
    if len(datatable) < 2:
        _fail(_t("gherkin.fail.no_rows"))
    indicators = list(bip_checker.rulebook.catalogue.indicators)
    measurements = []
    for row in datatable[1:]:
        cells = dict(zip(header, row, strict=False))
        scores: dict[str, Any] = {}
        if cells.get(ALL_INDICATORS, "").strip():
            scores = {name: _score(cells[ALL_INDICATORS]) for name in indicators}
        for name, value in cells.items():
            if name in (DATE_COLUMN, ALL_INDICATORS):
                continue
            if value.strip():
                scores[name] = _score(value)
            else:
                scores.pop(name, None)
        measurements.append({"date": cells[DATE_COLUMN].strip(), "scores": scores})
    bip_scenarie.record["measurements"] = measurements


@_step(
    "given",
    "Givet en borger uden målinger",
    r"en borger uden målinger",
    "Givet en borger uden målinger",
    "gherkin.steps.no_measurements",
)
def _borger_uden_maalinger(bip_scenarie: ScenarioState) -> None:
    bip_scenarie.record["measurements"] = []


# --- Og: interventions, caseworkers, notes ---------------------------------------------------------


@_step(
    "given",
    'Og en igangværende indsats "<type>" fra <dato>',
    r'en igangværende indsats "(?P<kind>[^"]+)" fra (?P<start>\S+)',
    'Og en igangværende indsats "ekstern_praktik" fra 2026-09-01',
    "gherkin.steps.ongoing",
)
def _igangvaerende(bip_scenarie: ScenarioState, kind: str, start: str) -> None:
    _intervention(bip_scenarie, kind, start, "ongoing")


@_step(
    "given",
    'Og en afsluttet indsats "<type>" fra <dato> til <dato>',
    r'en afsluttet indsats "(?P<kind>[^"]+)" fra (?P<start>\S+) til (?P<end>\S+)',
    'Og en afsluttet indsats "intern_praktik" fra 2025-03-01 til 2025-05-31',
    "gherkin.steps.ended",
)
def _afsluttet(bip_scenarie: ScenarioState, kind: str, start: str, end: str) -> None:
    _intervention(bip_scenarie, kind, start, "completed", end)


@_step(
    "given",
    'Og en planlagt indsats "<type>" fra <dato>',
    r'en planlagt indsats "(?P<kind>[^"]+)" fra (?P<start>\S+)',
    'Og en planlagt indsats "virksomhedspraktik" fra 2027-01-04',
    "gherkin.steps.planned",
)
def _planlagt(bip_scenarie: ScenarioState, kind: str, start: str) -> None:
    _intervention(bip_scenarie, kind, start, "planned")


@_step(
    "given",
    'Og en aflyst indsats "<type>" fra <dato>',
    r'en aflyst indsats "(?P<kind>[^"]+)" fra (?P<start>\S+)',
    'Og en aflyst indsats "ekstern_praktik" fra 2026-10-01',
    "gherkin.steps.cancelled",
)
def _aflyst(bip_scenarie: ScenarioState, kind: str, start: str) -> None:
    _intervention(bip_scenarie, kind, start, "cancelled")


@_step(
    "given",
    'Og en afbrudt indsats "<type>" fra <dato> til <dato>',
    r'en afbrudt indsats "(?P<kind>[^"]+)" fra (?P<start>\S+) til (?P<end>\S+)',
    'Og en afbrudt indsats "ekstern_praktik" fra 2026-09-01 til 2026-09-15',
    "gherkin.steps.interrupted",
)
def _afbrudt(bip_scenarie: ScenarioState, kind: str, start: str, end: str) -> None:
    _intervention(bip_scenarie, kind, start, "interrupted", end)


@_step(
    "given",
    "Og en <afholdt|aflyst> samtale den <dato>",
    r"en (?P<status>afholdt|aflyst) samtale den (?P<day>\S+)",
    "Og en afholdt samtale den 2026-10-01",
    "gherkin.steps.meeting",
)
def _samtale(bip_scenarie: ScenarioState, status: str, day: str) -> None:
    _meeting(bip_scenarie, day, {"afholdt": "held", "aflyst": "cancelled"}[status])


@_step(
    "given",
    "Og en samtale den <dato>, som borgeren udeblev fra",
    r"en samtale den (?P<day>\S+), som borgeren udeblev fra",
    "Og en samtale den 2026-11-03, som borgeren udeblev fra",
    "gherkin.steps.no_show",
)
def _udeblevet(bip_scenarie: ScenarioState, day: str) -> None:
    _meeting(bip_scenarie, day, "no_show")


def _meeting(state: ScenarioState, day: str, status: str) -> None:
    state.record.setdefault("meetings", []).append({"date": day, "kind": "samtale", "status": status})


@_step(
    "given",
    'Og sagsbehandler "<id>" fra <dato>',
    r'sagsbehandler "(?P<caseworker>[^"]+)" fra (?P<start>\S+)',
    'Og sagsbehandler "sb-2" fra 2026-10-01',
    "gherkin.steps.caseworker",
)
def _sagsbehandler(bip_scenarie: ScenarioState, caseworker: str, start: str) -> None:
    bip_scenarie.record["caseworkers"].append({"id": caseworker, "from": start})


@_step(
    "given",
    'Og noterne "<tekst>"',
    r'noterne "(?P<text>.*)"',
    'Og noterne "Borgeren er ikke klar til praktik endnu"',
    "gherkin.steps.notes",
)
def _noter(bip_scenarie: ScenarioState, text: str) -> None:
    bip_scenarie.record["notes"] = text


@_step(
    "given",
    "Givet reglerne gælder pr. <dato>",
    r"reglerne gælder pr\. (?P<day>\S+)",
    "Givet reglerne gælder pr. 2027-01-01",
    "gherkin.steps.rules_as_of",
)
def _regler_pr(bip_scenarie: ScenarioState, day: str) -> None:
    try:
        rules_as_of: dt.date | None = dt.date.fromisoformat(day)
    except ValueError:
        rules_as_of = None
    if rules_as_of is None:  # failed outside the except: no "during handling of the above exception"
        _fail(_t("gherkin.fail.bad_date", day=day, example="2027-01-01"))
    bip_scenarie.rules_as_of = rules_as_of


# --- Når: run the check ----------------------------------------------------------------------------


@_step(
    "when",
    "Når tjekket køres den <dato>",
    r"tjekket køres den (?P<day>\S+)",
    "Når tjekket køres den 2026-11-22",
    "gherkin.steps.run",
)
def _tjek(bip_scenarie: ScenarioState, bip_checker: Checker, request: pytest.FixtureRequest, day: str) -> None:
    try:
        as_of = dt.date.fromisoformat(day)
    except ValueError:
        as_of = None
    if as_of is None:
        _fail(_t("gherkin.fail.bad_date", day=day, example="2026-11-22"))
    feature, scenario = request.node.stash.get(_SCENARIO_KEY, (None, None))
    source = (
        _t("gherkin.explain.scenario_source", path=_display_path(feature.filename), name=scenario.name)
        if feature and scenario
        else _t("gherkin.explain.scenario")
    )
    record: Record | None = None
    problem = ""
    try:
        record = bip_checker.parse_record(bip_scenarie.record, source)
    except RecordError as exc:
        problem = _problems(exc)
    if record is None:
        _fail(_t("gherkin.fail.invalid_record", problem=problem))
    evaluation = bip_checker.evaluate(record, as_of=as_of, rules_as_of=bip_scenarie.rules_as_of)
    outcome = evaluation.outcome
    if outcome.phase_rule is not None:
        _MATCHED.add(outcome.phase_rule.id)
    _MATCHED.update(rule.id for rule in outcome.flag_rules)
    _MATCHED.update(rule.id for rule in outcome.checklist_rules)
    bip_scenarie.evaluation = evaluation


# --- Så: what the engine must conclude -------------------------------------------------------------


@_step(
    "then",
    "Så er fasen <Fasenavn>",
    r"er fasen (?P<name>.+)",
    "Så er fasen Stilstand",
    "gherkin.steps.phase",
    after_og=("Og fasen er <Fasenavn>", r"fasen er (?P<name>.+)", "Og fasen er Stilstand"),
)
def _fasen(bip_scenarie: ScenarioState, bip_checker: Checker, name: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    expected = _phase_id(bip_checker, name)
    if evaluation.phase != expected:
        rules = [rule for rule in bip_checker.rulebook.rules["phase"] if rule.conclusion == expected]
        wanted, actual = _phase_name(bip_checker, expected), _phase_name(bip_checker, evaluation.phase)
        _fail(
            f"{_t('gherkin.fail.phase', expected=wanted, actual=actual)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_t('gherkin.explain.rules_for', name=wanted)}\n{_traces(bip_checker, evaluation, rules)}"
        )


@_step(
    "then",
    "Så er der ingen fase",
    r"er der ingen fase",
    "Så er der ingen fase",
    "gherkin.steps.no_phase",
    after_og=("Og der er ingen fase", r"der er ingen fase", "Og der er ingen fase"),
)
def _ingen_fase(bip_scenarie: ScenarioState, bip_checker: Checker) -> None:
    evaluation = _evaluation(bip_scenarie)
    if evaluation.phase is not None:
        _fail(
            f"{_t('gherkin.fail.phase_not_none', actual=_phase_name(bip_checker, evaluation.phase))}\n"
            f"{_summary(bip_checker, evaluation)}"
        )


@_step(
    "then",
    'Så afgøres fasen af reglen "<regel-id>"',
    r'afgøres fasen af reglen "(?P<rule_id>[^"]+)"',
    'Så afgøres fasen af reglen "standstill_flat"',
    "gherkin.steps.decided_by",
    after_og=(
        'Og fasen afgøres af reglen "<regel-id>"',
        r'fasen afgøres af reglen "(?P<rule_id>[^"]+)"',
        'Og fasen afgøres af reglen "standstill_flat"',
    ),
)
def _afgoerende_regel(bip_scenarie: ScenarioState, bip_checker: Checker, rule_id: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    rules = [rule for rule in bip_checker.rulebook.rules["phase"] if rule.id == rule_id]
    if not rules:
        known = [rule.id for rule in bip_checker.rulebook.rules["phase"]]
        close = difflib.get_close_matches(rule_id, known, n=1, cutoff=0.6)
        hint = _t("gherkin.fail.did_you_mean", name=close[0]) if close else ""
        _fail(_t("gherkin.fail.unknown_phase_rule", rule=rule_id, closest=hint))
    actual = evaluation.outcome.phase_rule
    if actual is None or actual.id != rule_id:
        decided = actual.id if actual else _t("gherkin.explain.no_rule")
        _fail(
            f"{_t('gherkin.fail.decided_by', rule=rule_id, actual=decided)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_traces(bip_checker, evaluation, rules)}"
        )


@_step(
    "then",
    "Så er sikkerheden <lav|middel|høj>",
    r"er sikkerheden (?P<level>\S+)",
    "Så er sikkerheden lav",
    "gherkin.steps.confidence",
    after_og=("Og sikkerheden er <lav|middel|høj>", r"sikkerheden er (?P<level>\S+)", "Og sikkerheden er lav"),
)
def _sikkerheden(bip_scenarie: ScenarioState, bip_checker: Checker, level: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    wanted = CONFIDENCE_DA.get(level.casefold())
    if wanted is None:
        _fail(_t("gherkin.fail.unknown_confidence", level=level, words=", ".join(CONFIDENCE_DA)))
    actual = evaluation.facts.get("confidence")
    if actual != wanted:
        expected = level if _LANG["lang"] == "da" else wanted  # Danish: as the scenario wrote it
        _fail(
            f"{_t('gherkin.fail.confidence', expected=expected, actual=_word(actual))}\n"
            f"{_summary(bip_checker, evaluation)}"
        )


def _flag_rules(checker: Checker, flag_id: str) -> list[CompiledRule]:
    return [rule for rule in checker.rulebook.rules["flag"] if rule.conclusion == flag_id]


@_step(
    "then",
    'Så rejses flaget "<flag-id>"',
    r'rejses flaget "(?P<flag_id>[^"]+)"',
    'Så rejses flaget "no_intervention_3m"',
    "gherkin.steps.flag",
    after_og=(
        'Og flaget "<flag-id>" rejses',
        r'flaget "(?P<flag_id>[^"]+)" rejses',
        'Og flaget "job_oriented_only" rejses',
    ),
)
def _flag_rejses(bip_scenarie: ScenarioState, bip_checker: Checker, flag_id: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    _known_flag(bip_checker, flag_id)
    if flag_id not in evaluation.flags:
        _fail(
            f"{_t('gherkin.fail.flag', flag=flag_id)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_t('gherkin.explain.rules_for', name=flag_id)}\n"
            f"{_traces(bip_checker, evaluation, _flag_rules(bip_checker, flag_id))}"
        )


@_step(
    "then",
    'Så rejses flaget "<flag-id>" ikke',
    r'rejses flaget "(?P<flag_id>[^"]+)" ikke',
    'Så rejses flaget "fifth_internship" ikke',
    "gherkin.steps.no_flag",
    after_og=(
        'Og flaget "<flag-id>" rejses ikke',
        r'flaget "(?P<flag_id>[^"]+)" rejses ikke',
        'Men flaget "no_job_oriented_element" rejses ikke',
    ),
)
def _flag_rejses_ikke(bip_scenarie: ScenarioState, bip_checker: Checker, flag_id: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    _known_flag(bip_checker, flag_id)
    if flag_id in evaluation.flags:
        raised = [rule for rule in evaluation.outcome.flag_rules if rule.conclusion == flag_id]
        _fail(
            f"{_t('gherkin.fail.no_flag', flag=flag_id)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_t('gherkin.explain.raised_by')}\n{_traces(bip_checker, evaluation, raised)}"
        )


@_step(
    "then",
    'Så rejses flaget "<flag-id>" med alvor <høj|middel|lav>',
    r'rejses flaget "(?P<flag_id>[^"]+)" med alvor (?P<severity>\S+)',
    'Så rejses flaget "caseworker_change" med alvor høj',
    "gherkin.steps.flag_severity",
    after_og=(
        'Og flaget "<flag-id>" rejses med alvor <høj|middel|lav>',
        r'flaget "(?P<flag_id>[^"]+)" rejses med alvor (?P<severity>\S+)',
        'Og flaget "no_measurement" rejses med alvor høj',
    ),
)
def _flag_med_alvor(bip_scenarie: ScenarioState, bip_checker: Checker, flag_id: str, severity: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    _known_flag(bip_checker, flag_id)
    wanted = SEVERITY_DA.get(severity.casefold())
    if wanted is None:
        _fail(_t("gherkin.fail.unknown_severity", severity=severity))
    rules = _flag_rules(bip_checker, flag_id)
    expected = severity if _LANG["lang"] == "da" else wanted  # Danish: as the scenario wrote it
    explained = (
        f"{_summary(bip_checker, evaluation)}\n{_t('gherkin.explain.rules_for', name=flag_id)}\n"
        f"{_traces(bip_checker, evaluation, rules)}"
    )
    if flag_id not in evaluation.flags:
        _fail(f"{_t('gherkin.fail.flag_not_raised', flag=flag_id, severity=expected)}\n{explained}")
    actual = _severity(evaluation.outcome.flag_rules, flag_id)
    if actual != wanted:
        shown = _t("gherkin.fail.flag_severity", flag=flag_id, severity=expected, actual=_word(actual))
        _fail(f"{shown}\n{explained}")


def _point_rules(checker: Checker, point: int) -> list[CompiledRule]:
    return [rule for rule in checker.rulebook.rules["checklist"] if rule.conclusion == point]


@_step(
    "then",
    "Så er tjeklistepunkt <n> i fokus",
    r"er tjeklistepunkt (?P<point>\d+) i fokus",
    "Så er tjeklistepunkt 9 i fokus",
    "gherkin.steps.point",
    after_og=(
        "Og tjeklistepunkt <n> er i fokus",
        r"tjeklistepunkt (?P<point>\d+) er i fokus",
        "Og tjeklistepunkt 10 er i fokus",
    ),
)
def _punkt_i_fokus(bip_scenarie: ScenarioState, bip_checker: Checker, point: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    number = int(point)
    _known_point(bip_checker, number)
    if number not in {rule.conclusion for rule in evaluation.outcome.checklist_rules}:
        _fail(
            f"{_t('gherkin.fail.point', point=number)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_t('gherkin.explain.rules_for_point', point=number)}\n"
            f"{_traces(bip_checker, evaluation, _point_rules(bip_checker, number))}"
        )


@_step(
    "then",
    "Så er tjeklistepunkt <n> ikke i fokus",
    r"er tjeklistepunkt (?P<point>\d+) ikke i fokus",
    "Så er tjeklistepunkt 7 ikke i fokus",
    "gherkin.steps.no_point",
    after_og=(
        "Og tjeklistepunkt <n> er ikke i fokus",
        r"tjeklistepunkt (?P<point>\d+) er ikke i fokus",
        "Men tjeklistepunkt 3 er ikke i fokus",
    ),
)
def _punkt_ikke_i_fokus(bip_scenarie: ScenarioState, bip_checker: Checker, point: str) -> None:
    evaluation = _evaluation(bip_scenarie)
    number = int(point)
    _known_point(bip_checker, number)
    focus = [rule for rule in evaluation.outcome.checklist_rules if rule.conclusion == number]
    if focus:
        _fail(
            f"{_t('gherkin.fail.no_point', point=number)}\n{_summary(bip_checker, evaluation)}\n"
            f"{_t('gherkin.explain.focused_by')}\n{_traces(bip_checker, evaluation, focus)}"
        )


#: What `from bip_engine.authoring.gherkin_steps import *` brings into a test module: the fixtures and step definitions.
__all__ = ["STEPS", "bip_checker", "bip_scenarie", "matched_rules"] + [
    name for name in list(globals()) if name.startswith("pytestbdd_")
]
