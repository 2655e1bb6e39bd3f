"""The service's PostgreSQL password is never on a command line nor in a process's environment.

`bip serve` refuses a database URL that holds a password (exit 2, without echoing it) and tells to
use a libpq password file. On the real PostgreSQL of tests/postgres.py, a role that must give a
password (scram-sha-256 in pg_hba.conf) serves through `PGPASSFILE`: `bip serve --workers 2`
starts, answers a check, and the command line and environment of the master and of every worker
(`/proc/<pid>/cmdline`, `/proc/<pid>/environ`, what `ps` shows) hold no password.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import AS_OF, record
from tests.postgres import new_database
from tests.service_server import wait_for


@pytest.mark.parametrize(
    "url", ["postgresql://bip:{pw}@127.0.0.1:5432/bip", "postgresql://bip@127.0.0.1/bip?password={pw}"]
)
@pytest.mark.parametrize("how", ["option", "environment"])
def test_serve_refuses_a_database_url_with_a_password(url, how):
    password = secrets.token_hex(8)
    url = url.format(pw=password)
    args, env = (["serve", "--database", url], {}) if how == "option" else (["serve"], {"BIP_DATABASE": url})
    result = CliRunner().invoke(cli.main, [*args, "--engine", "python"], env=env)
    assert result.exit_code == 2, result.output
    assert "PGPASSFILE" in result.output and "passfile" in result.output
    assert password not in result.output


def descendants(pid: int) -> list[int]:
    """`pid` and every process started under it (from /proc/<pid>/task/*/children)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            queue += [int(child) for child in task.read_text().split()]
    return found


@pytest.fixture
def password_role(postgres_url, log_keys, tmp_path, monkeypatch):
    """A database owned by a role that must log in with a password, and a passfile holding it (PGPASSFILE)."""
    import psycopg

    url = new_database(postgres_url)
    role, password = f"bip_pw_{uuid.uuid4().hex[:8]}", secrets.token_hex(16)
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO {role}')
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        try:  # this role, and only it, must give its password
            hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        except PermissionError:
            pytest.skip("pg_hba.conf of the test server cannot be written here")
        conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO {role}")
    role_url = url.replace("postgresql://bip@", f"postgresql://{role}@")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "empty"))
    (tmp_path / "empty").write_text("")
    with pytest.raises(psycopg.OperationalError):  # without the passfile the role cannot log in
        psycopg.connect(role_url).close()
    passfile = tmp_path / "pgpass"
    host_port = role_url.split("@", 1)[1].split("/", 1)[0]
    passfile.write_text(f"{host_port}:{name}:{role}:{password}\n")  # host:port:database:user:password
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    return role_url, password


@pytest.mark.postgres
@pytest.mark.service
def test_serve_logs_in_with_a_passfile_and_no_process_holds_the_password(password_role, bip_server):
    url, password = password_role
    migrated = CliRunner().invoke(cli.main, ["log", "migrate", "--database", url, "--lang", "en"])
    assert migrated.exit_code == 0, migrated.output
    server = bip_server("--engine", "python", "--workers", "2", database=url)
    answer = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "forberedelse af møde", "as_of": AS_OF},
        json=record([3, 3, 2], id="PW-1"),
        headers=server.headers("caseworker"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Decision-Id"]
    wait_for(lambda: len(descendants(server.process.pid)) >= 3, what="the master and two workers")
    processes = descendants(server.process.pid)
    secret = password.encode()
    for pid in processes:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert secret not in cmdline and secret not in environ, pid
        assert b"PGPASSFILE=" in environ  # the workers find the password where libpq looks: the file
    assert os.environ["PGPASSFILE"].encode() in Path(f"/proc/{processes[-1]}/environ").read_bytes()
