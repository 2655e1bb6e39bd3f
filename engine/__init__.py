"""bip-engine: rule-based pre-meeting decision support for job-centre caseworkers.

The library API::

    from engine import Checker
    checker = Checker()                   # load the bundled rulebook once (thread-safe to share)
    report = checker.check({"id": "A-1", "measurements": [...]}, as_of=date(2026, 11, 22), lang="en")
    report.phase.id, [flag.id for flag in report.flags]
    print(checker.render(report, "markdown"))

Everything the engine refuses is a `BipError`: `RecordError` for a citizen record, `RulebookError`
for rules, catalogues and templates; each carries a list of located `Problem`s.
"""

from .check import Checker, Evaluation, report_json
from .errors import BipError, Problem, RecordError, RulebookError
from .executors import ExecutorUnavailable, default_executor_name, durable_available
from .record import Record
from .report import SCHEMA_VERSION, Report
from .rulebook import Rulebook, load_rulebook
from .schemas import input_schema, output_schema

__all__ = [
    "BipError", "Checker", "Evaluation", "ExecutorUnavailable", "Problem", "Record", "RecordError", "Report",
    "Rulebook", "RulebookError", "SCHEMA_VERSION", "default_executor_name", "durable_available", "input_schema",
    "load_rulebook", "output_schema", "report_json",
]
