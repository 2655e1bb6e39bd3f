"""JSON Schemas of the public formats: the citizen record (input) and the report (output).

Each schema has an `$id` that names its format and version (`urn:bip-engine:schema:record:1.1`,
`urn:bip-engine:schema:report:<SCHEMA_VERSION>`), so a consumer can tell which one it validates
against; the record format's version is `RECORD_SCHEMA_VERSION` (bip_engine.record).
"""

from __future__ import annotations

from .record import RECORD_SCHEMA_VERSION, Record
from .report import SCHEMA_VERSION, Report

ID_PREFIX = "urn:bip-engine:schema:"


def input_schema() -> dict:
    """JSON Schema of a citizen record, format version `RECORD_SCHEMA_VERSION` (older records still valid)."""
    schema = Record.model_json_schema(by_alias=True)
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{ID_PREFIX}record:{RECORD_SCHEMA_VERSION}",
            "title": f"BIP citizen record, schema version {RECORD_SCHEMA_VERSION}",
            "version": RECORD_SCHEMA_VERSION,
        }
    )
    return schema


def output_schema() -> dict:
    """JSON Schema of a check report, version `SCHEMA_VERSION`."""
    schema = Report.model_json_schema()
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{ID_PREFIX}report:{SCHEMA_VERSION}",
            "title": f"BIP check report, schema version {SCHEMA_VERSION}",
            "version": SCHEMA_VERSION,
        }
    )
    return schema
