"""Loading a rulebook: rule files and catalogues, validated and compiled to the intermediate form.

A rulebook is a folder. Fixed files hold its identity and catalogues (`rulebook.yaml`,
`indicators.yaml`, `interventions.yaml`, `findings.yaml`, `checklist.yaml`, `staircase.yaml`);
every other `*.yaml` file is a rule file with a `stage` (phase, flag or checklist) and a list of
rules. Loading checks everything and reports every problem it finds with file and line, then
either returns a complete `Rulebook` or raises `RulebookError`: a rulebook is never half-loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .catalogue import (Catalogue, ChecklistFile, FindingFile, IndicatorFile, InterventionFile,
                        StaircaseFile, Text)
from .errors import ProblemList, RulebookError
from .expr import Condition, ExpressionError, FactSpec, facts_used, parse_condition, suggest
from .facts import fact_specs
from .layers import META_FILE, content_hash, merged_catalogue, merged_rules, read_layers
from .yamlio import field_path, locate

STAGES = ("phase", "flag", "checklist")
SEVERITIES = ("high", "medium", "low")
CATALOGUE_FILES = {
    "rulebook.yaml": None,
    "indicators.yaml": IndicatorFile,
    "interventions.yaml": InterventionFile,
    "findings.yaml": FindingFile,
    "checklist.yaml": ChecklistFile,
    "staircase.yaml": StaircaseFile,
}
RULE_ID = r"^[a-z][a-z0-9_]*$"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _text(value: Any) -> Any:
    """Let a rule give one text for both languages."""
    return {"da": value, "en": value} if isinstance(value, str) else value


class RulebookInfo(_Data):
    """rulebook.yaml: the rulebook's name, version and description; what it extends and disables."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: Text | None = None
    extends: str | None = Field(default=None, description="'default', or the path of another rulebook folder")
    disable: list[str] = Field(default_factory=list, description="Ids of base rules to switch off")

    _text = field_validator("description", mode="before")(_text)


class PhaseDefinition(_Data):
    """A phase the phase rules may conclude."""

    id: str = Field(pattern=RULE_ID)
    label: Text


class _RuleBase(_Data):
    id: str = Field(pattern=RULE_ID)
    when: str = Field(min_length=1)
    reason: Text
    source: str
    description: Text | None = None

    _texts = field_validator("reason", "description", mode="before")(_text)


class PhaseRule(_RuleBase):
    """A phase rule: the first matching one, by priority (lowest number first), sets the phase."""

    phase: str
    priority: int = Field(ge=0, le=60000)


class FlagRule(_RuleBase):
    """A flag rule: every matching one raises its flag (`flag`, or the rule id) at its severity."""

    flag: str | None = Field(default=None, pattern=RULE_ID)
    severity: Literal["high", "medium", "low"]


class ChecklistRule(_RuleBase):
    """A checklist rule: when it matches, its checklist point is put in focus, with its reason."""

    point: int = Field(ge=1)


class RuleFileShape(_Data):
    """The outer shape of a rule file; each rule is validated by its stage's model."""

    stage: Literal["phase", "flag", "checklist"]
    phases: list[dict] = Field(default_factory=list)
    rules: list[dict] = Field(default_factory=list)


RULE_MODELS = {"phase": PhaseRule, "flag": FlagRule, "checklist": ChecklistRule}
AnyRule = Union[PhaseRule, FlagRule, ChecklistRule]


@dataclass(frozen=True)
class CompiledRule:
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

    @property
    def facts(self) -> list[str]:
        """The facts the rule's condition reads."""
        return facts_used(self.condition)


