"""The rulebook as a readable document (`bip rules docs`), generated from the rule files.

Policy staff review the rules in it, and it backs a citizen's right to an explanation: every rule
with its condition in plain words and as written, its reason, the research finding it rests on,
the file and line it comes from, and the text it makes the engine show (the phase guidance, the
flag's title and an example message). Because it is made from the loaded rulebook every time,
it cannot drift from the rules: change a threshold and the document changes with it, and the
content hash at the top names the exact rule files it describes.

The document is rendered with its own templates in `engine/authoring/docs_templates/` (Markdown or one
self-contained HTML page); the texts a rule produces are rendered with the guidance templates,
exactly as a check would render them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..assemble import flag_title
from ..check import Checker, Evaluation, ReportBuilder
from ..errors import BipError
from ..expr import AllOf, Compare, Condition, params_used
from ..messages import LANGS, texts
from ..render import Guidance, format_date, format_number
from ..rulebook import STAGES, CompiledRule, Rulebook
from ..severity import SEVERITY_ORDER
from .describe import describe, fact_description, fact_labels, format_value, value_labels

TEMPLATES = Path(__file__).resolve().parent / "docs_templates"
FORMATS = {"markdown": "rulebook.md.j2", "html": "rulebook.html.j2"}
PHASE_BLOCKS = ("signs", "meaning", "coherence", "momentum")
EXAMPLE_LIMIT = 3000
EXAMPLE_SEED = 0


@dataclass
class FlagExamples:
    """For each flag rule, a synthetic record that raises its flag by that rule (or none found)."""

    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    searched: int = 0
    as_of: dt.date | None = None
    error: str | None = None


def find_flag_examples(rulebook: Rulebook, limit: int = EXAMPLE_LIMIT, seed: int = EXAMPLE_SEED) -> FlagExamples:
    """One pass over the synthetic cohort, stopping when every flag rule has an example.

    A rule's example is the first record where it matched and is the most severe rule of its flag
    (so the message shown is the one this rule leads to), else the first record where it matched.
    """
    from ..caseload.simulate import DEFAULT_AS_OF, generate_cohort

    wanted = {rule.id for rule in rulebook.rules["flag"]}
    best: dict[str, Evaluation] = {}
    fallback: dict[str, Evaluation] = {}
    result = FlagExamples(as_of=DEFAULT_AS_OF)
    if not wanted:
        return result
    checker = Checker(rulebook, engine="python")
    try:
        for data in generate_cohort(limit, seed, as_of=DEFAULT_AS_OF, rules_dir=rulebook.path):
            result.searched += 1
            try:
                evaluation = checker.evaluate(data, DEFAULT_AS_OF)
            except BipError:
                continue
            matched = evaluation.outcome.flag_rules
            top: dict[str, CompiledRule] = {}
            for rule in sorted(matched, key=lambda r: (SEVERITY_ORDER[r.severity], r.rank)):
                top.setdefault(rule.conclusion, rule)
            for rule in matched:
                fallback.setdefault(rule.id, evaluation)
                if top[rule.conclusion] is rule:
                    best.setdefault(rule.id, evaluation)
            if len(best) == len(wanted):
                break
    except (ValueError, OSError, BipError) as exc:
        result.error = str(exc)
    result.evaluations = {
        rule_id: best.get(rule_id) or fallback[rule_id] for rule_id in wanted if rule_id in best or rule_id in fallback
    }
    return result


def rulebook_document(
    rulebook: Rulebook,
    guidance: Guidance,
    lang: str = "da",
    fmt: str = "markdown",
    *,
    examples: bool = True,
    example_limit: int = EXAMPLE_LIMIT,
) -> str:
    """The rulebook as a Markdown or HTML document in `lang` ("da" or "en").

    `guidance` is the guidance of that language (`Checker.guidance(lang)`, or `Guidance(lang, ...)`
    with a municipality's overrides); the texts rules produce are rendered with it. With
    `examples`, each flag rule gets an example message from a synthetic record (`find_flag_examples`).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}' (choose {' or '.join(FORMATS)})")
    if lang not in LANGS:
        raise ValueError(f"unknown language '{lang}' (choose da or en)")
    found = find_flag_examples(rulebook, example_limit) if examples else None
    context = document_context(rulebook, guidance, lang, found)
    text = _environment().get_template(FORMATS[fmt]).render(context)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def document_context(
    rulebook: Rulebook, guidance: Guidance, lang: str, examples: FlagExamples | None = None
) -> dict[str, Any]:
    """Everything the document templates show, as plain data in `lang`."""
    return _Context(rulebook, guidance, lang, examples).build()


