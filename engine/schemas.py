"""JSON Schemas of the public formats: the citizen record (input) and the report (output)."""

from __future__ import annotations

from .record import RECORD_SCHEMA_VERSION, Record
from .report import SCHEMA_VERSION, Report


def input_schema() -> dict:
    """JSON Schema of a citizen record, format version `RECORD_SCHEMA_VERSION` (older records still valid)."""
    schema = Record.model_json_schema(by_alias=True)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"BIP citizen record, schema version {RECORD_SCHEMA_VERSION}",
        }
    )
    return schema


def output_schema() -> dict:
    """JSON Schema of a check report, version `SCHEMA_VERSION`."""
    schema = Report.model_json_schema()
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"BIP check report, schema version {SCHEMA_VERSION}",
        }
    )
    return schema
