"""bip-engine: rule-based pre-meeting decision support for job-centre caseworkers.

The library API::

    from bip_engine import Checker
    checker = Checker()                   # load the bundled rulebook once (thread-safe to share)
    report = checker.check({"id": "A-1", "measurements": [...]}, as_of=date(2026, 11, 22), lang="en")
    report.phase.id, [flag.id for flag in report.flags]
    print(checker.render(report, "markdown"))

Everything the engine refuses is a `BipError`: `RecordError` for a citizen record, `RulebookError`
for rules, catalogues and templates; each carries a list of located `Problem`s.

The names are imported on first use (PEP 562), so `import bip_engine.errors` or a command that needs
only a part of the engine does not pay for the rest at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

#: The package's version: its one place (pyproject.toml reads it from here for the metadata). Read from
#: the source, not from the installed metadata, because `importlib.metadata` alone would cost a cold
#: `bip check` a tenth of its time (email, zipfile, csv parsing and their imports).
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .changes import Changes, Summary, compare
    from .check import Checker, report_json
    from .citizen import CitizenView
    from .errors import BipError, Problem, RecordError, RulebookError
    from .evaluation import Evaluation
    from .executors import ExecutorUnavailable, default_executor_name, durable_available
    from .margins import phase_margins
    from .record import Record
    from .report import SCHEMA_VERSION, PhaseMargin, Report, Trajectory
    from .rulebook import Rulebook, load_rulebook
    from .schemas import input_schema, output_schema
    from .whatif import what_if

_WHERE = {
    "Checker": "check",
    "Evaluation": "evaluation",
    "report_json": "check",
    "BipError": "errors",
    "Problem": "errors",
    "RecordError": "errors",
    "RulebookError": "errors",
    "ExecutorUnavailable": "executors",
    "default_executor_name": "executors",
    "durable_available": "executors",
    "Record": "record",
    "SCHEMA_VERSION": "report",
    "Report": "report",
    "Rulebook": "rulebook",
    "load_rulebook": "rulebook",
    "input_schema": "schemas",
    "output_schema": "schemas",
    "Changes": "changes",
    "Summary": "changes",
    "compare": "changes",
    "CitizenView": "citizen",
    "phase_margins": "margins",
    "PhaseMargin": "report",
    "Trajectory": "report",
    "what_if": "whatif",
}

__all__ = [
    "SCHEMA_VERSION",
    "BipError",
    "Changes",
    "Checker",
    "CitizenView",
    "Evaluation",
    "ExecutorUnavailable",
    "PhaseMargin",
    "Problem",
    "Record",
    "RecordError",
    "Report",
    "Rulebook",
    "RulebookError",
    "Summary",
    "Trajectory",
    "compare",
    "default_executor_name",
    "durable_available",
    "input_schema",
    "load_rulebook",
    "output_schema",
    "phase_margins",
    "report_json",
    "what_if",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'bip_engine' has no attribute {name!r}")
    # __import__ rather than importlib.import_module: the same import, and `python -X importtime` lists it.
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
