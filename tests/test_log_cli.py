"""The command line of the decision log: `bip tokens`, `bip log` and `bip check|explain --log`."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bip_engine import Checker, cli, clock
from bip_engine.log.assessments import append_assessment
from bip_engine.log.decisions import append_decision, decision_entry, decisions_for
from bip_engine.log.store import Store
from bip_engine.log.tokens import ROLES, Principal, authenticate
from tests.conftest import ROOT
from tests.postgres import new_database

EXAMPLE = str(ROOT / "examples" / "stilstand.yaml")  # has notes; id EX-STILSTAND
CITIZEN = "EX-STILSTAND"
NOTE_WORDS = "Afventer afklaring af helbred"


def bip(*args: str):
    return CliRunner().invoke(cli.main, list(args))


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'bip-log.sqlite'}"


def test_tokens_create_list_revoke(db):
    created = bip("tokens", "create", "--name", "fagsystem", "--role", "system", "--database", db)
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("bip_") and "\n" not in token
    assert "kan ikke vises igen" in created.stderr
    store = Store.open(db)
    assert authenticate(store, token) == Principal("fagsystem", "system")
    listed = bip("tokens", "list", "--database", db)
    assert listed.exit_code == 0 and "fagsystem\tsystem\t" in listed.stdout and token not in listed.output
    revoked = bip("tokens", "revoke", "fagsystem", "--database", db, "--lang", "en")
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert authenticate(store, token) is None
    store.close()
    again = bip("tokens", "revoke", "fagsystem", "--database", db)
    assert again.exit_code == 2 and "intet aktivt token" in again.stderr
    assert "\t-" not in bip("tokens", "list", "--database", db).stdout


def test_tokens_refuse_unknown_roles_and_duplicates(db, tmp_path):
    wrong = bip("tokens", "create", "--name", "x", "--role", "boss", "--database", db)
    assert wrong.exit_code == 2 and all(role in wrong.stderr for role in ROLES)
    assert not (tmp_path / "bip-log.sqlite").exists()  # refused before the database is touched
    assert bip("tokens", "create", "--name", "x", "--role", "auditor", "--database", db).exit_code == 0
    duplicate = bip("tokens", "create", "--name", "x", "--role", "auditor", "--database", db, "--lang", "en")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.stderr and duplicate.stdout == ""


def test_check_and_explain_log_an_entry_each(db, tmp_path):
    checked = bip(
        "check",
        EXAMPLE,
        "--as-of",
        "2026-11-22",
        "--format",
        "json",
        "--log",
        db,
        "--purpose",
        "opfølgningssamtale",
        "--user",
        "mette",
    )
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    explained = bip("explain", EXAMPLE, "--as-of", "2026-11-22", "--log", db)
    assert explained.exit_code == 0, explained.output
    store = Store.open(db)
    try:
        first, second = decisions_for(store, CITIZEN)
    finally:
        store.close()
    assert (first["kind"], first["user"], first["role"], first["purpose"]) == (
        "check",
        "mette",
        "caseworker",
        "opfølgningssamtale",
    )
    assert first["phase"] == report["phase"]["id"] and first["as_of"] == "2026-11-22"
    assert first["flags"] == [{"id": flag["id"], "severity": flag["severity"]} for flag in report["flags"]]
    assert first["rulebook_hash"] == report["rulebook"]["hash"]
    assert second["kind"] == "explain" and second["purpose"] == "mødeforberedelse" and second["user"]
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert NOTE_WORDS.encode() not in raw and CITIZEN.encode() not in raw


def test_check_logs_before_it_answers(db):
    """When the entry cannot be written, no answer is printed."""
    Store.open(db).close()
    engine = sa.create_engine(db)
    with engine.begin() as conn:  # a log that refuses every new entry
        conn.execute(
            sa.text(
                "CREATE TRIGGER full_disk BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
        )
    engine.dispose()
    for command in ("check", "explain"):
        result = bip(command, EXAMPLE, "--log", db, "--lang", "en")
        assert result.exit_code == 2, result.output
        assert result.stdout == "" and "the disk is full" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check", EXAMPLE, "--log", "mysql://somewhere/db"],
        ["explain", EXAMPLE, "--log", "postgresql://bip@127.0.0.1:1/none"],
        ["tokens", "create", "--name", "a", "--role", "caseworker", "--database", "postgresql://bip@127.0.0.1:1/x"],
        ["tokens", "list", "--database", "oracle://x"],
        ["tokens", "revoke", "a", "--database", "postgresql://bip@127.0.0.1:1/x"],
        ["log", "export", "--citizen", "A", "--database", "sqlite:////no/such/folder/x.sqlite"],
        ["log", "purge", "--database", "postgresql://bip@127.0.0.1:1/x"],
    ],
)
def test_unusable_databases_exit_2_with_a_message(args):
    result = bip(*args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == "" and ("database" in result.stderr.lower() or "beslutningslog" in result.stderr)


def test_an_unusable_database_gives_no_traceback_in_a_real_process():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bip_engine.cli",
            "check",
            EXAMPLE,
            "--log",
            "postgresql://bip:pw@127.0.0.1:1/none",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "Cannot use the database postgresql" in result.stderr and "Traceback" not in result.stderr
    assert ":pw@" not in result.stderr


def test_read_commands_do_not_create_a_log(tmp_path):
    missing = tmp_path / "typo.sqlite"
    result = bip("log", "export", "--citizen", CITIZEN, "--database", str(missing))
    assert result.exit_code == 2 and "findes ikke" in result.stderr and not missing.exists()


def test_export_for_an_access_request(db):
    for purpose in ("første samtale", '=HYPERLINK("http://x")'):
        assert bip("check", EXAMPLE, "--as-of", "2026-11-22", "--log", db, "--purpose", purpose).exit_code == 0
    store = Store.open(db)
    decision_id = decisions_for(store, CITIZEN)[0]["decision_id"]
    append_assessment(
        store,
        decision_id,
        Principal("mette", "caseworker"),
        False,
        "regress",
        "faldet",
        {"caseworker_change": {"status": "acted", "note": "overlevering aftalt"}},
    )
    store.close()

    as_json = bip("log", "export", "--citizen", CITIZEN, "--database", db)
    assert as_json.exit_code == 0 and "4 poster" in as_json.stderr
    exported = json.loads(as_json.stdout)
    assert exported["citizen_id"] == CITIZEN
    assert [item["kind"] for item in exported["decisions"]] == ["check", "check", "log-read"]  # this read too
    assert [item["purpose"] for item in exported["decisions"]] == [
        "første samtale",
        '=HYPERLINK("http://x")',
        "access request",
    ]
    assert exported["decisions"][0]["phase"] == "standstill" and exported["decisions"][0]["flags"]
    assert exported["assessments"][0]["decision_id"] == decision_id
    assert NOTE_WORDS not in as_json.stdout

    lines = bip("log", "export", "--citizen", CITIZEN, "--database", db, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["decision"] * 4 + ["assessment"]

    table = list(
        csv.DictReader(
            io.StringIO(bip("log", "export", "--citizen", CITIZEN, "--database", db, "--format", "csv").stdout)
        )
    )
    assert [row["type"] for row in table] == ["decision"] * 2 + ["assessment"] + ["decision"] * 3
    assert table[1]["purpose"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert "caseworker_change:high" in table[0]["flags"] and table[2]["agrees"] == "false"
    first = exported["decisions"][0]  # where the decision came from, in the spreadsheet too
    assert first["phase_rule"] and first["software_version"] and first["templates_hash"] and first["report_hash"]
    provenance = ("phase_rule", "software_version", "templates_hash", "report_hash")
    assert [table[0][column] for column in provenance] == [first[column] for column in provenance]

    nobody = bip("log", "export", "--citizen", "NOBODY", "--database", db, "--format", "jsonl", "--purpose", "tjek")
    assert nobody.exit_code == 0
    assert [(item["kind"], item["purpose"]) for item in map(json.loads, nobody.stdout.splitlines())] == [
        ("log-read", "tjek")
    ]


def test_purge_by_retention_period(db):
    assert bip("check", EXAMPLE, "--log", db).exit_code == 0  # today's entry
    store = Store.open(db)
    checker = Checker(engine="python")
    record, _, _ = checker.read_record(EXAMPLE)
    report = checker.check(record, dt.date(2020, 1, 1))
    entry = decision_entry(report, record, Principal("x", "caseworker"), "gammel", store)
    append_decision(store, dataclasses.replace(entry, time=dt.datetime(2019, 6, 1, tzinfo=dt.UTC)))
    store.close()
    bad = bip("log", "purge", "--older-than", "5 år", "--database", db)
    assert bad.exit_code == 2 and "5y" in bad.stderr
    purged = bip("log", "purge", "--database", db, "--lang", "en")  # the default: 5 years
    assert purged.exit_code == 0 and purged.stdout.startswith("1 decisions made before")
    store = Store.open(db)
    assert [item["purpose"] for item in decisions_for(store, CITIZEN)] == ["mødeforberedelse"]
    store.close()
    refused = bip("log", "purge", "--older-than", "0d", "--database", db, "--lang", "en")
    assert refused.exit_code == 2 and "minimum retention period (1y)" in refused.stderr
    store = Store.open(db)
    assert len(decisions_for(store, CITIZEN)) == 1  # nothing went
    store.close()
    dry = bip("log", "purge", "--older-than", "0d", "--force", "--dry-run", "--database", db, "--lang", "en")
    assert dry.exit_code == 0 and dry.stdout.startswith("Dry run: 0 decisions"), dry.output


@pytest.mark.postgres
def test_cli_on_postgresql(postgres_url, log_keys):
    url = new_database(postgres_url)
    created = bip("tokens", "create", "--name", "pg-user", "--role", "team_lead", "--database", url)
    assert created.exit_code == 0, created.output
    assert bip("check", EXAMPLE, "--log", url, "--user", "pg").exit_code == 0
    exported = json.loads(bip("log", "export", "--citizen", CITIZEN, "--database", url).stdout)
    assert [item["user"] for item in exported["decisions"]][:1] == ["pg"]
    assert [item["kind"] for item in exported["decisions"]] == ["check", "log-read"]
    assert "pg-user\tteam_lead" in bip("tokens", "list", "--database", url).stdout


def test_check_without_log_does_not_load_the_database_layer():
    code = (
        "import sys; from click.testing import CliRunner; from bip_engine import cli; "
        f"r = CliRunner().invoke(cli.main, ['check', {EXAMPLE!r}]); "
        "print(r.exit_code, 'sqlalchemy' in sys.modules, 'bip_engine.log.store' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert result.stdout.split() == ["0", "False", "False"], result.stderr


WITHOUT_WEB = textwrap.dedent("""
    import sys

    WEB = ("fastapi", "starlette", "uvicorn")

    class NoWebFramework:  # an install without the [service] extra's web framework
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in WEB:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, NoWebFramework())
    from bip_engine import cli

    try:
        cli.main(sys.argv[1:], prog_name="bip")
    finally:
        loaded = sorted(name for name in sys.modules if name.split(".")[0] in WEB)
        print("web modules:", loaded, file=sys.stderr)
