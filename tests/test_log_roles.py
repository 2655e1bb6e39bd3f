"""On PostgreSQL the service connects as a role that may only read and append (issue 16).

A real PostgreSQL (tests/postgres.py): an owner role migrates and grants (`bip log migrate
--grant`); as the service's role every attack of the issue is refused by the database itself.
Then two `bip serve` instances on that role share one log: tokens, entries and sessions, under
load, and `bip log verify` finds the log whole after.
"""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bip_engine import Checker, cli
from bip_engine.log.decisions import count_decisions
from bip_engine.log.store import Store
from tests.conftest import ROOT, record
from tests.postgres import new_database
from tests.service_server import make_tokens
from tests.test_store import logged

pytestmark = [pytest.mark.postgres, pytest.mark.service]
AS_OF = "2026-11-22"


@pytest.fixture
def roles(postgres_url, log_keys):
    """A database owned by a fresh owner role, migrated by it, and a service role granted read-and-append."""
    url = new_database(postgres_url)
    suffix = uuid.uuid4().hex[:8]
    owner, service = f"bip_owner_{suffix}", f"bip_service_{suffix}"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {owner} LOGIN")
        conn.execute(f"CREATE ROLE {service} LOGIN")
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO {owner}')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO {owner}")
    owner_url = url.replace("postgresql://bip@", f"postgresql://{owner}@")
    service_url = url.replace("postgresql://bip@", f"postgresql://{service}@")
    result = CliRunner().invoke(
        cli.main, ["log", "migrate", "--database", owner_url, "--grant", service, "--lang", "en"]
    )
    assert result.exit_code == 0 and f"The role '{service}' may now only read" in result.stdout, result.output
    return owner_url, service_url


ATTACKS = [
    "DELETE FROM decisions",
    "UPDATE decisions SET phase = 'x'",
    "TRUNCATE decisions",
    "ALTER TABLE decisions DISABLE TRIGGER USER",
    "DROP TRIGGER decisions_no_update ON decisions",
    "DROP TABLE decisions",
    "INSERT INTO purge_window VALUES ('9999-01-01')",
    "DELETE FROM assessments",
    "DELETE FROM purges",
    "UPDATE tokens SET revoked = NULL",
    "INSERT INTO tokens VALUES ('evil', 'system', 'h', now(), NULL)",
    "CREATE TABLE decisions_copy (x int)",
]


def test_the_service_role_may_only_read_and_append(roles):
    owner_url, service_url = roles
    store = Store.open(service_url)  # the schema is current: the service opens without migrating
    try:
        checker = Checker(ROOT / "rules", engine="python")
        logged(store, checker)  # appending works
        for statement in ATTACKS:
            with (
                pytest.raises(sa.exc.ProgrammingError, match=r"permission denied|must be owner"),
                store.engine.begin() as conn,
            ):
                conn.execute(sa.text(statement))
        assert count_decisions(store) == 1
    finally:
        store.close()
    verified = CliRunner().invoke(cli.main, ["log", "verify", "--database", owner_url])
    assert verified.exit_code == 0, verified.output


def test_two_instances_share_tokens_log_and_sessions_under_load(roles, bip_server):
    owner_url, service_url = roles
    tokens = make_tokens(owner_url)  # made once, by the owner; both instances know them
    first = bip_server("--engine", "python", database=service_url, tokens=tokens, name="first")
    second = bip_server("--engine", "python", database=service_url, tokens=tokens, name="second")
    servers = [first, second]

    def check(number: int) -> int:
        server = servers[number % 2]
        return httpx.post(
            server.base_url + "/v1/check",
            params={"purpose": "belastning", "as_of": AS_OF},
            json=record([3, 4], id=f"LOAD-{number % 25}"),
            headers=server.headers("caseworker"),
            timeout=60,
        ).status_code

    requests = 300
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(check, range(requests)))
    assert statuses == [200] * requests
    # a session begun on one instance is known to the other (sign-in on the first, the page from the second)
    with httpx.Client(base_url=first.base_url, timeout=30) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
        assert client.post("/login", data={"csrf": csrf, "token": tokens["caseworker"]}).status_code == 303
        cookie = client.cookies.get("bip_session")
    with httpx.Client(base_url=second.base_url, timeout=30) as client:
        client.cookies.set("bip_session", cookie)
        home = client.get("/").text
        assert 'id="login-form"' not in home and "caseworker" in home  # signed in, on the other instance
    search = httpx.post(
        second.base_url + "/v1/log/search",
        json={"citizen": "LOAD-0", "purpose": "kontrol"},
        headers=second.headers("auditor"),
    )
    assert search.status_code == 200
    assert sum(item["kind"] == "check" for item in search.json()["decisions"]) == requests // 25
    store = Store.open(owner_url)
    try:
        assert count_decisions(store) == requests + 1  # every check, and the log read
    finally:
        store.close()
    verified = CliRunner().invoke(cli.main, ["log", "verify", "--database", owner_url])
    assert verified.exit_code == 0, verified.output
    checkpoint = json.loads(CliRunner().invoke(cli.main, ["log", "checkpoint", "--database", owner_url]).stdout)
    assert checkpoint["chains"]["decisions"]["entries"] == requests + 1