_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=lambda name: name is not None and name.endswith(".html.j2"),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters.update(code=_md_code, cell=_md_cell, quote=_md_quote, paras=_html_paragraphs)
        _ENV = env
    return _ENV


def _md_code(text: Any) -> str:
    """Inline code for Markdown, with a fence longer than any run of backticks inside."""
    text = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_cell(text: Any) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _md_quote(text: Any) -> str:
    """Text as a Markdown block quote, paragraph by paragraph."""
    lines = [line.strip() for line in str(text).splitlines()]
    return "\n".join(f"> {line}" if line else ">" for line in lines) if lines else ">"


def _html_paragraphs(text: Any) -> Markup:
    """Text as escaped HTML paragraphs: blank lines part paragraphs, line breaks inside one are spaces."""
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", str(text))]
    return Markup("".join(f"<p>{escape(part)}</p>" for part in paragraphs if part))


def _relative(path: str | None, folder: Path) -> str:
    if path is None:
        return ""
    try:
        return Path(path).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def neutral_facts(rulebook: Rulebook) -> dict[str, Any]:
    """Every fact with an empty value that fits its type: unknown, 0, no or an empty list."""
    values: dict[str, Any] = {}
    for name, spec in rulebook.facts.items():
        if spec.type == "list":
            values[name] = []
        elif spec.nullable or spec.type == "text":
            values[name] = None
        elif spec.type == "boolean":
            values[name] = False
        else:
            values[name] = 0
    return values


def required_phase(condition: Condition) -> str | None:
    """The phase a condition demands (`phase == "x"`, alone or as a term of an `and`), or None."""
    terms = condition.terms if isinstance(condition, AllOf) else (condition,)
    for term in terms:
        if isinstance(term, Compare) and term.fact == "phase" and term.op == "==":
            return term.value
    return None


