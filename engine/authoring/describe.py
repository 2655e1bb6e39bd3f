"""Conditions in plain words, for people who do not read the rule language.

`describe` turns a rule's condition (the intermediate form of `bip_engine.expr`) into a sentence in
Danish or English: ``change <= -0.4`` becomes "gennemsnitlig ændring ≤ −0,4" / "mean change ≤ −0.4",
``job_oriented_active`` becomes "en jobrettet indsats er i gang", ``"no_intervention_3m" in flags``
becomes "flaget »no_intervention_3m« er rejst". `bip rules docs` prints it next to the condition as
written, so policy staff and citizens can read what a rule asks without knowing the syntax.

Every fact has a short label in both languages (`fact.NAME` in the message catalogue; the
`score_<indicator>` facts get theirs from the indicator catalogue through `fact_labels`). A fact without a label is shown by its
name, so a new fact never breaks the document: it only reads less well until it gets a label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..expr import AllOf, Always, AnyOf, Compare, Condition, Contains, FactSpec, Known, Param
from ..messages import LANGS, text, texts

Labels = Mapping[str, Mapping[str, str]]


def base_fact_labels() -> dict[str, dict[str, str]]:
    """The short label of every fact of the engine (`fact.NAME` in the message catalogue), in both languages."""
    return {name: {lang: texts("fact", lang)[name] for lang in LANGS} for name in texts("fact", "en")}


_ORDER = ("<", "<=", ">", ">=")
_OPS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}


def fact_labels(catalogue: Any = None) -> dict[str, dict[str, str]]:
    """`base_fact_labels()` plus a label for the `score_<id>` fact of every indicator in `catalogue`."""
    labels = base_fact_labels()
    if catalogue is not None:
        for indicator in catalogue.indicators.values():
            labels[f"score_{indicator.id}"] = {
                lang: text("fact_score", lang, label=indicator.label.get(lang)) for lang in LANGS
            }
    return labels


def fact_description(spec: FactSpec, lang: str, catalogue: Any = None) -> str:
    """A fact's one-line description in `lang` (`fact_description.NAME` in the message catalogue).

    An indicator's `score_<id>` fact is described from the rulebook's `catalogue`; a fact without a
    description gives an empty string."""
    descriptions = texts("fact_description", lang)
    if isinstance(descriptions.get(spec.name), str):
        return text(f"fact_description.{spec.name}", lang)
    indicator_id = spec.name[len("score_") :] if spec.name.startswith("score_") else None
    if catalogue is not None and indicator_id in catalogue.indicators:
        indicator = catalogue.indicators[indicator_id]
        rater = texts("rater", lang).get(indicator.rated_by, indicator.rated_by)
        return text("fact_score_description", lang, id=indicator.id, label=indicator.label.get(lang), rater=rater)
    return ""


def fact_label(name: str, lang: str, labels: Labels | None = None) -> str:
    """The short label of a fact in `lang`, or its name when it has none."""
    names = (base_fact_labels() if labels is None else labels).get(name) or {}
    return names.get(lang) or name


def format_value(value: Any, lang: str) -> str:
    """A literal as a reader of `lang` writes it: decimal comma in Danish, a real minus sign."""
    if isinstance(value, bool):
        return text("describe.yes" if value else "describe.no", lang)
    if isinstance(value, (int, float)):
        shown = repr(value) if isinstance(value, float) else str(value)
        shown = shown.replace("-", "\u2212")
        return shown.replace(".", ",") if lang == "da" else shown
    return _quote(str(value), lang)


def _quote(text: str, lang: str) -> str:
    return f"»{text}«" if lang == "da" else f"\u201c{text}\u201d"


def describe(
    condition: Condition,
    facts: Mapping[str, FactSpec],
    lang: str = "da",
    *,
    labels: Labels | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """`condition` in plain words in `lang` ("da" or "en").

    `facts` is the rulebook's fact catalogue; `labels` the fact labels (default `base_fact_labels()`, see
    `fact_labels` for the indicator scores); `values` optional display names of text values by fact,
    already in `lang`, e.g. ``{"phase": {"standstill": "Stilstand"}}`` (see `value_labels`).
    """
    lang = "en" if lang == "en" else "da"
    return _Describer(facts, lang, base_fact_labels() if labels is None else labels, values or {}).text(condition)


def value_labels(rulebook: Any, lang: str) -> dict[str, dict[str, str]]:
    """Display names in `lang` for the text values of a rulebook's facts (phases, types, interventions)."""
    catalogue = rulebook.catalogue
    indicators = {key: item.label.get(lang) for key, item in catalogue.indicators.items()}
    return {
        "phase": {key: phase.label.get(lang) for key, phase in rulebook.phases.items()},
        "active_types": {key: item.label.get(lang) for key, item in catalogue.types.items()},
        "active_interventions": {key: item.label.get(lang) for key, item in catalogue.interventions.items()},
        "largest_drop_indicator": indicators,
    }


