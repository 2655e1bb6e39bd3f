"""Operating `bip serve`: metrics over all workers, the metrics role, JSON logs, settings from the
environment, the public OpenAPI document and the zone of "today"."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import httpx
import pytest

from bip_engine.clock import today
from tests.conftest import record
from tests.service_server import wait_for

pytestmark = [pytest.mark.service]


def _sum(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{key}="{value}"' in (match.group(1) or "") for key, value in labels.items()):
            total += float(match.group(2))
    return total


def _post(server, path: str, body: str, role: str, content_type: str = "application/json") -> httpx.Response:
    return httpx.post(
        server.base_url + path,
        params={"purpose": "drift"},
        content=body,
        headers=server.headers(role, **{"Content-Type": content_type}),
        timeout=30,
    )


def test_every_scrape_counts_the_checks_of_all_workers_and_batch_checks_count(bip_server):
    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    checks = 12
    for index in range(checks):  # a new connection each: both workers answer some
        assert _post(server, "/v1/check", json.dumps(record([3, 4], id=f"M-{index}")), "caseworker").status_code == 200
    rows = [record([3, 4, 2], id=f"B-{index}") for index in range(5)]
    batch = _post(server, "/v1/batch", "\n".join(map(json.dumps, rows)) + "\n", "team_lead", "application/x-ndjson")
    assert batch.status_code == 200
    trailer = json.loads(batch.text.strip().splitlines()[-1])["summary"]
    ready = httpx.get(server.base_url + "/readyz").json()["rulebook"]
    assert trailer["rulebook"]["hash"] == ready["hash"] and trailer["rulebook"]["version"] == ready["version"]
    assert trailer["as_of"] == today().isoformat() and "release" in trailer["rulebook"]
    for _ in range(6):
        scrape = httpx.get(server.base_url + "/metrics", headers=server.headers("metrics"))
        assert scrape.status_code == 200
        assert _sum(scrape.text, "bip_checks_total", kind="check") == checks
        assert _sum(scrape.text, "bip_checks_total", kind="batch") == len(rows)


def test_the_metrics_role_reads_metrics_and_nothing_else(service):
    assert httpx.get(service.base_url + "/metrics", headers=service.headers("metrics")).status_code == 200
    refused = _post(service, "/v1/check", json.dumps(record([3])), "metrics")
    assert refused.status_code == 403
    assert httpx.get(service.base_url + "/v1/rulebook", headers=service.headers("metrics")).status_code == 403


def test_json_logs_from_the_environment_have_one_access_line_per_request(bip_server):
    server = bip_server("--engine", "python", "--access-log", env={"BIP_LOG_FORMAT": "json", "BIP_LOG_LEVEL": "info"})
    answer = _post(server, "/v1/check", json.dumps(record([3, 4])), "caseworker")
    decision = answer.headers["X-Decision-Id"]
    wait_for(lambda: decision in server.log(), what="the access line of the check")
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]  # every line is JSON
    (line,) = [entry for entry in entries if entry.get("decision_id") == decision]
    assert line["route"] == "/v1/check" and line["status"] == 200 and line["user"] == "caseworker"
    assert line["level"] == "info" and line["latency_ms"] >= 0 and line["time"].endswith("Z")


def test_the_openapi_document_is_public_and_names_its_operations(service):
    document = httpx.get(service.base_url + "/openapi.json").json()
    operations = {operation["operationId"] for item in document["paths"].values() for operation in item.values()}
    assert {"check", "explain", "batch"} <= operations


def test_no_openapi_keeps_the_document_for_signed_in_users(bip_server):
    server = bip_server("--engine", "python", "--no-openapi")
    assert httpx.get(server.base_url + "/openapi.json").status_code == 401
    assert httpx.get(server.base_url + "/openapi.json", headers=server.headers("caseworker")).status_code == 200


def test_today_is_the_date_in_copenhagen_unless_configured(monkeypatch):
    monkeypatch.delenv("BIP_TIMEZONE", raising=False)
    before = dt.datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    assert today() in (before, before + dt.timedelta(days=1))
    monkeypatch.setenv("BIP_TIMEZONE", "Pacific/Kiritimati")  # UTC+14: a day ahead of UTC most of the day
    before = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert today() in (before, before + dt.timedelta(days=1))


def test_the_worklist_is_built_for_the_configured_zones_date_not_the_process_date(monkeypatch):
    """The caseload index's "today" (the worklist's date, also before the page hands it one) is the
    configured zone's date: with the process 14 hours ahead of UTC and the zone 12 hours behind, the
    two dates are never the same day."""
    import time

    from bip_engine.service.page_records import CaseloadIndex

    monkeypatch.setenv("TZ", "Etc/GMT-14")
    time.tzset()
    try:
        monkeypatch.setenv("BIP_TIMEZONE", "Etc/GMT+12")
        index = CaseloadIndex(None)
        zone_day = dt.datetime.now(ZoneInfo("Etc/GMT+12")).date()
        assert dt.date.today() != zone_day
        first = index._today()
        index.use_checker(lambda: None)  # without a date of its own: still the zone's
        second = index._today()
        after = dt.datetime.now(ZoneInfo("Etc/GMT+12")).date()  # the same day, unless midnight passed meanwhile
        assert {first, second} <= {zone_day, after}
    finally:
        monkeypatch.undo()
        time.tzset()
