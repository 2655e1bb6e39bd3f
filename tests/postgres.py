"""A real PostgreSQL server for the tests: started once per session in a temporary folder.

`postgres_url` runs initdb into a temporary folder, starts `postgres` on a free TCP port on
127.0.0.1 (its unix socket in the same folder), creates a database and yields its URL; the server
is stopped and the folder removed at the end. PostgreSQL refuses to run as root, so when the tests
run as root (as in CI) the server runs as the `postgres` user. Without the binaries the tests that
need it are skipped, except under CI (the environment variable CI set), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PREFERRED = Path("/usr/lib/postgresql/15/bin")


def postgres_bin() -> Path | None:
    """The folder with initdb and pg_ctl: PostgreSQL 15 if installed, else the newest there is."""
    if (PREFERRED / "postgres").exists():
        return PREFERRED
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """`command` run as the postgres user when we are root (postgres will not run as root)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *command]
    user = pwd.getpwnam("postgres")
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *command]


def _run(command: list[str], cwd: str) -> None:
    result = subprocess.run(_as_server_user(command), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def new_database(server_url: str) -> str:
    """Create a fresh, empty database on the server of `server_url`; return its URL."""
    import psycopg

    name = "bip_" + uuid.uuid4().hex[:12]
    base = server_url.rsplit("/", 1)[0]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a database on a PostgreSQL server started for this test session."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL is not installed (Debian package postgresql; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI must test the PostgreSQL backend")
        pytest.skip(message)
    folder = tempfile.mkdtemp(prefix="bip-postgres-")
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    data, port = os.path.join(folder, "data"), _free_port()
    started = False
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", data, "-U", "bip", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
            folder,
        )
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                data,
                "-o",
                options,
                "-l",
                os.path.join(folder, "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            folder,
        )
        started = True
        yield new_database(f"postgresql://bip@127.0.0.1:{port}/postgres")
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"]),
                cwd=folder,
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def log_keys(tmp_path, monkeypatch):
    """Key files for a log on PostgreSQL (which has no folder to keep them beside): set in the environment."""
    from bip_engine.log.keys import PSEUDONYM_KEY_FILE_ENV, SESSION_KEY_FILE_ENV, new_key, write_key_file

    files = {}
    for variable, name in ((PSEUDONYM_KEY_FILE_ENV, "pseudonym.key"), (SESSION_KEY_FILE_ENV, "session.key")):
        path = tmp_path / name
        write_key_file(path, (new_key(),))
        monkeypatch.setenv(variable, str(path))
        files[variable] = path
    return files