@dataclass
class Rulebook:
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

    @property
    def flag_ids(self) -> list[str]:
        """Every flag some rule can raise, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.rules["flag"]))

    def all_rules(self) -> list[CompiledRule]:
        """Every rule, stage by stage."""
        return [rule for stage in STAGES for rule in self.rules[stage]]


def load_rulebook(folder: str | Path) -> Rulebook:
    """Load, validate and compile the rulebook in `folder`; raise `RulebookError` listing every problem.

    A rulebook that `extends` another is merged over it first (see `engine.layers`).
    """
    folder = Path(folder)
    problems = ProblemList()
    if not folder.is_dir():
        problems.add("F001", "rulebook folder not found", str(folder))
        problems.raise_if_any(RulebookError)
    layers = read_layers(folder, problems)
    for name in CATALOGUE_FILES:
        if not any(name in layer.files for layer in layers) and not any(
                p.path and p.path.endswith(name) for p in problems.items):
            problems.add("F003", f"the rulebook has no {name}", str(folder / name))
    problems.raise_if_any(RulebookError)

    top_path, top_meta = layers[-1].files[META_FILE]
    info = _validate(RulebookInfo, top_path, top_meta, problems)
    parts = {name: _validate(model, *merged_catalogue(layers, name), problems)
             for name, model in CATALOGUE_FILES.items() if model}
    for layer in layers:
        for name, (path, data) in layer.files.items():
            if name not in CATALOGUE_FILES:
                _check_rule_file(path, data, problems)
    entries, disabled, phase_lists = merged_rules(layers, problems)
    problems.raise_if_any(RulebookError)

    catalogue = Catalogue(parts["indicators.yaml"], parts["interventions.yaml"], parts["findings.yaml"],
                          parts["checklist.yaml"], parts["staircase.yaml"])
    problems.items.extend(catalogue.cross_problems(str(folder / "interventions.yaml")))
    phases = _collect_phases(phase_lists, problems)
    rules = _compile(entries, catalogue, phases, problems, _flag_ids(disabled))
    problems.raise_if_any(RulebookError)
    return Rulebook(
        name=info.name, version=info.version, description=info.description,
        content_hash=content_hash(layers), path=folder, catalogue=catalogue, phases=phases, rules=rules,
        facts=fact_specs(catalogue, tuple(phases), tuple(dict.fromkeys(r.conclusion for r in rules["flag"]))),
        layers=[(layer.name, str(layer.folder)) for layer in layers],
    )


def _validate(model: type[BaseModel], path: Path | None, data: Any, problems: ProblemList) -> Any:
    if data is None:
        problems.add("S002", "the file is empty", str(path))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        _schema_problems(exc, data, path, problems)
        return None


def _schema_problems(exc: ValidationError, data: Any, path: Path | None, problems: ProblemList,
                     label: str = "") -> None:
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        where, line = locate(data, loc, str(path))
        problems.add("S002", f"{label}{field_path(loc)}: {_schema_message(error)}", where, line)


def _schema_message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_pattern_mismatch":
        return "must be lower-case letters, digits and _ , starting with a letter"
    return error["msg"].replace("Input should be", "should be")


def _check_rule_file(path: Path, data: Any, problems: ProblemList) -> None:
    """A rule file's outer shape: its stage, and lists of phases and rules."""
    if data is None:
        problems.add("S002", "the file is empty", str(path))
        return
    stage = data.get("stage") if isinstance(data, dict) else None
    if stage not in STAGES:
        line = data.line_of("stage") if hasattr(data, "line_of") else None
        problems.add("S001", f"a rule file needs 'stage: phase', 'stage: flag' or 'stage: checklist'"
                     f"{suggest(str(stage), STAGES) if stage else ''}", str(path), line)
        return
    _validate(RuleFileShape, path, data, problems)
    if stage != "phase" and "phases" in data:
        problems.add("S002", "phases: only phase rule files may define phases", str(path), data.line_of("phases"))


def _collect_phases(phase_lists: list, problems: ProblemList) -> dict[str, PhaseDefinition]:
    phases: dict[str, PhaseDefinition] = {}
    for path, data in phase_lists:
        for index, item in enumerate(data["phases"]):
            phase = _validate(PhaseDefinition, path, item, problems)
            if phase is not None:
                phases[phase.id] = phase  # a later layer may relabel a phase
    return phases


def _flag_ids(entries: list) -> tuple[str, ...]:
    """Flags named by rule entries (disabled flags stay known, so rules may still mention them)."""
    return tuple(entry.data.get("flag") or entry.data.get("id") for entry in entries
                 if entry.stage == "flag" and isinstance(entry.data, dict))


