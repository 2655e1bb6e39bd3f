"""Dates are written YYYY-MM-DD: a number is never read as Unix seconds (`0` is not 1970-01-01).

Before, pydantic's lax mode took a whole number of days' seconds (and the text "0") as a date, in a
record and in the service's `as_of` and `rules_as_of`; now each is a located problem or a 422.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from fastapi.testclient import TestClient

from bip_engine import Checker, RecordError
from bip_engine.log.store import Store
from bip_engine.log.tokens import create_token
from bip_engine.service.app import create_app
from bip_engine.service.settings import ServiceSettings
from tests.conftest import ROOT

NOT_DATES = [0, 86400 * 20000, "0", "1728000000", 20000.0, True, "2026-1-2", "22-11-2026", "2026-11-22T10:00"]


def record_with(date) -> dict:
    return {"id": "A-1", "measurements": [{"date": date, "scores": {"job_search": 3}}]}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(engine="python")


@pytest.mark.parametrize("given", NOT_DATES, ids=repr)
def test_a_record_date_that_is_not_written_as_a_date_is_a_located_problem(checker, given):
    with pytest.raises(RecordError) as raised:
        checker.parse_record(record_with(given), "r.json")
    [found] = raised.value.problems
    assert found.code == "R002" and found.path == "r.json" and "measurements[0].date" in found.text("en")


@pytest.mark.parametrize("given", ["2026-11-22", dt.date(2026, 11, 22)], ids=str)
def test_dates_written_as_dates_are_read(checker, given):
    assert checker.parse_record(record_with(given), "r.json").measurements[0].date == dt.date(2026, 11, 22)


def test_a_yaml_timestamp_is_not_a_date(checker):
    data = yaml.safe_load("id: A-1\nmeasurements:\n  - date: 2026-11-22 10:00:00\n    scores: {job_search: 3}\n")
    with pytest.raises(RecordError):
        checker.parse_record(data, "r.yaml")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    database = f"sqlite:///{tmp_path_factory.mktemp('dates') / 'log.sqlite'}"
    store = Store.open(database)
    try:
        token = create_token(store, "system", "system")
    finally:
        store.close()
    with TestClient(create_app(ServiceSettings(database=database, engine="python"))) as client:
        client.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        yield client


RECORD = json.dumps(yaml.safe_load((ROOT / "examples" / "stilstand.yaml").read_text(encoding="utf-8")), default=str)


@pytest.mark.parametrize("parameter", ["as_of", "rules_as_of"])
@pytest.mark.parametrize("given", ["0", "1728000000", "2026-1-2", "2026-11-22T00:00"])
def test_the_service_refuses_a_check_date_that_is_not_written_as_a_date(client, parameter, given):
    response = client.post("/v1/check", params={"purpose": "test", parameter: given}, content=RECORD)
    assert response.status_code == 400, response.text  # the service's answer to any bad query parameter
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [found["path"] for found in response.json()["problems"]] == [f"query.{parameter}"]


def test_the_service_reads_a_date_written_as_a_date(client):
    response = client.post("/v1/check", params={"purpose": "test", "as_of": "2026-11-22"}, content=RECORD)
    assert response.status_code == 200 and response.json()["as_of"] == "2026-11-22"