class _Describer:
    def __init__(
        self, facts: Mapping[str, FactSpec], lang: str, labels: Labels, values: Mapping[str, Mapping[str, str]]
    ):
        self.facts, self.lang, self.labels, self.values = facts, lang, labels, values
        self.words = texts("describe", lang)

    def text(self, condition: Condition, nested: bool = False) -> str:
        if isinstance(condition, (AllOf, AnyOf)):
            compact = self.same_fact(condition)
            if compact is not None:
                return f"({compact})" if nested else compact
            joiner = self.words["and"] if isinstance(condition, AllOf) else self.words["or"]
            parts = (
                self.ranges(condition.terms)
                if isinstance(condition, AllOf)
                else [self.text(term, nested=True) for term in condition.terms]
            )
            inner = joiner.join(parts)
            return f"({inner})" if nested and len(parts) > 1 else inner
        if isinstance(condition, Always):
            return self.words["always" if condition.value else "never"]
        if isinstance(condition, Known):
            return f"{self.label(condition.fact)} {self.words['known' if condition.positive else 'unknown']}"
        if isinstance(condition, Contains):
            return self.contains(condition)
        return self.compare(condition)

    def ranges(self, terms: tuple) -> list[str]:
        """The terms of an AllOf; a lower and an upper bound of one number side by side read as a range."""
        parts, index = [], 0
        while index < len(terms):
            pair = terms[index : index + 2]
            if len(pair) == 2 and self.is_range(*pair):
                low, high = pair if pair[0].op in (">", ">=") else pair[::-1]
                low_op = {">": "<", ">=": "≤"}[low.op]
                parts.append(
                    f"{self.value(low.fact, low.value)} {low_op} {self.label(low.fact)} "
                    f"{_OPS[high.op]} {self.value(high.fact, high.value)}"
                )
                index += 2
            else:
                parts.append(self.text(terms[index], nested=True))
                index += 1
        return parts

    def is_range(self, first: Condition, second: Condition) -> bool:
        if not (isinstance(first, Compare) and isinstance(second, Compare) and first.fact == second.fact):
            return False
        if isinstance(first.value, bool) or isinstance(second.value, bool):
            return False
        if not (isinstance(first.value, (int, float)) and isinstance(second.value, (int, float))):
            return False
        lower = (">", ">=")
        return (first.op in _ORDER and second.op in _ORDER) and ((first.op in lower) != (second.op in lower))

    def label(self, fact: str) -> str:
        return fact_label(fact, self.lang, self.labels)

    def value(self, fact: str, value: Any) -> str:
        if isinstance(value, Param):
            return value.name
        if isinstance(value, str) and value in self.values.get(fact, {}):
            return self.values[fact][value]
        return format_value(value, self.lang)

    def contains(self, atom: Contains) -> str:
        if atom.fact == "flags":
            return self.words["flag_on" if atom.positive else "flag_off"].format(v=_quote(atom.value, self.lang))
        verb = self.words["includes" if atom.positive else "excludes"]
        return f"{self.label(atom.fact)} {verb} {self.value(atom.fact, atom.value)}"

    def compare(self, atom: Compare) -> str:
        spec = self.facts.get(atom.fact)
        kind = (
            spec.type
            if spec
            else ("boolean" if isinstance(atom.value, bool) else "text" if isinstance(atom.value, str) else "number")
        )
        if kind == "boolean" and isinstance(atom.value, bool) and atom.op in ("==", "!="):
            truth = atom.value == (atom.op == "==")
            phrases = self.words["phrase"].get(atom.fact)
            if phrases:
                return phrases[0 if truth else 1]
            return f"{self.label(atom.fact)} = {self.words['yes' if truth else 'no']}"
        if kind == "text" and atom.op in ("==", "!="):
            verb = self.words["is" if atom.op == "==" else "is_not"]
            return f"{self.label(atom.fact)} {verb} {self.value(atom.fact, atom.value)}"
        return f"{self.label(atom.fact)} {_OPS.get(atom.op, atom.op)} {self.value(atom.fact, atom.value)}"

    def same_fact(self, condition: AllOf | AnyOf) -> str | None:
        """`phase in [...]` reads "fasen er Stilstand eller Tilbagegang", its negation "er hverken ... eller"."""
        op = "==" if isinstance(condition, AnyOf) else "!="
        terms = condition.terms
        if len(terms) < 2 or not all(isinstance(t, Compare) and t.op == op and isinstance(t.value, str) for t in terms):
            return None
        if len({t.fact for t in terms}) != 1:
            return None
        spec = self.facts.get(terms[0].fact)
        if spec is not None and spec.type != "text":
            return None
        shown = [self.value(t.fact, t.value) for t in terms]
        label = self.label(terms[0].fact)
        if op == "==":
            return f"{label} {self.words['is']} {self.words['or'].join(shown)}"
        return f"{label} {self.words['neither'].format(a=', '.join(shown[:-1]), b=shown[-1])}"
