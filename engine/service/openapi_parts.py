"""What the OpenAPI document adds to FastAPI's: the batch stream's line schemas and examples.

`/v1/batch` answers JSON Lines, which OpenAPI 3.1 cannot type line by line; the 200 response's
`application/x-ndjson` schema is therefore `oneOf` the four kinds of line (`BatchRow`,
`BatchRejection`, `BatchError`, `BatchTrailer`), each a component, so client generators see objects
instead of a string. Every operation's request body and responses carry an example; the examples of
checks, explains, batches and the rulebook are made by the engine itself (the loaded rulebook on a
small example record), so they are real answers and change with the rules.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, Field

from ..caseload.batch import Rejection, Summary, check_one, provenance, trailer
from ..caseload.output import COLUMNS
from ..caseload.readers import RawLine
from ..check import Checker, report_json
from ..errors import problem
from ..messages import text
from ..schemas import input_schema, output_schema
from .problems import KINDS, MEDIA_TYPE, ProblemError, problem_body

EXAMPLE_AS_OF = dt.date(2026, 11, 22)
EXAMPLE_RECORD: dict[str, Any] = {
    "id": "EKS-0001",
    "measurements": [
        {"date": "2026-03-02", "scores": {"job_search": 3, "health_coping": 3, "work_confidence": 3}},
        {"date": "2026-06-01", "scores": {"job_search": 2, "health_coping": 3, "work_confidence": 2}},
        {"date": "2026-09-01", "scores": {"job_search": 2, "health_coping": 2, "work_confidence": 2}},
    ],
    "interventions": [{"type": "hverdagsmestring", "start": "2026-02-01", "status": "ongoing"}],
}


class BatchRow(BaseModel):
    """One citizen's triage row (as a line of `bip batch --format jsonl`)."""

    citizen_id: str
    phase: str | None = Field(description="Phase id; null when the citizen has no measurement")
    confidence: str | None
    high: int = Field(ge=0, description="Flags of high severity")
    medium: int = Field(ge=0)
    low: int = Field(ge=0)
    flags: list[str] = Field(description="Flag ids")


class BatchProblem(BaseModel):
    """One problem of a rejected record: its code, message, file or line source and line."""

    code: str
    message: str
    path: str | None
    line: int | None


class RejectedRecord(BaseModel):
    """A record that could not be checked, in the place of its row."""

    source: str = Field(description="`line N` of the body")
    citizen_id: str | None
    problems: list[BatchProblem]


class BatchRejection(BaseModel):
    """A line `{"rejected": {...}}`."""

    rejected: RejectedRecord


class StreamError(BaseModel):
    """Why the stream stopped early (the decision log refused, the body passed its limit, the server stops)."""

    type: str = Field(description="The problem's type, as in problem+json (`...:shutting-down` when the server stops)")
    status: int
    detail: str


class BatchError(BaseModel):
    """A line `{"error": {...}}`, followed only by a trailer with `complete: false`."""

    error: StreamError


class RulebookSource(BaseModel):
    """The rulebook the rows were made by."""

    name: str
    version: str
    hash: str
    release: str | None = Field(description="The release hash, when the rules came from a release store")


class Software(BaseModel):
    """The software the rows were made by."""

    name: str
    version: str


class BatchSummary(BaseModel):
    """Counts (read = evaluated + rejected), phases, flags, and what the rows were computed with."""

    read: int = Field(ge=0)
    evaluated: int = Field(ge=0)
    rejected: int = Field(ge=0)
    phases: dict[str, int]
    flags: dict[str, int]
    complete: bool = Field(description="false when the stream stopped before the end of the body")
    next_line: int | None = Field(
        None,
        ge=1,
        description="Only when `complete` is false: the first line of the body not processed (every line "
        "before it has its row or rejection above); send the body again from this line on to resume",
    )
    rulebook: RulebookSource
    as_of: str = Field(description="The check date (YYYY-MM-DD)")
    rules_as_of: str = Field(description="The date that selected the rules in force (YYYY-MM-DD)")
    software: Software


class BatchTrailer(BaseModel):
    """The last line: `{"summary": {...}}`."""

    summary: BatchSummary


BATCH_LINES = (BatchRow, BatchRejection, BatchError, BatchTrailer)
"""The kinds of line of a batch answer, in the order they are documented."""


def batch_line_schema() -> dict[str, Any]:
    """The schema of one line of a batch answer: one of the line components."""
    return {"oneOf": [{"$ref": f"#/components/schemas/{model.__name__}"} for model in BATCH_LINES]}


