"""The published JSON Schemas name themselves: an `$id` with the format and its version."""

from __future__ import annotations

import json
import subprocess
import sys

from bip_engine.report import SCHEMA_VERSION


def _schema(which: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "schema", which], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_each_schema_has_an_id_naming_its_format_and_version():
    record, report = _schema("input"), _schema("output")
    assert record["$id"] != report["$id"]
    assert record["$id"].endswith(f":{record['version']}") and record["version"]
    assert report["version"] == SCHEMA_VERSION and report["$id"].endswith(f":{SCHEMA_VERSION}")
