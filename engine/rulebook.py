"""Loading a rulebook: rule files and catalogues, validated and compiled to the intermediate form.

A rulebook is a folder. Fixed files hold its identity and catalogues (`rulebook.yaml`,
`indicators.yaml`, `interventions.yaml`, `findings.yaml`, `checklist.yaml`, `staircase.yaml`);
every other `*.yaml` file is a rule file with a `stage` (phase, flag or checklist) and a list of
rules. Loading checks everything and reports every problem it finds with file and line, then
either returns a complete `Rulebook` or raises `RulebookError`: a rulebook is never half-loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .catalogue import (Catalogue, ChecklistFile, FindingFile, IndicatorFile, InterventionFile,
                        StaircaseFile, Text)
from .errors import ProblemList, RulebookError
from .expr import Condition, ExpressionError, FactSpec, facts_used, parse_condition, suggest
from .facts import fact_specs
from .yamlio import field_path, line_of, parse_yaml, read_text

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
    model_config = ConfigDict(extra="forbid", frozen=True)


def _text(value: Any) -> Any:
    """Let a rule give one text for both languages."""
    return {"da": value, "en": value} if isinstance(value, str) else value


class RulebookInfo(_Data):
    """rulebook.yaml: the rulebook's name, version and description."""

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: Text | None = None

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


class PhaseRuleFile(_Data):
    """A rule file of the phase stage."""

    stage: Literal["phase"]
    phases: list[PhaseDefinition] = Field(default_factory=list)
    rules: list[PhaseRule] = Field(default_factory=list)


class FlagRuleFile(_Data):
    """A rule file of the flag stage."""

    stage: Literal["flag"]
    rules: list[FlagRule] = Field(default_factory=list)


class ChecklistRuleFile(_Data):
    """A rule file of the checklist stage."""

    stage: Literal["checklist"]
    rules: list[ChecklistRule] = Field(default_factory=list)


RULE_FILE_MODELS = {"phase": PhaseRuleFile, "flag": FlagRuleFile, "checklist": ChecklistRuleFile}
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

    @property
    def flag_ids(self) -> list[str]:
        """Every flag some rule can raise, in rule order."""
        return list(dict.fromkeys(rule.conclusion for rule in self.rules["flag"]))

    def all_rules(self) -> list[CompiledRule]:
        """Every rule, stage by stage."""
        return [rule for stage in STAGES for rule in self.rules[stage]]