def _compile(entries: list, catalogue: Catalogue, phases: dict, problems: ProblemList,
             disabled_flags: tuple[str, ...] = ()) -> dict[str, list]:
    parsed = []
    for entry in entries:
        try:
            parsed.append((entry, RULE_MODELS[entry.stage].model_validate(entry.data)))
        except ValidationError as exc:
            rule_id = entry.data.get("id") if isinstance(entry.data, dict) else None
            _schema_problems(exc, entry.data, None, problems, f"rule '{rule_id}': " if rule_id else "rule: ")
    flag_ids = tuple(dict.fromkeys([*(rule.flag or rule.id for entry, rule in parsed if entry.stage == "flag"),
                                    *disabled_flags]))
    specs = fact_specs(catalogue, tuple(phases), flag_ids)
    visible = {
        "phase": {name: spec for name, spec in specs.items() if spec.stage == "facts"},
        "flag": {name: spec for name, spec in specs.items() if spec.stage in ("facts", "phase")},
        "checklist": specs,
    }
    rules: dict[str, list[CompiledRule]] = {stage: [] for stage in STAGES}
    seen: dict[str, str] = {}
    for entry, rule in parsed:
        data, stage = entry.data, entry.stage
        where = (data.path, data.line)
        if rule.id in seen:
            problems.add("S004", f"rule id '{rule.id}' is used twice (first at {seen[rule.id]})", *where)
            continue
        seen[rule.id] = f"{data.path}:{data.line}"
        conclusion = _conclusion(stage, rule, catalogue, phases, problems, data)
        if rule.source not in catalogue.findings:
            problems.add("S007", f"rule '{rule.id}': unknown source finding '{rule.source}'"
                         f"{suggest(rule.source, catalogue.findings)}", *locate(data, ("source",)))
        try:
            condition = parse_condition(rule.when, visible[stage])
        except ExpressionError as exc:
            hidden = _stage_hint(exc, specs, visible[stage], stage)
            column = f" (column {exc.column} of the condition)" if exc.column else ""
            problems.add(exc.code, f"rule '{rule.id}': {exc.message}{hidden}{column}", *locate(data, ("when",)))
            continue
        if conclusion is None:
            continue
        rank = rule.priority if stage == "phase" else len(rules[stage])
        rules[stage].append(CompiledRule(
            id=rule.id, stage=stage, conclusion=conclusion, rank=rank,
            severity=getattr(rule, "severity", None), when=rule.when, condition=condition,
            reason=rule.reason, source=rule.source, path=data.path, line=data.line,
            origin=entry.origin, overrides=entry.overrides))
    rules["phase"].sort(key=lambda rule: rule.rank)
    for stage in ("flag", "checklist"):
        rules[stage] = [_renumber(rule, rank) for rank, rule in enumerate(rules[stage])]
    return rules


def _renumber(rule: CompiledRule, rank: int) -> CompiledRule:
    return rule if rule.rank == rank else CompiledRule(**{**rule.__dict__, "rank": rank})


def _conclusion(stage: str, rule: AnyRule, catalogue: Catalogue, phases: dict, problems: ProblemList,
                data: Any) -> Any:
    if stage == "phase":
        if rule.phase not in phases:
            problems.add("S005", f"rule '{rule.id}': unknown phase '{rule.phase}'{suggest(rule.phase, phases)}",
                         *locate(data, ("phase",)))
            return None
        return rule.phase
    if stage == "flag":
        return rule.flag or rule.id
    if rule.point not in catalogue.checklist:
        problems.add("S006", f"rule '{rule.id}': there is no checklist point {rule.point}",
                     *locate(data, ("point",)))
        return None
    return rule.point


def _stage_hint(exc: ExpressionError, specs: dict, visible: dict, stage: str) -> str:
    """Explain an unknown fact that exists, but only in a later stage."""
    for name, spec in specs.items():
        if name not in visible and f"'{name}'" in exc.message and exc.code == "E102":
            return f"; '{name}' is only known after the {spec.stage} stage, not in {stage} rules"
    return ""
