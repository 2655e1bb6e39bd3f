"""Loading a rulebook: rule files and catalogues, validated and compiled to the intermediate form.

A rulebook is a folder. Fixed files hold its identity and catalogues (`rulebook.yaml`,
`indicators.yaml`, `interventions.yaml`, `findings.yaml`, `checklist.yaml`, `staircase.yaml`);
every other `*.yaml` file is a rule file with a `stage` (phase, flag or checklist) and a list of
rules. Loading checks everything and reports every problem it finds with file and line, then
either returns a complete `Rulebook` or raises `RulebookError`: a rulebook is never half-loaded.

Rules, catalogue entries and parameter values may be dated (`valid_from` / `valid_to`, inclusive).
A `Rulebook` holds every dated variant; `Rulebook.at(day)` is the rulebook in force on a day: the
rules in force, parameters replaced by their values, and the catalogue of that day. Executors only
ever run such a view.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_type_hints

from pydantic_core import ValidationError

from .catalogue import (
    RULE_ID,
    Catalogue,
    ChecklistFile,
    FindingFile,
    IndicatorFile,
    InterventionFile,
    StaircaseFile,
    Text,
    staircase_problems,
)
from .errors import ProblemList, RulebookError
from .expr import Condition, ExpressionError, FactSpec, bind, closest, facts_used, params_used, parse_condition
from .facts import fact_specs
from .messages import part
from .models import Data, DataModel, Field, data_class
from .parameters import ParameterSet, merged_parameters
from .periods import ONE_DAY, Period, Timeline, covered, overlapping, read_period
from .yamlio import LineDict, field_path, locate

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from .rule_files import AnyRule

STAGES = ("phase", "flag", "checklist")
CATALOGUE_FILES = {
    "rulebook.yaml": None,
    "indicators.yaml": IndicatorFile,
    "interventions.yaml": InterventionFile,
    "findings.yaml": FindingFile,
    "checklist.yaml": ChecklistFile,
    "staircase.yaml": StaircaseFile,
}


@data_class(frozen=True, kw_only=True)
class PhaseDefinition(DataModel):
    """A phase the phase rules may conclude."""

    id: Annotated[str, Field(pattern=RULE_ID)]
    label: Text


@data_class(frozen=True)
class CompiledRule(Data):
    """One rule in the intermediate form, ready for either executor."""

    id: str
    stage: str
    conclusion: Any  # phase id, flag id or checklist point number
    rank: int  # order within the stage; for phase rules, lower wins
    severity: str | None
    when: str
    condition: Condition
    reason: Text
    source: str
    path: str
    line: int | None
    origin: str = ""  # the name of the rulebook layer that (last) defined it
    overrides: str | None = None  # file:line of the base rule it overrides
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    parameters: tuple[tuple[str, Any], ...] = ()  # in a dated view: the parameters used, with their values

    @property
    def facts(self) -> list[str]:
        """The facts the rule's condition reads."""
        return facts_used(self.condition)

    @property
    def period(self) -> Period:
        """When the rule is in force."""
        return Period(self.valid_from, self.valid_to)