def content_hash(folder: Path) -> str:
    """A SHA-256 over the names and bytes of every YAML file of a rulebook folder."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_rulebook(folder: str | Path) -> Rulebook:
    """Load, validate and compile the rulebook in `folder`; raise `RulebookError` listing every problem."""
    folder = Path(folder)
    problems = ProblemList()
    if not folder.is_dir():
        problems.add("F001", "rulebook folder not found", str(folder))
        problems.raise_if_any(RulebookError)
    loaded = {}
    for path in sorted(folder.glob("*.yaml")):
        text, problem = read_text(path)
        data, problem = (None, problem) if problem else parse_yaml(text, str(path))
        if problem:
            problems.items.append(problem)
        else:
            loaded[path.name] = (path, data)
    for name in CATALOGUE_FILES:
        if name not in loaded and not any(p.path and p.path.endswith(name) for p in problems.items):
            problems.add("F003", f"the rulebook has no {name}", str(folder / name))
    problems.raise_if_any(RulebookError)

    info = _validate(RulebookInfo, *loaded["rulebook.yaml"], problems)
    parts = {name: _validate(model, *loaded[name], problems) for name, model in CATALOGUE_FILES.items() if model}
    rule_files = []
    for name, (path, data) in loaded.items():
        if name in CATALOGUE_FILES:
            continue
        stage = data.get("stage") if isinstance(data, dict) else None
        if stage not in RULE_FILE_MODELS:
            line = data.line_of("stage") if hasattr(data, "line_of") else None
            problems.add("S001", f"a rule file needs 'stage: phase', 'stage: flag' or 'stage: checklist'"
                         f"{suggest(str(stage), STAGES) if stage else ''}", str(path), line)
            continue
        parsed = _validate(RULE_FILE_MODELS[stage], path, data, problems)
        if parsed is not None:
            rule_files.append((path, data, parsed))
    problems.raise_if_any(RulebookError)

    catalogue = Catalogue(parts["indicators.yaml"], parts["interventions.yaml"], parts["findings.yaml"],
                          parts["checklist.yaml"], parts["staircase.yaml"])
    problems.items.extend(catalogue.cross_problems(str(folder / "interventions.yaml")))
    phases = _collect_phases(rule_files, problems)
    rules = _compile(rule_files, catalogue, phases, problems)
    problems.raise_if_any(RulebookError)
    return Rulebook(
        name=info.name, version=info.version, description=info.description,
        content_hash=content_hash(folder), path=folder, catalogue=catalogue, phases=phases, rules=rules,
        facts=fact_specs(catalogue, tuple(phases), tuple(dict.fromkeys(r.conclusion for r in rules["flag"]))),
    )


def _validate(model: type[BaseModel], path: Path, data: Any, problems: ProblemList) -> Any:
    if data is None:
        problems.add("S002", "the file is empty", str(path))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
            problems.add("S002", f"{field_path(loc)}: {_schema_message(error)}", str(path), line_of(data, loc))
        return None


def _schema_message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "string_pattern_mismatch":
        return "must be lower-case letters, digits and _ , starting with a letter"
    return error["msg"].replace("Input should be", "should be")


def _collect_phases(rule_files: list, problems: ProblemList) -> dict[str, PhaseDefinition]:
    phases: dict[str, PhaseDefinition] = {}
    for path, data, parsed in rule_files:
        if parsed.stage != "phase":
            continue
        for index, phase in enumerate(parsed.phases):
            if phase.id in phases:
                problems.add("S003", f"phase '{phase.id}' is defined twice", str(path),
                             line_of(data, ("phases", index)))
            phases[phase.id] = phase
    return phases


def _compile(rule_files: list, catalogue: Catalogue, phases: dict, problems: ProblemList) -> dict[str, list]:
    flag_ids = tuple(dict.fromkeys(rule.flag or rule.id for _, _, parsed in rule_files
                                   if parsed.stage == "flag" for rule in parsed.rules))
    specs = fact_specs(catalogue, tuple(phases), flag_ids)
    visible = {
        "phase": {name: spec for name, spec in specs.items() if spec.stage == "facts"},
        "flag": {name: spec for name, spec in specs.items() if spec.stage in ("facts", "phase")},
        "checklist": specs,
    }
    rules: dict[str, list[CompiledRule]] = {stage: [] for stage in STAGES}
    seen: dict[str, tuple[str, int | None]] = {}
    for path, data, parsed in rule_files:
        for index, rule in enumerate(parsed.rules):
            line = line_of(data, ("rules", index))
            where = (str(path), line)
            if rule.id in seen:
                problems.add("S004", f"rule id '{rule.id}' is used twice (first at {seen[rule.id][0]}:"
                             f"{seen[rule.id][1]})", *where)
                continue
            seen[rule.id] = where
            conclusion = _conclusion(parsed.stage, rule, catalogue, phases, problems, path, data, index)
            if rule.source not in catalogue.findings:
                problems.add("S007", f"rule '{rule.id}': unknown source finding '{rule.source}'"
                             f"{suggest(rule.source, catalogue.findings)}", str(path),
                             line_of(data, ("rules", index, "source")))
            try:
                condition = parse_condition(rule.when, visible[parsed.stage])
            except ExpressionError as exc:
                hidden = _stage_hint(exc, specs, visible[parsed.stage], parsed.stage)
                column = f" (column {exc.column} of the condition)" if exc.column else ""
                problems.add(exc.code, f"rule '{rule.id}': {exc.message}{hidden}{column}", str(path),
                             line_of(data, ("rules", index, "when")))
                continue
            if conclusion is None:
                continue
            rank = rule.priority if parsed.stage == "phase" else len(rules[parsed.stage])
            rules[parsed.stage].append(CompiledRule(
                id=rule.id, stage=parsed.stage, conclusion=conclusion, rank=rank,
                severity=getattr(rule, "severity", None), when=rule.when, condition=condition,
                reason=rule.reason, source=rule.source, path=str(path), line=line))
    rules["phase"].sort(key=lambda rule: rule.rank)
    for stage in ("flag", "checklist"):
        rules[stage] = [_renumber(rule, rank) for rank, rule in enumerate(rules[stage])]
    return rules


def _renumber(rule: CompiledRule, rank: int) -> CompiledRule:
    return rule if rule.rank == rank else CompiledRule(**{**rule.__dict__, "rank": rank})


def _conclusion(stage: str, rule: AnyRule, catalogue: Catalogue, phases: dict, problems: ProblemList,
                path: Path, data: Any, index: int) -> Any:
    if stage == "phase":
        if rule.phase not in phases:
            problems.add("S005", f"rule '{rule.id}': unknown phase '{rule.phase}'{suggest(rule.phase, phases)}",
                         str(path), line_of(data, ("rules", index, "phase")))
            return None
        return rule.phase
    if stage == "flag":
        return rule.flag or rule.id
    if rule.point not in catalogue.checklist:
        problems.add("S006", f"rule '{rule.id}': there is no checklist point {rule.point}", str(path),
                     line_of(data, ("rules", index, "point")))
        return None
    return rule.point


def _stage_hint(exc: ExpressionError, specs: dict, visible: dict, stage: str) -> str:
    """Explain an unknown fact that exists, but only in a later stage."""
    for name, spec in specs.items():
        if name not in visible and f"'{name}'" in exc.message and exc.code == "E102":
            return f"; '{name}' is only known after the {spec.stage} stage, not in {stage} rules"
    return ""
