"""`bip rules validate`: every problem of a rulebook and its guidance templates, like a linter.

Beyond what loading checks (YAML syntax, duplicate keys, schema, unknown names with "did you
mean", type mismatches, impossible comparisons), validation looks at the rulebook as a whole:
- conditions that can never be true (a contradiction such as `level > 3 and level < 2`);
- phase rules that can never win, because a higher-priority rule matches whenever they do;
- whether every record with a measurement gets a phase;
- the guidance templates: one per phase and flag in every language, the same names in `da/` and
  `en/`, every template compiles in the sandbox and uses only the variables the engine provides
  (and only facts that exist);
- over time (dated rules): each stretch of days in which the rules do not change is checked on its
  own; a stretch in which no phase rule covers every record while others do is a gap (D004), and a
  rule or parameter that refers to a catalogue entry not in force in the whole of its period is D005;
  a rule of any stage whose dated variants leave days between them uncovered is D008 (a warning
  that says what happens in the gap: the flag is never raised, the point never in focus);
- a parameter value that no record can tell from the value before it (V004): the facts a rule
  compares with it are averages of whole-number scores (or whole numbers), so only certain values
  occur; when none lies between the old and the new value, the change alters no outcome, and the
  warning names the nearest value that would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import cast

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from ..errors import Problem, RulebookError, problem
from ..expr import Compare, closest
from ..messages import part
from ..paths import default_guidance
from ..periods import ONE_DAY, Period, covered
from ..render import limit_problems
from ..rulebook import CompiledRule, Rulebook, load_rulebook
from .analysis import never_true, shadowed_by

LANGUAGES = ("da", "en")
LAYOUTS = ("report.txt.j2", "report.md.j2", "explain.txt.j2", "margin.txt.j2", "citizen.txt.j2")
CONTEXT = {  # the variables the engine gives each kind of template
    "phases": {"phase", "facts", "lang"},
    "flags": {"flag", "facts", "phase", "lang"},
    "report": {"report", "width"},
    "checklist": {"report", "width"},
    "explain": {"report", "trace", "width"},
    "margin": {"margin", "labels", "indicators", "current"},
    "citizen": {"citizen", "width"},
}
COVERAGE_SAMPLE = 2000


@dataclass
class Validation:
    """The outcome of validating a rulebook: errors, warnings, and the rulebook when it loaded."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    rulebook: Rulebook | None = None

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors


def validate(folder: str | Path, guidance: list[str | Path] | tuple = ()) -> Validation:
    """Check the rulebook in `folder` and the guidance templates (bundled, then `guidance` overrides)."""
    result = Validation()
    try:
        result.rulebook = load_rulebook(folder)
    except RulebookError as error:
        result.errors.extend(error.problems)
    if result.rulebook is not None:
        rulebook = result.rulebook
        stretches = rulebook.timeline.stretches() if rulebook.dated else [Period()]
        views = [(stretch, rulebook.at(rulebook.timeline.representative(stretch))) for stretch in stretches]
        for _, view in views:
            _check_conditions(view, result)
        _check_time_coverage(rulebook, views, result)
        _check_rule_gaps(rulebook, result)
        _check_parameter_effect(rulebook, result)
        _check_references(rulebook, result)
        _dedupe(result)
    _check_templates(result.rulebook, [Path(item) for item in guidance], result)
    return result


def _check_conditions(rulebook: Rulebook, result: Validation) -> None:
    specs = rulebook.facts
    for rule in rulebook.all_rules():
        if never_true(rule.condition, specs):
            result.errors.append(problem("E106", rule.path, rule.line, rule=rule.id, when=rule.when))
    earlier: list[CompiledRule] = []
    for rule in rulebook.rules["phase"]:
        if earlier and shadowed_by(rule.condition, [other.condition for other in earlier], specs):
            result.errors.append(
                problem("V001", rule.path, rule.line, rule=rule.id, earlier=", ".join(other.id for other in earlier))
            )
        earlier.append(rule)


def _dedupe(result: Validation) -> None:
    """The same problem found in several stretches of time is reported once."""
    for name in ("errors", "warnings"):
        seen, kept = set(), []
        for item in getattr(result, name):
            key = (item.code, item.message, item.path, item.line)
            if key not in seen:
                seen.add(key)
                kept.append(item)
        setattr(result, name, kept)


def _catch_all(view: Rulebook) -> CompiledRule | None:
    """The first phase rule that by itself gives every record with a measurement of the citizen's own
    ratings a phase, or None (the phase rests on those ratings: without any there is no phase)."""
    from .analysis import dnf, implies

    has_measurement = (Compare("rated_measurement_count", ">=", 1),)
    for rule in view.rules["phase"]:
        if any(implies(has_measurement, conjunct, view.facts) for conjunct in (dnf(rule.condition) or [])):
            return rule
    return None