@data_class()
class Rulebook(Data):
    """A loaded, validated rulebook: identity, catalogues, phases and compiled rules by stage."""

    name: str
    version: str
    description: Text | None
    content_hash: str
    path: Path
    catalogue: Catalogue
    phases: dict[str, PhaseDefinition]
    rules: dict[str, list[CompiledRule]]
    facts: dict[str, FactSpec]
    layers: list[tuple[str, str]] = field(default_factory=list)  # (name, folder), base first
    parameters: ParameterSet = field(default_factory=ParameterSet)
    release: str | None = None  # the release hash, when loaded from a release store
    authors: list[str] = field(default_factory=list)  # `author` of each layer, base first
    period: Period | None = None  # in a view made by `at`: the stretch of days it is valid for
    _views: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def timeline(self) -> Timeline:
        """The days on which some rule, catalogue entry or parameter value starts or stops."""
        cached = self._views.get("timeline")
        if cached is None:
            periods = [rule.period for rule in self.all_rules()] + self.parameters.periods()
            periods += [
                Period(item.valid_from, item.valid_to)
                for items in self.catalogue.variants().values()
                for variants in items.values()
                for item in variants
            ]
            cached = self._views["timeline"] = Timeline(periods)
        return cached

    @property
    def dated(self) -> bool:
        """Whether anything in the rulebook depends on the date."""
        cached = self._views.get("dated")
        if cached is None:
            cached = self._views["dated"] = bool(self.timeline.cuts) or any(
                params_used(rule.condition) for rule in self.all_rules()
            )
        return cached

    def period_index(self, day: dt.date) -> int:
        """The number of the stretch of days (in which nothing changes) that `day` lies in."""
        return self.timeline.index(day) if self.period is None and self.dated else 0

    def at(self, day: dt.date) -> Rulebook:
        """The rulebook in force on `day` (cached per stretch of days in which nothing changes).

        A view made by `at` is fixed to its stretch: `at` on it returns the view itself.
        """
        if self.period is not None or not self.dated:
            return self
        timeline = self.timeline
        index = timeline.index(day)
        view = self._views.get(index)
        if view is None:
            view = self._views[index] = self._view(day, timeline.stretches()[index])
        return view

    def _view(self, day: dt.date, stretch: Period) -> Rulebook:
        values = self.parameters.values_at(day)
        rules: dict[str, list[CompiledRule]] = {}
        for stage in STAGES:
            rules[stage] = []
            for rule in self.rules[stage]:
                used = params_used(rule.condition)
                if not rule.period.contains(day) or any(name not in values for name in used):
                    continue
                if used:
                    rule = CompiledRule(
                        **{
                            **rule.__dict__,
                            "condition": bind(rule.condition, values),
                            "parameters": tuple((name, values[name]) for name in used),
                        }
                    )
                rules[stage].append(rule)
        for stage in ("flag", "checklist"):
            rules[stage] = [_renumber(rule, rank) for rank, rule in enumerate(rules[stage])]
        catalogue = self.catalogue.at(day)
        facts = (
            fact_specs(catalogue, tuple(self.phases), tuple(self.flag_ids))
            if catalogue is not self.catalogue
            else self.facts
        )
        return Rulebook(
            name=self.name,
            version=self.version,
            description=self.description,
            content_hash=self.content_hash,
            path=self.path,
            catalogue=catalogue,
            phases=self.phases,
            rules=rules,
            facts=facts,
            layers=self.layers,
            parameters=self.parameters,
            release=self.release,
            authors=self.authors,
            period=stretch,
        )

    @property
    def flag_ids(self) -> list[str]:
        """Every flag some rule can raise, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.rules["flag"]))

    def all_rules(self) -> list[CompiledRule]:
        """Every rule, stage by stage."""
        return [rule for stage in STAGES for rule in self.rules[stage]]


def _value_beside(values: Any, gap: Period) -> int | None:
    """The line of the parameter value that ends just before `gap` or starts just after it."""
    for item in values:
        end, start = item.period.end, item.period.start
        if (gap.start and end and end + ONE_DAY == gap.start) or (gap.end and start and start - ONE_DAY == gap.end):
            return item.line
    return None


def load_rulebook(folder: str | Path) -> Rulebook:
    """Load, validate and compile the rulebook in `folder`; raise `RulebookError` listing every problem.

    A rulebook that `extends` another is merged over it first (see `bip_engine.layers`).
    """
    # Here: a rulebook from the cache needs neither the YAML-side models nor the reading of layers.
    from .layers import (
        CATALOGUE_KEYS,
        META_FILE,
        PARAMETERS_FILE,
        content_hash,
        merged_catalogue,
        merged_rules,
        read_layers,
    )
    from .rule_files import RulebookInfo

    folder = Path(folder)
    problems = ProblemList()
    if not folder.is_dir():
        problems.add("F001.rulebook", str(folder))
        problems.raise_if_any(RulebookError)
    layers = read_layers(folder, problems)
    for name in CATALOGUE_FILES:
        if not any(name in layer.files for layer in layers) and not any(
            p.path and p.path.endswith(name) for p in problems.items
        ):
            problems.add("F003.missing", str(folder / name), name=name)
    problems.raise_if_any(RulebookError)

    top_path, top_meta = layers[-1].files[META_FILE]
    info = _validate(RulebookInfo, top_path, top_meta, problems)
    parts = {
        name: _validate(model, *merged_catalogue(layers, name), problems)
        for name, model in CATALOGUE_FILES.items()
        if model
    }
    for name in CATALOGUE_KEYS:
        _catalogue_periods(name, *merged_catalogue(layers, name), problems)
    for layer in layers:
        for name, (path, data) in layer.files.items():
            if name not in CATALOGUE_FILES and name != PARAMETERS_FILE:
                _check_rule_file(path, data, problems)
    entries, disabled, phase_lists = merged_rules(layers, problems)
    parameters = merged_parameters(layers, problems)
    problems.raise_if_any(RulebookError)

    catalogue = Catalogue(
        parts["indicators.yaml"],
        parts["interventions.yaml"],
        parts["findings.yaml"],
        parts["checklist.yaml"],
        parts["staircase.yaml"],
    )
    problems.items.extend(catalogue.cross_problems(str(folder / "interventions.yaml")))
    staircase_path, staircase_data = merged_catalogue(layers, "staircase.yaml")
    problems.items.extend(staircase_problems(str(staircase_path), staircase_data, parts["staircase.yaml"]))
    phases = _collect_phases(phase_lists, problems)
    rules = _compile(entries, catalogue, phases, problems, _flag_ids(disabled), parameters)
    problems.raise_if_any(RulebookError)
    return Rulebook(
        name=info.name,
        version=info.version,
        description=info.description,
        content_hash=content_hash(layers),
        path=folder,
        catalogue=catalogue,
        phases=phases,
        rules=rules,
        facts=fact_specs(catalogue, tuple(phases), tuple(dict.fromkeys(r.conclusion for r in rules["flag"]))),
        layers=[(layer.name, str(layer.folder)) for layer in layers],
        parameters=parameters,
        release=_release_of(folder),
        authors=_authors(layers),
    )


def _release_of(folder: Path) -> str | None:
    """The release hash when `folder` lies in a release store (its `release.json` names it)."""
    from .layers import RELEASE_FILE

    for candidate in (folder / RELEASE_FILE, folder.parent.parent / RELEASE_FILE):
        try:
            return str(json.loads(candidate.read_text(encoding="utf-8"))["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def _authors(layers: list) -> list[str]:
    names = []
    for layer in layers:
        author = layer.meta.get("author") if isinstance(layer.meta, dict) else None
        names += [str(author)] if isinstance(author, str) else [str(a) for a in author or [] if a]
    return names


def _catalogue_periods(name: str, path: Path | None, data: Any, problems: ProblemList) -> None:
    """D002 and D003 for dated catalogue entries (D001 comes from the schema)."""
    if not isinstance(data, dict):
        return
    from .layers import CATALOGUE_KEYS

    for key, id_key in CATALOGUE_KEYS[name].items():
        items = data.get(key)
        if not isinstance(items, list):
            continue
        groups: dict[Any, list[tuple[Period, Any]]] = {}
        for item in items:
            if not isinstance(item, dict):
                continue
            scratch = ProblemList()
            period = read_period(item, scratch, part("label.entry", kind=key, id=str(item.get(id_key or "phrase"))))
            problems.items.extend(p for p in scratch.items if p.code == "D002")
            groups.setdefault(item.get(id_key or "phrase"), []).append((period, item))
        for entry_id, variants in groups.items():
            if entry_id is None or len(variants) < 2:
                continue
            for first, second in overlapping([period for period, _ in variants]):
                (one, earlier), (other, later) = variants[first], variants[second]
                problems.add(
                    "D003.catalogue" if one.dated or other.dated else "S004.catalogue",
                    later.path or str(path),
                    later.line,
                    kind=key,
                    id=str(entry_id),
                    first=one.part(),
                    first_line=earlier.line,
                    second=other.part(),
                )


def _validate(model: type[DataModel], path: Path | None, data: Any, problems: ProblemList) -> Any:
    if data is None:
        problems.add("S002.empty", str(path))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        _schema_problems(exc, data, path, problems, fields=_field_names(model))
        return None


def _schema_problems(
    exc: ValidationError,
    data: Any,
    path: Path | None,
    problems: ProblemList,
    label: dict | str = "",
    fields: frozenset[str] = frozenset(),
) -> None:
    """One S002 (or D001) problem per validation error, at its file and line; an unknown field with
    the closest of `fields` as a did-you-mean."""
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        where, line = locate(data, loc, str(path))
        field = field_path(_loc_in_file(data, loc))
        if loc and loc[-1] in ("valid_from", "valid_to"):
            problems.add("D001.date", where, line, label=label, field=field, value=str(error.get("input")))
            continue
        detail = _schema_message(error, fields)
        problems.add("S002.schema", where, line, label=label, field=field, detail=detail)


def _loc_in_file(data: Any, loc: tuple) -> tuple:
    """`loc` with each list position counted in the item's own file, not in a list merged over layers."""
    node, shown = data, []
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            own = getattr(node[step], "path", None)
            before = node[:step]
            node = node[step]
            if own is not None:
                shown.append(sum(1 for item in before if getattr(item, "path", None) == own))
                continue
        elif isinstance(node, dict) and step in node:
            node = node[step]
        shown.append(step)
    return tuple(shown)