""")


def bip_without_web(*args: str) -> subprocess.CompletedProcess:
    """`bip ARGS` in a new process where fastapi, starlette and uvicorn cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_WEB, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )


def test_the_log_commands_work_without_the_web_framework(db, tmp_path):
    created = bip_without_web("tokens", "create", "--name", "revisor", "--role", "auditor", "--database", db)
    assert created.returncode == 0 and created.stdout.startswith("bip_"), created.stderr
    runs = {
        "tokens list": bip_without_web("tokens", "list", "--database", db),
        "check --log": bip_without_web("check", EXAMPLE, "--log", db, "--purpose", "samtale"),
        "explain --log": bip_without_web("explain", EXAMPLE, "--log", db),
        "log export": bip_without_web("log", "export", "--citizen", CITIZEN, "--database", db, "--format", "jsonl"),
        "log purge": bip_without_web("log", "purge", "--older-than", "1d", "--force", "--database", db),
        "tokens revoke": bip_without_web("tokens", "revoke", "revisor", "--database", db),
    }
    for name, result in runs.items():
        assert result.returncode == 0, (name, result.stderr)
        assert "web modules: []" in result.stderr and "Traceback" not in result.stderr, (name, result.stderr)
    assert "revisor\tauditor" in runs["tokens list"].stdout
    kinds = [json.loads(line)["kind"] for line in runs["log export"].stdout.splitlines()]
    assert kinds == ["check", "explain", "log-read"]
    store = Store.open(db)
    try:
        [decision] = decisions_for(store, CITIZEN)[:1]
    finally:
        store.close()
    replayed = bip_without_web("replay", decision["decision_id"], "--database", db, "--store", str(tmp_path / "none"))
    assert replayed.returncode == 2 and "Traceback" not in replayed.stderr, replayed.stderr  # no release: a message
    assert "web modules: []" in replayed.stderr
    served = bip_without_web("serve", "--database", db)  # the web framework is missing indeed
    assert served.returncode != 0 and "blocked by the test" in served.stderr


def test_purge_without_an_age_uses_the_logs_retention_period(db, monkeypatch):
    assert bip("check", EXAMPLE, "--log", db).exit_code == 0
    monkeypatch.setattr("bip_engine.log.retention.DEFAULT_RETENTION", "3d")
    purged = bip("log", "purge", "--database", db, "--lang", "en", "--force")
    assert purged.exit_code == 0, purged.output
    assert (clock.today() - dt.timedelta(days=3)).isoformat() in purged.stdout