def _check_time_coverage(rulebook: Rulebook, views: list, result: Validation) -> None:
    """Per stretch of days: a phase for every record with a measurement; D004 for a gap in time."""
    catch_alls = [(stretch, view, _catch_all(view)) for stretch, view in views]
    covering = [rule for _, _, rule in catch_alls if rule is not None]
    for stretch, view, rule in catch_alls:
        if rule is not None:
            continue
        if covering or not view.rules["phase"]:
            candidates = covering or rulebook.rules["phase"]
            nearest = candidates[0] if candidates else None
            result.errors.append(
                problem(
                    "D004.gap",
                    nearest.path if nearest else str(rulebook.path),
                    nearest.line if nearest else None,
                    start=str(stretch.start) if stretch.start else part("D004.beginning"),
                    end=str(stretch.end) if stretch.end else part("D004.end_of_time"),
                    what=part("D004.no_rule" if not view.rules["phase"] else "D004.not_all"),
                    nearest=part("D004.nearest", rule=nearest.id) if covering and nearest else "",
                )
            )
            continue
        _check_phase_coverage(view, result, rulebook.timeline.representative(stretch) if rulebook.dated else None)


def _check_rule_gaps(rulebook: Rulebook, result: Validation) -> None:
    """D008: days between two dated variants of one rule on which none is in force, with what that means."""
    variants: dict[str, list[CompiledRule]] = {}
    for rule in rulebook.all_rules():
        variants.setdefault(rule.id, []).append(rule)
    for rule_id, rules in variants.items():
        ordered = sorted(rules, key=lambda rule: rule.valid_from or dt.date.min)
        for before, after in pairwise(ordered):
            if before.valid_to is None or after.valid_from is None:
                continue
            start, end = before.valid_to + ONE_DAY, after.valid_from - ONE_DAY
            if start > end:
                continue
            result.warnings.append(
                problem(
                    "D008.rule_gap",
                    after.path,
                    after.line,
                    rule=rule_id,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    place=f"{before.path}:{before.line}",
                    effect=part(f"D008.{after.stage}", conclusion=str(after.conclusion)),
                )
            )


_OPERATORS = {
    "<": lambda x, t: x < t,
    "<=": lambda x, t: x <= t,
    ">": lambda x, t: x > t,
    ">=": lambda x, t: x >= t,
    "==": lambda x, t: x == t,
    "!=": lambda x, t: x != t,
}
AVERAGED = {"level": "level", "change": "change", "change_prev": "change", "change_two_intervals": "change"}


def attainable(rulebook: Rulebook, fact: str) -> list[float] | None:
    """Every value `fact` can take, from its definition; None when it is not a bounded average or whole number.

    `level` is the mean of the latest scores of k citizen indicators, the changes the mean of k
    score differences (k = 1 .. the number of citizen indicators, each score a whole number within
    the indicator's bounds): the values j/k. A whole-number fact with bounds takes those numbers.
    """
    specs = rulebook.facts
    citizen = rulebook.catalogue.citizen_indicators()
    if fact in AVERAGED and citizen:
        bounds = [specs.get(f"score_{name}") for name in citizen]
        low = min(int(spec.minimum) for spec in bounds if spec and spec.minimum is not None)
        high = max(int(spec.maximum) for spec in bounds if spec and spec.maximum is not None)
        values: set[float] = set()
        for k in range(1, len(citizen) + 1):
            if AVERAGED[fact] == "level":
                values.update(round(j / k, 4) for j in range(low * k, high * k + 1))
            else:
                span = (high - low) * k
                values.update(round(j / k, 4) for j in range(-span, span + 1))
        return sorted(values)
    spec = specs.get(fact)
    first, last = (spec.minimum, spec.maximum) if spec is not None and spec.type == "integer" else (None, None)
    if first is not None and last is not None and last - first <= 10_000:
        return [float(value) for value in range(int(first), int(last) + 1)]
    return None


def _differs(values: list[float], op: str, old: float, new: float) -> bool:
    test = _OPERATORS[op]
    return any(test(x, old) != test(x, new) for x in values)


def _nearest_effective(values: list[float], op: str, old: float, new: float) -> float | None:
    """The attainable value nearest to `new`, on the same side of `old`, that would change an outcome."""
    side = [x for x in values if (x - old) * (new - old) > 0]
    for candidate in sorted(side, key=lambda x: abs(x - new)):
        if _differs(values, op, old, candidate):
            return candidate
    return None