def _field_names(model: Any) -> frozenset[str]:
    """Every field name of a model and of the models its fields hold (for a did-you-mean)."""
    names: set[str] = set()
    pending, seen = [model], set()
    while pending:
        item = pending.pop()
        if item in seen:
            continue
        seen.add(item)
        if isinstance(item, type) and issubclass(item, DataModel):
            hints = get_type_hints(item)
            names.update(item.field_names())
            pending.extend(hints[name] for name in item.field_names())
        else:
            pending.extend(get_args(item))
    return frozenset(names)


def _schema_message(error: ErrorDetails, fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What is wrong with one field, as a message part; pydantic's own words when we have none."""
    kind = error["type"]
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        name = str(error["loc"][-1]) if error["loc"] else ""
        return part("schema.extra", hint_name=closest(name, fields))
    known = {
        "missing": "schema.missing",
        "string_pattern_mismatch": "schema.pattern",
    }
    if kind in known:
        return part(known[kind])
    return part("schema.other", detail=error["msg"].replace("Input should be", "should be"))


def _check_rule_file(path: Path, data: Any, problems: ProblemList) -> None:
    """A rule file's outer shape: its stage, and lists of phases and rules."""
    from .rule_files import RuleFileShape

    if data is None:
        problems.add("S002.empty", str(path))
        return
    stage = data.get("stage") if isinstance(data, dict) else None
    if stage not in STAGES:
        line = data.line_of("stage") if hasattr(data, "line_of") else None
        problems.add("S001.stage", str(path), line, hint_name=closest(str(stage), STAGES) if stage else None)
        return
    _validate(RuleFileShape, path, data, problems)
    if not isinstance(data, LineDict):
        return
    if stage != "phase" and "phases" in data:
        problems.add("S002.phases_only", str(path), data.line_of("phases"))


def _collect_phases(phase_lists: list, problems: ProblemList) -> dict[str, PhaseDefinition]:
    phases: dict[str, PhaseDefinition] = {}
    for path, data in phase_lists:
        for item in data["phases"]:
            phase = _validate(PhaseDefinition, path, item, problems)
            if phase is not None:
                phases[phase.id] = phase  # a later layer may relabel a phase
    return phases


def _flag_ids(entries: list) -> tuple[str, ...]:
    """Flags named by rule entries (disabled flags stay known, so rules may still mention them)."""
    return tuple(
        entry.data.get("flag") or entry.data["id"]  # a disabled rule always has an id
        for entry in entries
        if entry.stage == "flag" and isinstance(entry.data, dict)
    )


def _compile(
    entries: list,
    catalogue: Catalogue,
    phases: dict,
    problems: ProblemList,
    disabled_flags: tuple[str, ...] = (),
    parameters: ParameterSet | None = None,
) -> dict[str, list]:
    from .rule_files import RULE_MODELS, FlagRule, PhaseRule

    parsed = []
    for entry in entries:
        try:
            parsed.append((entry, RULE_MODELS[entry.stage].model_validate(entry.data)))
        except ValidationError as exc:
            rule_id = entry.data.get("id") if isinstance(entry.data, dict) else None
            label = part("label.rule", rule=str(rule_id)) if rule_id else part("label.rule_unnamed")
            _schema_problems(exc, entry.data, None, problems, label, _field_names(RULE_MODELS[entry.stage]))
    flag_ids = tuple(
        dict.fromkeys([*(rule.flag or rule.id for _, rule in parsed if isinstance(rule, FlagRule)), *disabled_flags])
    )
    specs = fact_specs(catalogue, tuple(phases), flag_ids)
    visible = {
        "phase": {name: spec for name, spec in specs.items() if spec.stage == "facts"},
        "flag": {name: spec for name, spec in specs.items() if spec.stage in ("facts", "phase")},
        "checklist": specs,
    }
    parameters = parameters or ParameterSet()
    params = {name: parameter.candidates for name, parameter in parameters.items.items()}
    for name, parameter in parameters.items.items():
        if name in specs:
            problems.add("D007.fact_name", parameter.path, parameter.line, name=name)
    rules: dict[str, list[CompiledRule]] = {stage: [] for stage in STAGES}
    seen: dict[str, list[tuple[Period, str]]] = {}
    for entry, rule in parsed:
        data, stage = entry.data, entry.stage
        where = (data.path, data.line)
        period = Period(rule.valid_from, rule.valid_to)
        if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
            problems.add(
                "D002.period",
                *locate(data, ("valid_to",)),
                label=part("label.rule", rule=rule.id),
                end=str(rule.valid_to),
                start=str(rule.valid_from),
            )
            continue
        clash = next(((other, place) for other, place in seen.get(rule.id, []) if other.overlaps(period)), None)
        if clash is not None:
            other, place = clash
            if not other.dated and not period.dated:
                problems.add("S004.rule_twice", *where, rule=rule.id, place=place)
            else:
                problems.add("D003.rule", *where, rule=rule.id, period=period.part(), other=other.part(), place=place)
            continue
        seen.setdefault(rule.id, []).append((period, f"{data.path}:{data.line}"))
        conclusion = _conclusion(rule, catalogue, phases, problems, data)
        if rule.source not in catalogue.findings:
            problems.add(
                "S007.source",
                *locate(data, ("source",)),
                rule=rule.id,
                source=rule.source,
                hint_name=closest(rule.source, catalogue.findings),
            )
        try:
            condition = parse_condition(rule.when, visible[stage], params)
        except ExpressionError as exc:
            problems.add(
                "expr.in_rule",
                *locate(data, ("when",)),
                code=exc.code,
                rule=rule.id,
                detail=exc.part(),
                stage_hint=_stage_hint(exc, specs, visible[stage], stage),
                column_note=part("expr.column", column=exc.column) if exc.column else "",
            )
            continue
        for name in params_used(condition):
            parameter = parameters.items[name]
            gaps = covered([item.period for item in parameter.values], period)
            if gaps:  # the fix belongs in parameters.yaml: at the value next to the gap
                problems.add(
                    "D006.gap",
                    parameter.path,
                    _value_beside(parameter.values, gaps[0]) or parameter.line,
                    rule=rule.id,
                    name=name,
                    gaps=[gap.part() for gap in gaps],
                    period=period.part(),
                    place=":".join(str(item) for item in locate(data, ("when",)) if item is not None),
                )
        if conclusion is None:
            continue
        rank = rule.priority if isinstance(rule, PhaseRule) else len(rules[stage])
        rules[stage].append(
            CompiledRule(
                id=rule.id,
                stage=stage,
                conclusion=conclusion,
                rank=rank,
                severity=getattr(rule, "severity", None),
                when=rule.when,
                condition=condition,
                reason=rule.reason,
                source=rule.source,
                path=data.path,
                line=data.line,
                origin=entry.origin,
                overrides=entry.overrides,
                valid_from=rule.valid_from,
                valid_to=rule.valid_to,
            )
        )
    rules["phase"].sort(key=lambda rule: rule.rank)
    for stage in ("flag", "checklist"):
        rules[stage] = [_renumber(rule, rank) for rank, rule in enumerate(rules[stage])]
    return rules


def _renumber(rule: CompiledRule, rank: int) -> CompiledRule:
    return rule if rule.rank == rank else CompiledRule(**{**rule.__dict__, "rank": rank})


def _conclusion(rule: AnyRule, catalogue: Catalogue, phases: dict, problems: ProblemList, data: Any) -> Any:
    from .rule_files import FlagRule, PhaseRule

    if isinstance(rule, PhaseRule):
        if rule.phase not in phases:
            problems.add(
                "S005.phase",
                *locate(data, ("phase",)),
                rule=rule.id,
                phase=rule.phase,
                hint_name=closest(rule.phase, phases),
            )
            return None
        return rule.phase
    if isinstance(rule, FlagRule):
        return rule.flag or rule.id
    if rule.point not in catalogue.checklist:
        problems.add("S006.point", *locate(data, ("point",)), rule=rule.id, point=rule.point)
        return None
    return rule.point


def _stage_hint(exc: ExpressionError, specs: dict, visible: dict, stage: str) -> dict[str, Any] | str:
    """Explain an unknown fact that exists, but only in a later stage (a message part, or "")."""
    for name, spec in specs.items():
        if name not in visible and f"'{name}'" in exc.message and exc.code == "E102":
            return part("expr.stage_hint", name=name, stage=spec.stage, rule_stage=stage)
    return ""
