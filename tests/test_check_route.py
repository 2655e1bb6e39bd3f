"""`POST /v1/check` has one route, whose limits have one definition (`bip_engine.service.api`).

Changing the purpose limit in that one place changes what the service accepts: a purpose longer
than the new limit is refused with 400, and one within it is still answered.
"""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient

from bip_engine.log.store import Store
from bip_engine.log.tokens import create_token
from bip_engine.service import api
from bip_engine.service.app import create_app
from bip_engine.service.settings import ServiceSettings
from tests.conftest import ROOT

RECORD = json.dumps(yaml.safe_load((ROOT / "examples" / "stilstand.yaml").read_text(encoding="utf-8")), default=str)


def _client(tmp_path) -> tuple[TestClient, dict[str, str]]:
    database = f"sqlite:///{tmp_path / 'log.sqlite'}"
    store = Store.open(database)
    try:
        token = create_token(store, "caseworker", "caseworker")
    finally:
        store.close()
    app = create_app(ServiceSettings(database=database, engine="python"))
    return TestClient(app), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _post(client: TestClient, headers: dict[str, str], purpose: str) -> int:
    params = {"purpose": purpose, "as_of": "2026-11-22"}
    return client.post("/v1/check", params=params, content=RECORD, headers=headers).status_code


@pytest.mark.parametrize("limit", [100, 160])
def test_the_purpose_limit_is_defined_once(tmp_path, monkeypatch, limit):
    monkeypatch.setattr(api, "PURPOSE_MAX_LENGTH", limit)
    client, headers = _client(tmp_path)
    with client:
        assert _post(client, headers, "a first check") == 200  # the token is looked up (and cached) now
        within, beyond = "x" * limit, "x" * (limit + 1)
        assert [_post(client, headers, within) for _ in range(2)] == [200, 200]
        assert [_post(client, headers, beyond) for _ in range(2)] == [400, 400]
        # 150 characters: refused under the limit of 100, answered under 160
        assert _post(client, headers, "y" * 150) == (200 if limit >= 150 else 400)


def test_a_json_check_writes_its_report_once_and_logs_the_hash_of_the_body(tmp_path, monkeypatch):
    from hashlib import sha256

    from bip_engine.log.decisions import find_decision
    from bip_engine.report import Report

    written = []
    dump = Report.model_dump_json

    def counted(self, *args, **kwargs):
        written.append(1)
        return dump(self, *args, **kwargs)

    monkeypatch.setattr(Report, "model_dump_json", counted)
    client, headers = _client(tmp_path)
    with client:
        answer = client.post(
            "/v1/check", params={"purpose": "møde", "as_of": "2026-11-22"}, content=RECORD, headers=headers
        )
    assert answer.status_code == 200
    assert len(written) == 1  # the answer's body; the log's report hash is taken of the same text
    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        entry = find_decision(store, answer.headers["X-Decision-Id"])
    finally:
        store.close()
    assert entry is not None and entry["report_hash"] == sha256(answer.content).hexdigest()