def line_schemas() -> dict[str, Any]:
    """The line models and the models they use, as OpenAPI components."""
    schemas: dict[str, Any] = {}
    for model in BATCH_LINES:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def batch_example(checker: Checker) -> tuple[str, str]:
    """A batch body (two records and one with a score out of range) and the engine's answer to it, as JSON Lines."""
    second = dict(EXAMPLE_RECORD, id="EKS-0002", measurements=EXAMPLE_RECORD["measurements"][:1], interventions=[])
    bad = {"id": "EKS-0003", "measurements": [{"date": "2026-09-01", "scores": {"job_search": 9}}]}  # 1 to 5
    lines = [json.dumps(EXAMPLE_RECORD), json.dumps(second), json.dumps(bad)]
    summary = Summary()
    out = []
    for number, line in enumerate(lines, 1):
        result = check_one(checker, RawLine(f"line {number}", line), EXAMPLE_AS_OF, "en")
        summary.add(result)
        if isinstance(result, Rejection):
            out.append(
                {"rejected": {"source": result.source, "citizen_id": result.citizen_id, "problems": result.problems}}
            )
        else:
            row = result.as_dict()
            out.append({name: row[name] for name in COLUMNS})
    out.append(trailer(summary, provenance(checker.rulebook, EXAMPLE_AS_OF)))
    return "\n".join(lines) + "\n", "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in out)


def problem_example(status: int, path: str) -> dict[str, Any]:
    """An example problem+json body of `status` for a request to `path`, as the service writes one."""
    kind = next(kind for kind, code in KINDS.items() if code == status)
    problems = []
    if status in (400, 422):
        found = problem("R002.score", path="body", line=3, field="measurements[1].scores.job_search", given=9)
        problems = [found]
    error = ProblemError(kind, text(f"problem.title.{kind}", "en"), problems)
    if status == 500:
        error.incident = "3f2a9c1e"
    return json.loads(problem_body(error, path, "en"))


def add_examples(document: dict[str, Any], checker: Checker, rulebook: dict[str, Any]) -> None:
    """Give every operation's request body and responses an example (see the module's docstring).

    `rulebook` is the `/v1/rulebook` answer for `checker` (its rules cut to the first three)."""
    report = checker.check(EXAMPLE_RECORD, EXAMPLE_AS_OF, "en")
    report_example = json.loads(report_json(report))
    evaluation = checker.evaluate(checker.parse_record(EXAMPLE_RECORD), EXAMPLE_AS_OF)
    explanation = {"report": report_example, "trace": checker.trace(evaluation, "en")[:3]}
    batch_body, batch_answer = batch_example(checker)
    book = checker.rulebook
    ready = {"name": book.name, "version": book.version, "hash": book.content_hash}
    bodies: dict[str, Any] = {
        "check": {"application/json": EXAMPLE_RECORD},
        "explain": {"application/json": EXAMPLE_RECORD},
        "batch": {"application/x-ndjson": batch_body},
        "citizen_decisions": {"application/json": {"citizen": "EKS-0001", "purpose": "aktindsigt, sag 2026-114"}},
    }
    answers: dict[str, dict[str, Any]] = {
        "check": {
            "application/json": report_example,
            "text/markdown": checker.render(report, "markdown"),
            "text/plain": checker.render(report, "text"),
        },
        "explain": {"application/json": explanation},
        "batch": {"application/x-ndjson": batch_answer},
        "rulebook": {"application/json": {**rulebook, "rules": rulebook["rules"][:3]}},
        "schema_input": {"application/json": _schema_head(input_schema())},
        "schema_output": {"application/json": _schema_head(output_schema())},
        "citizen_decisions": {
            "application/json": {
                "citizen_id": "EKS-0001",
                "pseudonym": "p-5d1c0b7e9a3f",
                "exported": "2026-11-22T09:14:03+01:00",
                "decisions": [
                    {"decision_id": "d-01J9", "kind": "check", "phase": report.phase.id if report.phase else None}
                ],
                "assessments": [],
            }
        },
        "healthz": {"application/json": {"status": "alive"}},
        "readyz": {
            "application/json": {"ready": True, "rulebook": ready, "database": "ok", "reasons": []},
        },
        "metrics": {"text/plain": 'bip_checks_total{kind="check",phase="regress"} 42.0\n'},
    }
    not_ready = {
        "ready": False,
        "rulebook": ready,
        "database": "connection refused",
        "reasons": ["the decision log cannot be reached: connection refused"],
    }
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            name = operation.get("operationId", "")
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if media in bodies.get(name, {}):
                    content["example"] = bodies[name][media]
            for status, response in operation.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    if media == MEDIA_TYPE:
                        content["example"] = problem_example(int(status), path)
                    elif status == "503" and name == "readyz":
                        content["example"] = not_ready
                    elif media in answers.get(name, {}):
                        content["example"] = answers[name][media]


def _schema_head(schema: dict[str, Any]) -> dict[str, Any]:
    """The first keys of a JSON Schema (an example that does not repeat the whole schema)."""
    return {key: schema[key] for key in ("$schema", "$id", "title", "type") if key in schema}