def _base_parameters(rulebook: Rulebook) -> dict:
    """The parameters of the layers below the top one (what a local parameters.yaml replaces)."""
    from ..errors import ProblemList
    from ..layers import read_layers
    from ..parameters import merged_parameters

    if len(rulebook.layers) < 2:
        return {}
    scratch = ProblemList()
    layers = read_layers(Path(rulebook.layers[-1][1]), scratch)
    return merged_parameters(layers[:-1], scratch).items if not scratch.items else {}


def _check_parameter_effect(rulebook: Rulebook, result: Validation) -> None:
    """V004: a parameter value that changes no outcome, given the values the compared fact can take."""
    from ..expr import Param, atoms

    uses: dict[str, set[tuple[str, str]]] = {}
    for rule in rulebook.all_rules():
        for atom in atoms(rule.condition):
            if isinstance(getattr(atom, "value", None), Param) and atom.op in _OPERATORS:
                uses.setdefault(atom.value.name, set()).add((atom.fact, atom.op))
    base = _base_parameters(rulebook)
    for name, parameter in rulebook.parameters.items.items():
        numbers = [item for item in parameter.values if isinstance(item.value, int | float)]
        pairs = list(pairwise((item.value, item) for item in numbers))
        before = [item for item in getattr(base.get(name), "values", []) if isinstance(item.value, int | float)]
        if before:
            pairs += [((before[-1].value, before[-1]), (item.value, item)) for item in numbers]
        for (old, _), (new, item) in pairs:
            if old == new:
                continue
            for fact, op in sorted(uses.get(name, ())):
                values = attainable(rulebook, fact)
                if values is None or _differs(values, op, old, new):
                    continue
                nearest = _nearest_effective(values, op, old, new)
                result.warnings.append(
                    problem(
                        "V004.no_effect",
                        parameter.path,
                        item.line,
                        name=name,
                        old=_shown(old),
                        new=_shown(new),
                        fact=fact,
                        op=op,
                        nearest=part("V004.nearest", value=_shown(nearest)) if nearest is not None else "",
                    )
                )


def _shown(value: float) -> str:
    return f"{value:g}"


def _check_references(rulebook: Rulebook, result: Validation) -> None:
    """D005: a rule or parameter that refers to a catalogue entry not in force in the whole of its period."""
    from ..expr import Param, atoms

    variants = rulebook.catalogue.variants()

    def gaps(kind: str, entry_id: str, period: Period) -> list[Period]:
        entries = variants[kind].get(entry_id)
        if not entries:
            return []
        return covered([Period(item.valid_from, item.valid_to) for item in entries], period)

    def report(what: dict, kind: str, entry_id: str, period: Period, path: str | None, line: int | None) -> None:
        missing = gaps(kind, entry_id, period)
        if missing:
            result.errors.append(
                problem(
                    "D005.reference",
                    path,
                    line,
                    what=what,
                    period=period.part(),
                    kind=part(f"catalogue_kind.{kind}"),
                    id=entry_id,
                    gaps=[gap.part() for gap in missing],
                )
            )

    for rule in rulebook.all_rules():
        what = part("name.rule", rule=rule.id)
        report(what, "finding", rule.source, rule.period, rule.path, rule.line)
        for atom in atoms(rule.condition):
            value = getattr(atom, "value", None)
            if isinstance(value, Param) or not isinstance(value, str):
                kind = None
            else:
                kind = {
                    "active_interventions": "intervention",
                    "active_types": "type",
                    "largest_drop_indicator": "indicator",
                }.get(atom.fact)
            if kind and isinstance(value, str):
                report(what, kind, value, rule.period, rule.path, rule.line)
            if atom.fact.startswith("score_"):
                report(what, "indicator", atom.fact[len("score_") :], rule.period, rule.path, rule.line)
    for parameter in rulebook.parameters.items.values():
        if parameter.source:
            for item in parameter.values:
                report(
                    part("name.parameter", name=parameter.name),
                    "finding",
                    parameter.source,
                    item.period,
                    parameter.path,
                    item.line,
                )


def _check_phase_coverage(rulebook: Rulebook, result: Validation, rules_day: dt.date | None = None) -> None:
    """Every record with a measurement of the citizen's own ratings should get a phase: proven by a
    catch-all, else sampled."""
    if _catch_all(rulebook) is not None:
        return
    from ..caseload.simulate import generate_cohort
    from ..check import Checker

    checker = Checker(rulebook, engine="python")
    where = rulebook.rules["phase"][-1] if rulebook.rules["phase"] else None
    for data in generate_cohort(COVERAGE_SAMPLE, seed=1, as_of=dt.date(2026, 11, 22), rules_dir=rulebook.path):
        evaluation = checker.evaluate(data, dt.date(2026, 11, 22))
        if evaluation.phase is None and evaluation.facts["rated_measurement_count"] >= 1:
            facts = evaluation.facts
            result.errors.append(
                problem(
                    "V002",
                    where.path if where else str(rulebook.path),
                    where.line if where else None,
                    level=facts["level"],
                    change=facts["change"],
                    change_prev=facts["change_prev"],
                )
            )
            return
    result.warnings.append(
        problem(
            "V003", where.path if where else str(rulebook.path), where.line if where else None, sample=COVERAGE_SAMPLE
        )
    )


