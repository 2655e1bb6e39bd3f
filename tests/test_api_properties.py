"""Property-based tests of the running `bip serve`, generated from its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid ones (`POSITIVE`, `EXAMPLES` each) and invalid
ones (`NEGATIVE`, `EXAMPLES` each: wrong types, missing parameters, bodies off the schema). No
answer may be a 5xx, and every answer must be what the document declares: its status, its content
type, its headers and its schema (problem+json included).
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.service, pytest.mark.slow]

EXAMPLES = 260
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OPERATIONS = [
    "POST /v1/check",
    "POST /v1/explain",
    "POST /v1/batch",
    "GET /v1/rulebook",
    "GET /v1/schemas/input",
    "GET /v1/schemas/output",
    "POST /v1/log/search",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
]
WITH_INPUT = {"POST /v1/check", "POST /v1/explain", "POST /v1/batch", "POST /v1/log/search"}


@schemathesis.serializer("application/x-ndjson")
def json_lines(context, value) -> bytes:
    """A generated batch body as sent: text as it is, anything else as one JSON line."""
    if isinstance(value, bytes):
        return value
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8")


@pytest.fixture(scope="module")
def api_schema(service):
    """The OpenAPI document of the running server (fetched with a token, as every client must)."""
    return schemathesis.openapi.from_url(service.base_url + "/openapi.json", headers=service.headers("system"))


def test_the_document_has_exactly_these_operations(api_schema):
    labels = {operation.ok().label for operation in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in OPERATIONS if label in WITH_INPUT
]


@pytest.mark.parametrize("label,mode", CASES, ids=[f"{label}-{mode.value}" for label, mode in CASES])
def test_no_server_error_and_every_answer_as_documented(api_schema, service, label, mode):
    operation = api_schema.find_operation_by_label(label)
    role = "auditor" if operation.path == "/v1/log/search" else "system"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES if label in WITH_INPUT else 20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def call(case):
        case.call_and_validate(base_url=service.base_url, headers=service.headers(role), checks=CHECKS, timeout=30)

    call()


def test_a_few_thousand_requests_were_made(service):
    """The runs above really reached the server (its own request counter says how often)."""
    import re

    import httpx

    text = httpx.get(service.base_url + "/metrics", headers=service.headers("system")).text
    total = sum(float(n) for n in re.findall(r"^bip_http_requests_total\{[^}]*\} ([0-9.e+]+)$", text, re.MULTILINE))
    assert total >= 2000