class _Context:
    def __init__(self, rulebook: Rulebook, guidance: Guidance, lang: str, examples: FlagExamples | None):
        self.rulebook, self.guidance, self.lang, self.examples = rulebook, guidance, lang, examples
        self.words = texts("docs", lang)
        self.catalogue = rulebook.catalogue
        self.labels = fact_labels(self.catalogue)
        self.values = value_labels(rulebook, lang)
        self.neutral = neutral_facts(rulebook)
        self.reports: dict[int, Any] = {}
        self.builder = ReportBuilder(rulebook, guidance, lang)

    def text(self, value: Any) -> str | None:
        return value.get(self.lang) if value is not None else None

    def finding(self, finding_id: str) -> dict[str, str]:
        item = self.catalogue.findings.get(finding_id)
        if item is None:
            return {
                "id": finding_id,
                "title": finding_id,
                "statement": "",
                "reference": "",
                "kind": "research",
                "kind_label": self.words["kinds"]["research"],
            }
        return {
            "id": item.id,
            "title": item.title.get(self.lang),
            "statement": item.statement.get(self.lang),
            "reference": item.reference,
            "kind": item.kind,
            "kind_label": self.words["kinds"][item.kind],
            "period": self.period(item.valid_from, item.valid_to),
        }

    def period(self, start: Any, end: Any) -> str | None:
        """A validity period as text, or None when undated."""
        if start is None and end is None:
            return None
        return f"{start.isoformat() if start else '…'} – {end.isoformat() if end else '…'}"

    def number(self, value: Any) -> str:
        """A number as the language writes it, with a true minus sign: −0,6 (da), −0.6 (en)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        shown = format_number(value, self.lang)
        return "\u2212" + shown[1:] if shown.startswith("-") else shown

    def parameter_values(self, rule: CompiledRule) -> list[dict[str, str]]:
        """The parameters a rule's condition uses, each with its values and their periods."""
        found = []
        for name in params_used(rule.condition):
            parameter = self.rulebook.parameters.items.get(name)
            if parameter is None:
                continue
            values = [
                self.number(item.value)
                + (f" ({self.period(item.period.start, item.period.end)})" if item.period.dated else "")
                for item in parameter.values
                if rule.period.overlaps(item.period)
            ]
            found.append({"name": name, "values": "; ".join(values)})
        return found

    def parameters(self) -> list[dict[str, Any]]:
        """Every parameter with its history of values."""
        return [
            {
                "name": item.name,
                "description": self.text(item.description) or "",
                "unit": item.unit or "",
                "source": item.source or "",
                "location": f"{_relative(item.path, self.rulebook.path)}:{item.line}",
                "history": [
                    {
                        "value": self.number(value.value),
                        "line": value.line,
                        "period": self.period(value.period.start, value.period.end) or self.words["always"],
                    }
                    for value in item.values
                ],
            }
            for item in self.rulebook.parameters.items.values()
        ]

    def phase_label(self, phase_id: str | None) -> str:
        phase = self.rulebook.phases.get(phase_id) if phase_id else None
        return phase.label.get(self.lang) if phase else str(phase_id)

    def phase_context(self, phase_id: str, rule: CompiledRule | None) -> dict[str, Any]:
        return {
            "id": phase_id,
            "label": self.phase_label(phase_id),
            "confidence": "high",
            "rule": rule.id if rule else "",
            "reason": rule.reason.get(self.lang) if rule else "",
            "source": rule.source if rule else "",
            "finding": self.finding(rule.source) if rule else {"id": "", "title": "", "statement": "", "reference": ""},
            "evidence": {},
            "also_matched": [],
        }

    def build(self) -> dict[str, Any]:
        rulebook, words = self.rulebook, self.words
        stages = [self.stage(stage) for stage in STAGES]
        rules_by_finding: dict[str, list[str]] = {}
        for rule in rulebook.all_rules():
            rules_by_finding.setdefault(rule.source, []).append(rule.id)
        return {
            "lang": self.lang,
            "t": words,
            "doc": {
                "name": rulebook.name,
                "version": rulebook.version,
                "hash": rulebook.content_hash,
                "description": self.text(rulebook.description),
                "folder": rulebook.path.name or str(rulebook.path),
                "stages": stages,
                "phases": [
                    {
                        "id": phase_id,
                        "label": phase.label.get(self.lang),
                        "rules": [r.id for r in rulebook.rules["phase"] if r.conclusion == phase_id],
                    }
                    for phase_id, phase in rulebook.phases.items()
                ],
                "flags": self.flag_overview(),
                "facts": [self.fact(spec) for spec in rulebook.facts.values()],
                "checklist": [
                    {
                        "number": number,
                        "title": point.title.get(self.lang),
                        "rules": [r.id for r in rulebook.rules["checklist"] if r.conclusion == number],
                    }
                    for number, point in sorted(self.catalogue.checklist.items())
                ],
                "findings": [
                    dict(self.finding(finding_id), rules=rules_by_finding.get(finding_id, []))
                    for finding_id in self.catalogue.findings
                ],
                "indicators": [
                    {
                        "id": item.id,
                        "label": item.label.get(self.lang),
                        "rated_by": words["raters"].get(item.rated_by, item.rated_by),
                        "job_linked": words["yes"] if item.job_linked else words["no"],
                        "fact": f"score_{item.id}",
                    }
                    for item in self.catalogue.indicators.values()
                ],
                "types": [
                    {
                        "id": kind.id,
                        "label": kind.label.get(self.lang),
                        "interventions": [
                            {
                                "id": item.id,
                                "label": item.label.get(self.lang),
                                "internship": words["yes"] if item.internship else words["no"],
                                "aliases": ", ".join(item.aliases),
                            }
                            for item in self.catalogue.interventions.values()
                            if item.type == kind.id
                        ],
                    }
                    for kind in self.catalogue.types.values()
                ],
                "phrases": list(self.catalogue.phrases),
                "parameters": self.parameters(),
            },
        }

    def stage(self, stage: str) -> dict[str, Any]:
        title, intro = self.words["stages"][stage]
        rules = []
        shown_guidance: dict[tuple, str] = {}
        for rule in self.rulebook.rules[stage]:
            item = self.rule(rule)
            if stage == "phase":
                blocks = self.phase_guidance(rule)
                key = (rule.conclusion, tuple(blocks.values()))
                item["guidance"] = [
                    {"name": self.words["blocks"][block], "text": text} for block, text in blocks.items()
                ]
                item["same_guidance_as"] = shown_guidance.get(key)
                shown_guidance.setdefault(key, rule.id)
            elif stage == "flag":
                item["flag_title"] = self.flag_title(rule)
                item.update(self.flag_example(rule))
            rules.append(item)
        return {"id": stage, "title": title, "intro": intro, "rules": rules}

    def rule(self, rule: CompiledRule) -> dict[str, Any]:
        words = self.words
        if rule.stage == "phase":
            conclusion = f"{words['phase']}: {self.phase_label(rule.conclusion)}"
        elif rule.stage == "flag":
            conclusion = f"{words['flag']}: {rule.conclusion} ({words['severities'].get(rule.severity, rule.severity)})"
        else:
            point = self.catalogue.checklist.get(rule.conclusion)
            title = point.title.get(self.lang) if point else ""
            conclusion = f"{words['point']} {rule.conclusion}: {title}".rstrip(": ")
        return {
            "id": rule.id,
            "stage": rule.stage,
            "conclusion": conclusion,
            "target": rule.conclusion,
            "priority": rule.rank if rule.stage == "phase" else None,
            "severity": words["severities"].get(rule.severity, rule.severity) if rule.severity else None,
            "severity_id": rule.severity,
            "words": describe(rule.condition, self.rulebook.facts, self.lang, labels=self.labels, values=self.values),
            "when": " ".join(rule.when.split()),
            "reason": rule.reason.get(self.lang),
            "finding": self.finding(rule.source),
            "file": _relative(rule.path, self.rulebook.path),
            "line": rule.line,
            "location": self.location(rule),
            "period": self.period(rule.valid_from, rule.valid_to),
            "anchor": f"rule-{rule.id}" + (f"-{rule.valid_from.isoformat()}" if rule.valid_from else ""),
            "parameter_values": self.parameter_values(rule),
        }

    def location(self, rule: CompiledRule) -> str:
        """File and line of the rule, and, in a layered rulebook, which layer it comes from."""
        where = _relative(rule.path, self.rulebook.path) + (f":{rule.line}" if rule.line else "")
        if len(self.rulebook.layers) <= 1:
            return where
        origin = ("overrides" if self.lang == "en" else "ændrer") + f" {rule.overrides}" if rule.overrides else ""
        return f"{where} ({rule.origin}{'; ' + origin if origin else ''})"

    def phase_guidance(self, rule: CompiledRule) -> dict[str, str]:
        context = {"phase": self.phase_context(rule.conclusion, rule), "facts": dict(self.neutral), "lang": self.lang}
        name = f"phases/{rule.conclusion}.j2"
        return {block: self.guidance.block(name, block, context) for block in PHASE_BLOCKS}

    def flag_title(self, rule: CompiledRule) -> str:
        phase_id = required_phase(rule.condition)
        phase_rule = next((r for r in self.rulebook.rules["phase"] if r.conclusion == phase_id), None)
        phase = self.phase_context(phase_id, phase_rule) if phase_id else None
        facts = dict(self.neutral, phase=phase_id)
        reasons = [rule.reason.get(self.lang)]
        return flag_title(
            self.guidance, rule.conclusion, self.lang, severity=rule.severity, reasons=reasons, facts=facts, phase=phase
        )

    def flag_example(self, rule: CompiledRule) -> dict[str, Any]:
        words, examples = self.words, self.examples
        if examples is None:
            return {"example": None, "example_note": words["example_off"]}
        evaluation = examples.evaluations.get(rule.id)
        if evaluation is None:
            note = (
                words["example_failed"].format(error=examples.error)
                if examples.error
                else words["example_none"].format(n=examples.searched)
            )
            return {"example": None, "example_note": note}
        report = self.report(evaluation)
        flag = next(item for item in report.flags if item.id == rule.conclusion)
        evidence = [
            {"name": name, "label": self.labels.get(name, {}).get(self.lang, name), "value": self.show(name, value)}
            for name, value in flag.evidence.items()
        ]
        intro = words["example_intro"].format(
            record=evaluation.record.id, date=format_date(evaluation.as_of, self.lang)
        )
        return {
            "example": {
                "record": evaluation.record.id,
                "intro": intro,
                "title": flag.title,
                "severity": words["severities"].get(flag.severity, flag.severity),
                "severity_id": flag.severity,
                "message": flag.message,
                "rules": flag.rules,
                "evidence": evidence,
            },
            "example_note": None,
        }

    def report(self, evaluation: Evaluation) -> Any:
        key = id(evaluation)
        if key not in self.reports:
            builder = (
                self.builder
                if evaluation.rulebook is self.rulebook
                else ReportBuilder(evaluation.rulebook, self.guidance, self.lang)
            )
            self.reports[key] = builder.build(evaluation)
        return self.reports[key]

    def show(self, name: str, value: Any) -> str:
        if isinstance(value, str):
            return self.values.get(name, {}).get(value, value)
        if isinstance(value, list):
            return ", ".join(self.show(name, item) for item in value) if value else self.words["none"]
        if isinstance(value, float):
            return format_value(round(value, 2), self.lang)
        if isinstance(value, int) and not isinstance(value, bool):
            return format_value(value, self.lang)
        return format_number(value, self.lang)

    def flag_overview(self) -> list[dict[str, Any]]:
        grouped: dict[str, list[CompiledRule]] = {}
        for rule in self.rulebook.rules["flag"]:
            grouped.setdefault(rule.conclusion, []).append(rule)
        return [
            {
                "id": flag_id,
                "rules": [
                    {
                        "id": r.id,
                        "severity": self.words["severities"].get(r.severity, r.severity),
                        "severity_id": r.severity,
                        "period": self.period(r.valid_from, r.valid_to),
                        "anchor": f"rule-{r.id}" + (f"-{r.valid_from.isoformat()}" if r.valid_from else ""),
                    }
                    for r in rules
                ],
            }
            for flag_id, rules in grouped.items()
        ]

    def fact(self, spec: Any) -> dict[str, Any]:
        words = self.words
        kind = [words["types"].get(spec.type, spec.type)]
        low = format_value(spec.minimum, self.lang) if spec.minimum is not None else None
        high = format_value(spec.maximum, self.lang) if spec.maximum is not None else None
        if low is not None and high is not None:
            kind.append(words["between"].format(low=low, high=high))
        elif low is not None:
            kind.append(words["at_least"].format(low=low))
        elif high is not None:
            kind.append(words["at_most"].format(high=high))
        if spec.values:
            kind.append(
                f"{words['values']}: {', '.join(spec.values)}"
                if len(spec.values) <= 8
                else words["many_values"].format(n=len(spec.values))
            )
        if spec.nullable:
            kind.append(words["nullable"])
        return {
            "name": spec.name,
            "type": "; ".join(kind),
            "label": self.labels.get(spec.name, {}).get(self.lang, spec.name),
            "description": fact_description(spec, self.lang, self.catalogue),
        }
