"""`bip serve` through a real running server (uvicorn in a subprocess, httpx as the client).

Each endpoint, each error status, each role, byte-identity with `bip check --format json`, batch
accounting, the decision log's contents, trusted proxy headers, CORS and a forced 500.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from bip_engine.log.decisions import decisions_for, find_decision
from bip_engine.log.pseudonyms import pseudonym
from bip_engine.log.store import Store
from bip_engine.service.access import ROLE_PERMISSIONS
from tests.conftest import ROOT, record, scores
from tests.service_server import ROLES

pytestmark = pytest.mark.service

AS_OF = "2026-11-22"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
PROBLEM = "application/problem+json"


def example_json(path: Path) -> str:
    """An example record as the JSON a client would send."""
    return json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str, ensure_ascii=False)


def bip(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        check=False,
    )


def post_check(service, body, role="caseworker", path="/v1/check", **params):
    query = {"purpose": "forberedelse af møde", "as_of": AS_OF, **params}
    content = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return httpx.post(
        service.base_url + path,
        params=query,
        content=content,
        timeout=30,
        headers=service.headers(role, **{"Content-Type": "application/json"}),
    )


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("urn:")
    assert body["instance"] == response.request.url.path
    assert "Traceback" not in response.text
    return body


# --- the check and its answers ---------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["da", "en"])
def test_check_answer_is_byte_identical_to_the_cli(service, tmp_path, example, lang):
    source = tmp_path / f"{example.stem}.json"
    source.write_text(example_json(example), encoding="utf-8")
    cli = bip("check", str(source), "--format", "json", "--as-of", AS_OF, "--lang", lang, "--engine", "python")
    assert cli.returncode == 0, cli.stderr
    response = post_check(service, source.read_bytes(), lang=lang)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == cli.stdout.encode("utf-8")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-decision-id"])


@pytest.mark.parametrize("fmt,media", [("markdown", "text/markdown"), ("text", "text/plain")])
def test_check_renders_markdown_and_text_as_the_cli_does(service, tmp_path, fmt, media):
    source = tmp_path / "stilstand.json"
    source.write_text(example_json(ROOT / "examples" / "stilstand.yaml"), encoding="utf-8")
    cli = bip("check", str(source), "--format", fmt, "--as-of", AS_OF, "--engine", "python")
    response = post_check(service, source.read_bytes(), format=fmt)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert response.text == cli.stdout


def test_every_check_and_explain_is_in_the_log_without_free_text(service):
    secret_note = "Borgeren fortalte om sin skilsmisse og gæld"
    data = record([3, 3, 2], id="LOG-1", notes=secret_note)
    check = post_check(service, data, role="caseworker", purpose="møde 3. december")
    explain = post_check(service, data, role="team_lead", path="/v1/explain", purpose="klage")
    assert check.status_code == explain.status_code == 200
    store = Store.open(service.database)
    try:
        entry = find_decision(store, check.headers["x-decision-id"])
        traced = find_decision(store, explain.headers["x-decision-id"])
        citizen = pseudonym(store, "LOG-1")
    finally:
        store.close()
    report = check.json()
    assert entry["user"] == "caseworker" and entry["role"] == "caseworker" and entry["kind"] == "check"
    assert entry["purpose"] == "møde 3. december" and entry["as_of"] == AS_OF
    assert entry["citizen"] == citizen != "LOG-1"
    assert entry["phase"] == report["phase"]["id"] and entry["confidence"] == report["phase"]["confidence"]
    assert entry["flags"] == [{"id": flag["id"], "severity": flag["severity"]} for flag in report["flags"]]
    assert entry["rulebook_hash"] == report["rulebook"]["hash"] and entry["engine"] == "python"
    assert entry["facts"] == report["facts"]
    assert traced["kind"] == "explain" and traced["user"] == "team_lead" and traced["purpose"] == "klage"
    for logged in (entry, traced):
        assert secret_note not in json.dumps(logged, ensure_ascii=False) and "LOG-1" not in json.dumps(logged)


def test_explain_gives_every_rule_with_its_verdict(service, rulebook):
    response = post_check(service, record([4, 3, 3], id="EX-1"), path="/v1/explain")
    assert response.status_code == 200 and response.headers["x-decision-id"]
    body = response.json()
    assert [item["rule"] for item in body["trace"]] == [
        rule.id for stage in rulebook.rules.values() for rule in stage
    ] or sorted(item["rule"] for item in body["trace"]) == sorted(rule.id for rule in rulebook.all_rules())
    matched_phase = [item["rule"] for item in body["trace"] if item["stage"] == "phase" and item["matched"]]
    assert body["report"]["phase"]["rule"] in matched_phase
    assert all({"test", "fact", "value", "result"} <= set(atom) for item in body["trace"] for atom in item["atoms"])


def test_check_and_explain_take_the_rules_date_apart_from_the_check_date(service):
    for path in ("/v1/check", "/v1/explain"):
        response = post_check(service, record([4, 3, 3], id="RD-1"), path=path, rules_as_of="2027-01-01")
        assert response.status_code == 200, response.text
        report = response.json() if path == "/v1/check" else response.json()["report"]
        assert (report["as_of"], report["rules_as_of"]) == (AS_OF, "2027-01-01")
    bad = post_check(service, record([4, 3, 3], id="RD-1"), path="/v1/explain", rules_as_of="2027-02-30")
    assert_problem(bad, 400)


def test_batch_streams_rows_as_the_cli_and_accounts_for_every_line(service, tmp_path):
    good = [record([4, 4, 5], id="B-1"), record([3, 3, 3], id="B-2"), record([], id="B-3")]
    lines = [
        json.dumps(good[0]),
        "{not json",
        json.dumps(good[1]),
        json.dumps(record([2, 9], id="B-BAD")),
        "",
        json.dumps(good[2]),
    ]
    body = "\n".join(lines) + "\n"
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(item) for item in good) + "\n", encoding="utf-8")
    cli = bip(
        "batch",
        str(tmp_path / "in.jsonl"),
        "--format",
        "jsonl",
        "--order",
        "input",
        "--as-of",
        AS_OF,
        "--engine",
        "python",
    )
    response = httpx.post(
        service.base_url + "/v1/batch",
        params={"as_of": AS_OF, "purpose": "ugentlig triage"},
        content=body,
        timeout=30,
        headers=service.headers("team_lead", **{"Content-Type": "application/x-ndjson"}),
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in response.text.splitlines()]
    rows = [item for item in out if "citizen_id" in item]
    rejected = [item["rejected"] for item in out if "rejected" in item]
    summary = out[-1]["summary"]
    *cli_rows, cli_trailer = cli.stdout.splitlines()
    assert [json.dumps(row, ensure_ascii=False) for row in rows] == cli_rows
    provenance = ("rulebook", "as_of", "rules_as_of", "software")  # the CLI and the API name the same sources
    assert {key: summary[key] for key in provenance} == {
        key: json.loads(cli_trailer)["summary"][key] for key in provenance
    }
    assert [item["source"] for item in rejected] == ["line 2", "line 4"]
    assert rejected[1]["citizen_id"] == "B-BAD" and any(p["code"] == "R002" for p in rejected[1]["problems"])
    assert summary["read"] == 5 == summary["evaluated"] + summary["rejected"]
    assert (summary["evaluated"], summary["rejected"], summary["complete"]) == (3, 2, True)


def test_batch_sent_in_chunks_is_read_as_it_arrives(service):
    lines = [json.dumps(record([3, 3], id=f"C-{index}")) + "\n" for index in range(50)]

    def chunks():
        text = "".join(lines).encode()
        for start in range(0, len(text), 333):  # chunk borders fall inside lines
            yield text[start : start + 333]

    response = httpx.post(
        service.base_url + "/v1/batch",
        params={"as_of": AS_OF, "purpose": "ugentlig triage"},
        content=chunks(),
        timeout=30,
        headers=service.headers("system", **{"Content-Type": "application/x-ndjson"}),
    )
    out = [json.loads(line) for line in response.text.splitlines()]
    assert [row["citizen_id"] for row in out[:-1]] == [f"C-{index}" for index in range(50)]
    assert out[-1]["summary"]["read"] == 50 == out[-1]["summary"]["evaluated"]


# --- reading endpoints --------------------------------------------------------------------------------


def test_rulebook_lists_every_rule_with_its_source(service, rulebook):
    response = httpx.get(service.base_url + "/v1/rulebook", headers=service.headers("policy"))
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["version"], body["hash"]) == (rulebook.name, rulebook.version, rulebook.content_hash)
    assert {rule["id"]: rule["source"] for rule in body["rules"]} == {r.id: r.source for r in rulebook.all_rules()}
    assert all(not rule["file"].startswith("/") for rule in body["rules"])


@pytest.mark.parametrize("which", ["input", "output"])
def test_schemas_are_those_of_bip_schema(service, which):
    response = httpx.get(f"{service.base_url}/v1/schemas/{which}", headers=service.headers("auditor"))
    assert response.status_code == 200
    assert response.json() == json.loads(bip("schema", which).stdout)


def test_health_and_readiness_need_no_token(service):
    assert httpx.get(service.base_url + "/healthz").json() == {"status": "alive"}
    ready = httpx.get(service.base_url + "/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and body["database"] == "ok" and body["rulebook"]["name"]


@pytest.mark.postgres
def test_on_postgresql_and_503_when_the_log_is_gone(bip_server, postgres_url, log_keys):
    """The service on PostgreSQL; when its database disappears it is not ready and answers no check."""
    import psycopg

    from tests.postgres import new_database

    url = new_database(postgres_url)
    server = bip_server("--engine", "python", database=url)
    answer = post_check(server, record([3, 4], id="PG-1"))
    assert answer.status_code == 200
    store = Store.open(url)
    try:
        assert find_decision(store, answer.headers["x-decision-id"])["kind"] == "check"
    finally:
        store.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    ready = httpx.get(server.base_url + "/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["ready"] is False and body["database"] != "ok" and "decision log" in body["reasons"][0]
    refused = post_check(server, record([3, 4], id="PG-1"), role="system")
    assert refused.status_code == 503  # no token can be looked up, no entry written: not ready
    assert refused.headers["content-type"] == PROBLEM and "Traceback" not in refused.text


def test_metrics_count_requests_checks_and_rejections(service):
    post_check(service, record([2, 2, 2], id="M-1"))
    post_check(service, {"id": "M-2", "measurements": [{"date": "x", "scores": {}}]})
    response = httpx.get(service.base_url + "/metrics", headers=service.headers("system"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    assert re.search(
        r'^bip_http_requests_total\{method="POST",route="/v1/check",status="200"\} [1-9]', text, re.MULTILINE
    )
    assert re.search(
        r'^bip_http_requests_total\{method="POST",route="/v1/check",status="422"\} [1-9]', text, re.MULTILINE
    )
    assert re.search(r'^bip_checks_total\{kind="check",phase="\w+"\} [1-9]', text, re.MULTILINE)
    assert re.search(r"^bip_rejected_records_total [1-9]", text, re.MULTILINE)
    assert re.search(
        r'^bip_http_request_duration_seconds_bucket\{le="\+Inf",route="/v1/check"\} [1-9]', text, re.MULTILINE
    )
    assert re.search(r"^bip_reload_failures_total 0", text, re.MULTILINE)


def test_log_for_a_citizen_is_for_the_auditor(service):
    for purpose in ("første møde", "opfølgning"):
        assert post_check(service, record([3, 4], id="AUD-1"), purpose=purpose).status_code == 200
    search = {"citizen": "AUD-1", "purpose": "indsigtsanmodning"}
    response = httpx.post(service.base_url + "/v1/log/search", json=search, headers=service.headers("auditor"))
    assert response.status_code == 200
    body = response.json()
    assert body["citizen_id"] == "AUD-1"
    assert [entry["purpose"] for entry in body["decisions"]] == ["første møde", "opfølgning", "indsigtsanmodning"]
    assert [entry["kind"] for entry in body["decisions"]] == ["check", "check", "log-read"]  # the read is logged
    other = httpx.post(
        service.base_url + "/v1/log/search",
        json={"citizen": "NOBODY", "purpose": "kontrol"},
        headers=service.headers("auditor"),
    )
    assert [entry["kind"] for entry in other.json()["decisions"]] == ["log-read"]


# --- errors -----------------------------------------------------------------------------------------


def test_malformed_json_is_400_naming_line_and_column(service):
    body = assert_problem(post_check(service, '{\n  "id": "X",\n  "measurements": [,]\n}'), 400)
    problem = body["problems"][0]
    assert (problem["code"], problem["line"], problem["path"]) == ("Y001", 3, "body") and problem["column"] > 1


def test_invalid_record_is_422_with_every_problem_located(service):
    data = (
        '{\n  "id": "X",\n  "measurements": [\n    {"date": "2026-13-01", "scores": {"health_coping": 9}},\n'
        '    {"date": "2026-01-01", "scores": {"no_such_indicator": 3}}\n  ],\n  "colour": "red"\n}'
    )
    body = assert_problem(post_check(service, data), 422)
    codes = sorted(problem["code"] for problem in body["problems"])
    assert codes.count("R002") == 3  # the date, the score and the unknown field: every problem, not the first
    lines = {problem["line"] for problem in body["problems"]}
    assert {4, 7} <= lines
    unknown = post_check(service, record([{**scores(3), "no_such_indicator": 3}]))
    assert [p["code"] for p in assert_problem(unknown, 422)["problems"]] == ["R003"]


@pytest.mark.parametrize(
    "params,name",
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"lang": "fr"}, "lang"),
        ({"purpose": ""}, "purpose"),
        ({"format": "pdf"}, "format"),
    ],
)
def test_bad_query_parameters_are_problems(service, params, name):
    body = assert_problem(post_check(service, record([3]), **params), 400)
    assert any(problem["path"] == f"query.{name}" and problem["code"] == "Q001" for problem in body["problems"])


def test_no_token_or_a_bad_one_is_401_with_a_challenge(service):
    for headers in ({}, {"Authorization": "Bearer bip_not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="}):
        response = httpx.post(
            service.base_url + "/v1/check", params={"purpose": "x"}, headers=headers, json=record([3])
        )
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")


ROUTES = [
    ("POST", "/v1/check", "check"),
    ("POST", "/v1/explain", "explain"),
    ("POST", "/v1/batch", "batch"),
    ("GET", "/v1/rulebook", "rulebook"),
    ("POST", "/v1/log/search", "log"),
    ("GET", "/metrics", "metrics"),
    ("GET", "/v1/schemas/input", "api"),
]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_its_permissions(service, role):
    for method, path, action in ROUTES:
        content = json.dumps(
            {"citizen": "ROLE-1", "purpose": "rolle"} if path == "/v1/log/search" else record([3], id="ROLE-1")
        )
        response = httpx.request(
            method,
            service.base_url + path,
            content=content if method == "POST" else None,
            params={"purpose": "rolle", "citizen": "ROLE-1", "as_of": AS_OF},
            headers=service.headers(role, **{"Content-Type": "application/json"}),
            timeout=30,
        )
        if action in ROLE_PERMISSIONS[role]:
            assert response.status_code == 200, (role, path, response.text)
        else:
            assert_problem(response, 403)


def test_unknown_route_is_404_and_wrong_method_405(service):
    assert_problem(httpx.get(service.base_url + "/v2/check", headers=service.headers()), 404)
    response = httpx.get(service.base_url + "/v1/check", headers=service.headers())
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"]


def test_interactive_docs_are_not_served(service):
    for path in ("/docs", "/redoc"):
        assert httpx.get(service.base_url + path, headers=service.headers()).status_code == 404


def test_body_over_the_limit_is_413_by_length_and_by_counting(bip_server):
    server = bip_server("--engine", "python", "--max-body", "2000")
    big = json.dumps(record([3] * 30, id="BIG"))
    assert len(big) > 2000
    assert_problem(post_check(server, big), 413)

    def chunks():  # no Content-Length: the server has to count
        for start in range(0, len(big), 500):
            yield big[start : start + 500].encode()

    response = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "x"},
        content=chunks(),
        headers=server.headers("caseworker", **{"Content-Type": "application/json"}),
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    small = json.dumps(record([3], id="SMALL"))
    assert post_check(server, small).status_code == 200


def test_wrong_content_type_is_415(service):
    response = httpx.post(
        service.base_url + "/v1/check", params={"purpose": "x"}, data={"id": "X"}, headers=service.headers("caseworker")
    )
    assert_problem(response, 415)


def broken_guidance(folder: Path) -> Path:
    """Guidance overrides whose no_measurement flag message fails when it is rendered."""
    for lang in ("da", "en"):
        target = folder / lang / "flags"
        target.mkdir(parents=True)
        (target / "no_measurement.j2").write_text(
            "{% block title %}Ingen måling{% endblock %}\n{% block message %}{{ 1 // 0 }}{% endblock %}\n",
            encoding="utf-8",
        )
    return folder


def test_a_bug_is_a_500_with_an_incident_id_the_log_also_has(bip_server, tmp_path):
    server = bip_server("--engine", "python", "--guidance", str(broken_guidance(tmp_path / "guidance")))
    fine = post_check(server, record([4, 4]))
    assert fine.status_code == 200
    response = post_check(server, record([], id="NO-MEASUREMENT"))
    body = assert_problem(response, 500)
    assert re.fullmatch(r"[0-9a-f]{32}", body["incident"]) and body["incident"] in body["detail"]
    assert "ZeroDivision" not in response.text and "division" not in response.text
    log = server.log()
    assert f"incident {body['incident']}" in log and "Traceback" in log
    store = Store.open(server.database)
    try:
        assert decisions_for(store, "NO-MEASUREMENT") == []  # no answer, no entry
    finally:
        store.close()


# --- headers, proxy, CORS ---------------------------------------------------------------------------


def test_security_headers_on_every_answer(service):
    for response in (
        httpx.get(service.base_url + "/healthz"),
        httpx.get(service.base_url + "/nowhere"),
        post_check(service, record([3])),
    ):
        headers = response.headers
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
        assert "access-control-allow-origin" not in headers and "server" not in headers


def test_proxy_headers_are_ignored_unless_trusted(service, bip_server):
    proxy = {"X-Remote-User": "alice", "X-Remote-User-Role": "caseworker", "Content-Type": "application/json"}
    untrusted = httpx.post(
        service.base_url + "/v1/check", params={"purpose": "x"}, headers=proxy, content=json.dumps(record([3]))
    )
    assert_problem(untrusted, 401)
    server = bip_server("--engine", "python", "--trust-proxy", "X-Remote-User")
    response = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "proxy"},
        headers=proxy,
        content=json.dumps(record([3], id="PROXY-1")),
    )
    assert response.status_code == 200
    store = Store.open(server.database)
    try:
        entry = find_decision(store, response.headers["x-decision-id"])
    finally:
        store.close()
    assert (entry["user"], entry["role"]) == ("alice", "caseworker")
    auditor = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "x"},
        content=json.dumps(record([3])),
        headers={**proxy, "X-Remote-User-Role": "auditor"},
    )
    assert_problem(auditor, 403)
    made_up = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "x"},
        content=json.dumps(record([3])),
        headers={**proxy, "X-Remote-User-Role": "admin"},
    )
    assert_problem(made_up, 403)


def test_cors_only_for_the_origins_given(bip_server):
    server = bip_server("--engine", "python", "--cors-origin", "https://sag.kommune.dk")
    preflight = {
        "Origin": "https://sag.kommune.dk",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = httpx.options(server.base_url + "/v1/check", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://sag.kommune.dk"
    other = httpx.options(server.base_url + "/v1/check", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_serve_refuses_an_invalid_rulebook_with_exit_4(tmp_path, rules_copy):
    (rules_copy / "rulebook.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    result = bip(
        "serve", "--rules", str(rules_copy), "--database", f"sqlite:///{tmp_path / 'log.sqlite'}", "--port", "0"
    )
    assert result.returncode == 4 and "rulebook.yaml" in result.stderr
