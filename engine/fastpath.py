"""The cold command-line check without pydantic: the same answer, in about the time of its imports.

`bip check` is often a new process for one record. Loading pydantic and building the rulebook's and
the report's models would then cost more than all the rest, so `quick_check` runs the same steps on
plain objects: the compiled rulebook as `bip_engine.lightbook` copies it, the record as
`bip_engine.recordfile.light_record` reads it, and the report made by the same `ReportBuilder` from the
light models of `bip_engine.light`. Both copies live in one entry of the on-disk rulebook cache, under
the same key (the core's source and the rulebook's files), so any change to either makes a new one;
the first check after a change loads the rulebook in full and writes the entry.

It answers `NotHere` whenever it is not sure to give exactly what `Checker` gives: a record that
is not plainly valid (pydantic then gives the located messages), a report value of an unusual kind.
The caller then goes the full way with the data already read (standard input is read only once).
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path
from typing import Any

from .assemble import ReportBuilder
from .executors import default_executor_name, durable_available, make_executor
from .facts import derive_facts
from .indented_json import dumps_indented
from .light import Models, describe_models
from .lightbook import LightRulebook, lighten
from .paths import default_rules
from .recordfile import cpr_warning, light_record, names_known, read_record_file
from .render import Guidance
from .rulebook_cache import cache_folder, cache_key

PLAN_VERSION = 1
LAYOUTS = {"text": "report.txt.j2", "markdown": "report.md.j2"}


class NotHere(Exception):
    """The quick check leaves this one to `Checker`; `data` and `name` are the record if already read."""

    def __init__(self, data: Any = None, name: str | None = None):
        super().__init__("not for the quick check")
        self.data, self.name = data, name


class Answer:
    """What the quick check printed, and the severities of the flags (for `--fail-on`)."""

    def __init__(self, text: str, severities: list[str]):
        self.text, self.severities = text, severities


class _Evaluated:
    """The parts of `bip_engine.check.Evaluation` that `ReportBuilder` reads."""

    def __init__(
        self,
        record: Any,
        as_of: dt.date,
        facts: dict[str, Any],
        outcome: Any,
        engine: str,
        left_out: list,
        warnings: list[str],
        rules_as_of: dt.date,
    ):
        self.record, self.as_of, self.facts, self.outcome = record, as_of, facts, outcome
        self.engine, self.left_out, self.warnings, self.rules_as_of = engine, left_out, warnings, rules_as_of

    @property
    def phase(self) -> str | None:
        return self.outcome.phase_rule.conclusion if self.outcome.phase_rule else None


def quick_check(
    source: str,
    as_of: dt.date | None,
    lang: str,
    fmt: str,
    rules: str | None = None,
    guidance: tuple[str, ...] = (),
    engine: str | None = None,
    rules_as_of: dt.date | None = None,
    colour: bool = False,
    width: int = 78,
) -> Answer:
    """`Checker(rules, guidance, engine, colour).check_file(source, ...)` rendered as `fmt` (text,
    markdown or json), or `NotHere`. A record that cannot be read raises `RecordError` as there."""
    if fmt not in ("text", "markdown", "json") or (engine == "durable" and not durable_available()):
        raise NotHere
    loaded = _plan(Path(rules or default_rules()))
    if loaded is None:
        raise NotHere
    rulebook, models = loaded
    data, name = read_record_file(source)
    record = light_record(data)
    if record is None or not names_known(record, rulebook.catalogue):
        raise NotHere(data, name)
    as_of = as_of or dt.date.today()
    rules_day = rules_as_of or as_of
    view: Any = rulebook.at(rules_day)  # a LightRulebook, used where a Rulebook is (same attributes)
    executor = make_executor(view, engine or default_executor_name())
    derived = derive_facts(record, as_of, view.catalogue)
    outcome = executor.run(derived.values)
    warnings = [warning for warning in (cpr_warning(record),) if warning]
    evaluated: Any = _Evaluated(
        record, as_of, derived.values, outcome, executor.name, derived.left_out, warnings, rules_day
    )
    texts = Guidance(lang, [Path(folder) for folder in guidance], colour)
    try:
        report = ReportBuilder(view, texts, lang, models).build(evaluated)
        dumped = report.model_dump()
    except TypeError as error:  # a value the light models do not write as pydantic would
        raise NotHere(data, name) from error
    if fmt == "json":
        text = dumps_indented(dumped) + "\n"
    else:
        text = texts.render(LAYOUTS[fmt], {"report": dumped, "width": width})
    return Answer(text, [flag.severity for flag in report.flags])


def _plan(folder: Path) -> tuple[LightRulebook, Models] | None:
    """The light rulebook and report models for `folder`, from the cache (written on a miss)."""
    cache = cache_folder()
    key = cache_key(folder) if cache else None
    if key is None or cache is None:
        return None
    entry = cache / f"{key}.light.pickle"
    try:
        with entry.open("rb") as stream:
            version, path, rulebook, described = pickle.load(stream)
        if version == PLAN_VERSION and path == str(folder):
            return rulebook, Models(described)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        pass
    from .errors import BipError
    from .rulebook_cache import load_rulebook_cached

    try:
        full = load_rulebook_cached(folder)
    except BipError:
        return None  # `Checker` reports it
    rulebook, described = lighten(full), describe_models()
    try:
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as stream:
            pickle.dump((PLAN_VERSION, str(folder), rulebook, described), stream, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(entry)
    except (OSError, pickle.PicklingError):
        pass
    return rulebook, Models(described)