def _check_templates(rulebook: Rulebook | None, overrides: list[Path], result: Validation) -> None:
    folders = [default_guidance(), *overrides]
    fact_names = set(rulebook.facts) if rulebook else None
    everywhere = {
        lang: [(folder, _template_names(folder / lang)) for folder in reversed(folders)] for lang in LANGUAGES
    }
    for folder in folders:
        names = {lang: _template_names(folder / lang) for lang in LANGUAGES}
        for lang, other in (("da", "en"), ("en", "da")):
            for name in sorted(names[lang] - names[other]):
                # the first folder on the search path (the overrides, then the bundled ones) that has it
                fallback = next((where for where, found in everywhere[other] if name in found), None)
                if fallback is None:  # reports in `other` show this text (`Guidance.language_note` says so)
                    result.warnings.append(
                        problem("T005.other_language", str(folder / lang / name), language=lang, name=name, other=other)
                    )
                else:
                    result.warnings.append(
                        problem(
                            "T005.fallback",
                            str(folder / lang / name),
                            language=lang,
                            name=name,
                            other=other,
                            fallback=str(fallback / other / name),
                        )
                    )
        for lang in LANGUAGES:
            for name in sorted(names[lang]):
                _check_template(folder / lang / name, name, fact_names, result)
    if rulebook is None:
        return
    needed = [
        *LAYOUTS,
        *(f"phases/{phase}.j2" for phase in rulebook.phases),
        *(f"flags/{flag}.j2" for flag in rulebook.flag_ids),
    ]
    present = set().union(*(_template_names(folder / lang) for folder in folders for lang in LANGUAGES))
    for lang in LANGUAGES:  # a text in either language serves both (T005 warns of the one missing)
        for name in needed:
            if name not in present:
                result.errors.append(problem("T002.folders", str(folders[-1] / lang / name), name=name, language=lang))


def _template_names(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*.j2")}


def _check_template(path: Path, name: str, fact_names: set[str] | None, result: Validation) -> None:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.filters.update(
        {
            filter_name: (lambda value, *args, **kwargs: value)
            for filter_name in ("num", "date", "style", "wrap", "tojson")
        }
    )
    try:
        tree = env.parse(path.read_text(encoding="utf-8"), name=name, filename=str(path))
    except jinja2.TemplateSyntaxError as exc:
        result.errors.append(problem("T001.syntax", str(path), exc.lineno, detail=exc.message))
        return
    except (OSError, UnicodeDecodeError) as exc:
        result.errors.append(problem("F002.unreadable", str(path), reason=str(exc)))
        return
    result.errors.extend(limit_problems(tree, str(path)))
    kind = name.split("/")[0].split(".")[0]
    allowed = CONTEXT.get(kind)
    if allowed is not None:
        assigned = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
        for variable in sorted(meta.find_undeclared_variables(tree) - allowed - assigned):
            line = next((node.lineno for node in tree.find_all(nodes.Name) if node.name == variable), None)
            result.errors.append(
                problem(
                    "T003.variable",
                    str(path),
                    line,
                    name=variable,
                    given=", ".join(sorted(allowed)),
                    hint_name=closest(variable, allowed),
                )
            )
    if fact_names is not None:
        for call in cast("Iterator[nodes.Call]", tree.find_all(nodes.Call)):  # facts.get("name"), the usual form
            target = call.node
            if (
                isinstance(target, nodes.Getattr)
                and target.attr == "get"
                and isinstance(target.node, nodes.Name)
                and target.node.name == "facts"
                and call.args
                and isinstance(call.args[0], nodes.Const)
                and isinstance(call.args[0].value, str)
                and call.args[0].value not in fact_names
            ):
                name = call.args[0].value
                result.errors.append(
                    problem("T004", str(path), call.lineno, name=name, hint_name=closest(name, fact_names))
                )
        lookups = cast("Iterator[nodes.Getattr | nodes.Getitem]", tree.find_all((nodes.Getattr, nodes.Getitem)))
        for node in lookups:  # find_all types them as Expr
            target, key = node.node, getattr(node, "attr", None)
            if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
                key = node.arg.value
            if (
                isinstance(target, nodes.Name)
                and target.name == "facts"
                and isinstance(key, str)
                and key not in fact_names
                and key not in dir(dict)
            ):
                result.errors.append(
                    problem("T004", str(path), node.lineno, name=key, hint_name=closest(key, fact_names))
                )
