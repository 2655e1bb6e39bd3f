"""The OpenAPI document: the batch stream is typed, and every operation has examples valid for their schemas.

The document is loaded from the app as a client would (`GET /openapi.json`, no token); each
example is validated with jsonschema (draft 2020-12, the dialect of OpenAPI 3.1) against the schema
next to it, resolving `#/components/...` in the document itself.
"""

import json

import jsonschema
import pytest
from fastapi.testclient import TestClient

from bip_engine.service.app import create_app
from bip_engine.service.settings import ServiceSettings

JSON_MEDIA = ("application/json", "application/problem+json")


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'log.sqlite'}"
    with TestClient(create_app(ServiceSettings(database=database, engine="python"))) as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200, answer.text
    return answer.json()


def operations(document):
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def validator(document, schema):
    """A validator of `schema` whose `#/components/...` references resolve in the document."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def rejected_ids(document):
    """The citizen ids the batch answer's example rejects."""
    answer = document["paths"]["/v1/batch"]["post"]["responses"]["200"]["content"]["application/x-ndjson"]
    lines = [json.loads(line) for line in answer["example"].splitlines()]
    return {line["rejected"]["citizen_id"] for line in lines if "rejected" in line}


def resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_the_batch_stream_is_typed_as_objects(document):
    batch = document["paths"]["/v1/batch"]["post"]
    schema = batch["responses"]["200"]["content"]["application/x-ndjson"]["schema"]
    assert schema.get("type") != "string"
    kinds = [resolve(document, choice) for choice in schema["oneOf"]]
    assert {kind["title"] for kind in kinds} == {"BatchRow", "BatchRejection", "BatchError", "BatchTrailer"}
    assert all(kind["type"] == "object" and kind["properties"] for kind in kinds)
    trailer = resolve(document, resolve(document, kinds[-1])["properties"]["summary"])
    assert {"rulebook", "as_of", "rules_as_of", "software", "complete"} <= set(trailer["required"])
    body = batch["requestBody"]["content"]["application/x-ndjson"]["schema"]
    assert resolve(document, body)["type"] == "object"  # a record a line


def test_every_operation_has_an_example_for_each_body_and_answer(document):
    missing = []
    for path, method, op in operations(document):
        contents = [("request", media, item) for media, item in op.get("requestBody", {}).get("content", {}).items()]
        for status, response in op["responses"].items():
            contents += [(status, media, item) for media, item in response.get("content", {}).items()]
        assert contents, (path, method)
        missing += [(path, method, where, media) for where, media, item in contents if "example" not in item]
    assert missing == []


def test_the_examples_are_valid_for_their_schemas(document):
    checked = 0
    for path, method, op in operations(document):
        contents = list(op.get("requestBody", {}).get("content", {}).items())
        for response in op["responses"].values():
            contents += list(response.get("content", {}).items())
        for media, item in contents:
            check = validator(document, item["schema"])
            if media in JSON_MEDIA:
                errors = [error.message for error in check.iter_errors(item["example"])]
                assert errors == [], (path, method, media, errors[:3])
                checked += 1
            elif media == "application/x-ndjson":
                lines = [json.loads(line) for line in item["example"].splitlines()]
                invalid = [line for line in lines if not check.is_valid(line)]
                if item is op.get("requestBody", {}).get("content", {}).get(media):  # the records sent
                    assert invalid == [line for line in lines if line["id"] in rejected_ids(document)], invalid
                else:
                    assert invalid == [] and len(lines) >= 2, invalid
                checked += len(lines)
            else:
                assert isinstance(item["example"], str) and item["example"], (path, media)
    assert checked > len(operations(document))


def test_the_batch_answer_example_is_the_engines_own(document):
    """The example rows come from the loaded rulebook: a row and a rejection, then the trailer."""
    example = document["paths"]["/v1/batch"]["post"]["responses"]["200"]["content"]["application/x-ndjson"]["example"]
    lines = [json.loads(line) for line in example.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["read"] == len(lines) - 1 == summary["evaluated"] + summary["rejected"]
    assert summary["rejected"] == sum("rejected" in line for line in lines) >= 1
    ready = document["paths"]["/readyz"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert summary["rulebook"]["hash"] == ready["rulebook"]["hash"]
