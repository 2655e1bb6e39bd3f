"""The decision log's store, on SQLite and on a real PostgreSQL server: tokens, pseudonyms, the
append-only log, purging, assessments, concurrency and schema upgrades."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import subprocess
import sys
import textwrap
import threading

import pytest
import sqlalchemy as sa

from bip_engine import Checker, Record, clock
from bip_engine.log.assessments import append_assessment, assessments_for
from bip_engine.log.decisions import (
    DecisionEntry,
    append_decision,
    append_decisions,
    count_decisions,
    decision_entry,
    decision_values,
    decisions_for,
    find_decision,
    latest_decision,
    new_decision_id,
    record_hash,
)
from bip_engine.log.errors import StoreError
from bip_engine.log.pseudonyms import pseudonym
from bip_engine.log.retention import cutoff_date, purge
from bip_engine.log.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from bip_engine.log.store import Store, database_url
from bip_engine.log.tokens import ROLES, Principal, authenticate, create_token, list_tokens, revoke_token
from tests.conftest import AS_OF, ROOT, record
from tests.postgres import new_database

MARKER = "Qzx-notat-7731 borgeren fortalte om sin datter"
CLEAR_ID = "CIT-4711"
ANNA = Principal("anna", "caseworker")
TIME = sa.DateTime(timezone=True)  # how the store writes times, on either backend


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A URL for a fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'log.sqlite'}"
    request.getfixturevalue("log_keys")
    return new_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url):
    opened = Store.open(store_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def plain_checker():
    return Checker(ROOT / "rules", engine="python")


def checked(checker: Checker, citizen: str = CLEAR_ID, notes: str | None = MARKER, levels=(2, 2, 3)):
    """A record with notes and its report."""
    parsed = checker.parse_record(record(levels, id=citizen, notes=notes))
    return parsed, checker.check(parsed, AS_OF, "da")


def logged(store: Store, checker: Checker, purpose: str = "mødeforberedelse", **changes) -> DecisionEntry:
    parsed, report = checked(checker)
    entry = dataclasses.replace(decision_entry(report, parsed, ANNA, purpose, store), **changes)
    append_decision(store, entry)
    return entry


def all_text(store: Store) -> str:
    """Every row of every table, as one string (a dump of the database's contents)."""
    inspector = sa.inspect(store.engine)
    parts = []
    with store.engine.connect() as conn:
        for table in inspector.get_table_names():
            parts.extend(repr(tuple(row)) for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')))
    return "\n".join(parts)


# --- tokens ---


def test_token_lifecycle(store):
    token = create_token(store, "anna", "caseworker")
    assert token.startswith("bip_") and len(token) >= 40
    assert authenticate(store, token) == Principal("anna", "caseworker")
    [listed] = list_tokens(store)
    assert listed["name"] == "anna" and listed["role"] == "caseworker" and listed["revoked"] is None
    assert token not in json.dumps(listed)
    dump = all_text(store)
    assert token not in dump and hashlib.sha256(token.encode()).hexdigest() in dump  # only its hash is kept
    assert revoke_token(store, "anna") is True
    assert authenticate(store, token) is None
    assert revoke_token(store, "anna") is False and revoke_token(store, "nobody") is False
    assert list_tokens(store)[0]["revoked"] is not None


def test_authenticate_refuses_wrong_tokens(store):
    token = create_token(store, "system-a", "system")
    other = create_token(store, "auditor-b", "auditor")
    assert authenticate(store, other) == Principal("auditor-b", "auditor")
    for wrong in (
        token[:-1],
        token + "x",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "",
        "bip_",
        token.removeprefix("bip_"),
        "x" * 10_000,
        hashlib.sha256(token.encode()).hexdigest(),
    ):
        assert authenticate(store, wrong) is None, wrong


def test_tokens_are_random_and_names_and_roles_checked(store):
    made = {create_token(store, f"user-{n}", ROLES[n % len(ROLES)]) for n in range(10)}
    assert len(made) == 10
    with pytest.raises(ValueError, match="caseworker, team_lead"):
        create_token(store, "x", "boss")
    with pytest.raises(ValueError, match="already exists"):
        create_token(store, "user-1", "caseworker")
    for bad in ("", "two words", "x" * 101):
        with pytest.raises(ValueError):
            create_token(store, bad, "caseworker")


# --- pseudonyms and secrets ---


def test_pseudonym_is_stable_per_database_and_not_the_id(store_url, tmp_path):
    first = Store.open(store_url)
    ids = ["A-1", "A-2", CLEAR_ID, "æøå-ü", ""]
    pseudonyms = [pseudonym(first, citizen) for citizen in ids]
    secret = first.session_key()
    first.close()
    again = Store.open(store_url)
    assert [pseudonym(again, citizen) for citizen in ids] == pseudonyms
    assert again.session_key() == secret and len(secret) == 32
    assert secret not in again.pseudonym_keys().keys  # two secrets, not one
    again.close()
    assert len(set(pseudonyms)) == len(ids)
    for citizen, alias in zip(ids, pseudonyms, strict=True):
        assert len(alias) == 64 and (not citizen or citizen not in alias)
        assert alias != hashlib.sha256(citizen.encode()).hexdigest()  # keyed, not a plain hash
    if store_url.startswith("sqlite"):  # keys beside each SQLite log (PostgreSQL's come from the environment)
        elsewhere = Store.open(f"sqlite:///{tmp_path / 'other.sqlite'}")
        assert pseudonym(elsewhere, CLEAR_ID) != pseudonyms[2]  # each database has its own key
        assert elsewhere.session_key() != secret
        elsewhere.close()


# --- the log ---


def test_append_holds_the_decision_and_never_the_notes(store, plain_checker):
    parsed, report = checked(plain_checker)
    entry = decision_entry(report, parsed, ANNA, "mødeforberedelse", store)
    append_decision(store, entry)
    got = find_decision(store, entry.decision_id)
    assert set(got) == {field.name for field in dataclasses.fields(DecisionEntry)}
    assert got["citizen"] == pseudonym(store, CLEAR_ID) != CLEAR_ID
    assert got["phase"] == report.phase.id and got["confidence"] == report.phase.confidence
    assert got["flags"] == [{"id": flag.id, "severity": flag.severity} for flag in report.flags]
    assert got["facts"] == json.loads(json.dumps(report.facts))
    assert got["rulebook_hash"] == report.rulebook.hash and got["as_of"] == AS_OF.isoformat()
    assert got["user"] == "anna" and got["role"] == "caseworker" and got["kind"] == "check"
    assert got["record_hash"] == record_hash(parsed)
    assert dt.datetime.fromisoformat(got["time"]) == entry.time
    assert decisions_for(store, CLEAR_ID) == [got]
    assert latest_decision(store, CLEAR_ID) == got and latest_decision(store, CLEAR_ID, "explain") is None
    dump = all_text(store)
    assert MARKER not in dump and "Qzx-notat" not in dump and "datter" not in dump
    assert CLEAR_ID not in dump


def test_sqlite_file_holds_no_notes_and_no_clear_id(tmp_path, plain_checker):
    path = tmp_path / "log.sqlite"
    store = Store.open(str(path))
    for _ in range(3):
        logged(store, plain_checker)
    raw = b"".join(file.read_bytes() for file in tmp_path.iterdir() if file.name.startswith("log.sqlite"))
    store.close()
    assert b"Qzx-notat" not in raw and CLEAR_ID.encode() not in raw
    assert pseudonym(store, CLEAR_ID).encode() in raw  # the check above looked at the right bytes


def test_decisions_are_listed_oldest_first_per_citizen(store, plain_checker):
    now = dt.datetime.now(dt.UTC)
    times = [now - dt.timedelta(days=days) for days in (3, 10, 1)]
    for when in times:
        logged(store, plain_checker, time=when)
    other_parsed, other_report = checked(plain_checker, citizen="OTHER-1")
    append_decision(store, decision_entry(other_report, other_parsed, ANNA, "x", store, kind="explain"))
    listed = [dt.datetime.fromisoformat(item["time"]) for item in decisions_for(store, CLEAR_ID)]
    assert listed == sorted(times)
    assert dt.datetime.fromisoformat(latest_decision(store, CLEAR_ID)["time"]) == max(times)
    assert [item["kind"] for item in decisions_for(store, "OTHER-1")] == ["explain"]
    assert decisions_for(store, "NOBODY") == [] and find_decision(store, "nope") is None


def test_update_and_delete_are_refused_by_the_database(store, plain_checker):
    entry = logged(store, plain_checker)
    append_assessment(store, entry.decision_id, ANNA, True, None, None, {})
    statements = [
        "UPDATE decisions SET phase = 'progress'",
        "UPDATE assessments SET agrees = false",
        "DELETE FROM decisions",
        "DELETE FROM assessments",
    ]
    if store.dialect == "postgresql":
        statements += ["TRUNCATE decisions CASCADE", "TRUNCATE assessments"]
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match=r"append-only|only deleted"), store.engine.begin() as conn:
            conn.execute(sa.text(statement))
    got = find_decision(store, entry.decision_id)
    assert got["phase"] == entry.phase and len(assessments_for(store, CLEAR_ID)) == 1


def test_purge_deletes_by_age_only(store, plain_checker):
    now = dt.datetime.now(dt.UTC)
    old = [logged(store, plain_checker, time=now - dt.timedelta(days=365 * 6 + n)) for n in range(3)]
    recent = [logged(store, plain_checker, time=now - dt.timedelta(days=n)) for n in (0, 30, 365 * 4)]
    append_assessment(store, old[0].decision_id, ANNA, False, "regress", "ses anderledes", {})
    append_assessment(store, recent[0].decision_id, ANNA, True, None, None, {})
    assert purge(store, cutoff_date("5y", clock.today()), "ops").decisions == 3
    assert {item["decision_id"] for item in decisions_for(store, CLEAR_ID)} == {e.decision_id for e in recent}
    assert [item["decision_id"] for item in assessments_for(store, CLEAR_ID)] == [recent[0].decision_id]
    assert purge(store, cutoff_date("5y", clock.today()), "ops").decisions == 0
    assert purge(store, clock.today() + dt.timedelta(days=1), "ops", force=True).decisions == 3
    assert count_decisions(store) == 0
    # the purge's window closed with its transaction: an old row cannot be deleted afterwards
    with pytest.raises(sa.exc.DBAPIError), store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO decisions (decision_id, time, user_name, role, purpose, kind, "
                "citizen, as_of, rulebook_name, rulebook_version, rulebook_hash, engine, flags, "
                "facts, record_hash) VALUES ('x', :t, 'u', 'r', 'p', 'check', 'c', '2020-01-01', "
                "'n', 'v', 'h', 'python', '[]', '{}', 'h')"
            ).bindparams(sa.bindparam("t", type_=TIME)),
            {"t": now - dt.timedelta(days=9000)},
        )
        conn.execute(sa.text("DELETE FROM decisions"))


def test_assessment_is_tied_to_a_decision(store, plain_checker):
    entry = logged(store, plain_checker)
    with pytest.raises(ValueError, match="no decision"):
        append_assessment(store, "not-a-decision", ANNA, True, None, None, {})
    notes = {
        "caseworker_change": {"status": "acted", "note": "ny aftale om overlevering"},
        "measurement_overdue": {"status": "not_relevant", "note": ""},
    }
    first = append_assessment(store, entry.decision_id, ANNA, False, "regress", "faldet siden sidst", notes)
    second = append_assessment(store, entry.decision_id, Principal("bo", "team_lead"), True, None, None, {})
    got = assessments_for(store, CLEAR_ID)
    assert [item["assessment_id"] for item in got] == [first, second]
    assert got[0]["decision_id"] == entry.decision_id and got[0]["agrees"] is False
    assert got[0]["phase"] == "regress" and got[0]["reason"] == "faldet siden sidst"
    assert got[0]["flag_notes"] == notes and got[1]["user"] == "bo" and got[1]["agrees"] is True
    assert assessments_for(store, "OTHER") == []
    for bad in ({"x": {"status": "maybe", "note": ""}}, {"x": {"status": "acted", "note": "n" * 5000}}, {"x": "acted"}):
        with pytest.raises(ValueError):
            append_assessment(store, entry.decision_id, ANNA, True, None, None, bad)


def test_concurrent_appends_from_threads(store, plain_checker):
    parsed, report = checked(plain_checker)
    ids: list[str] = []
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(25):
                entry = decision_entry(report, parsed, ANNA, "x", store)
                append_decision(store, entry)
                ids.append(entry.decision_id)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count_decisions(store) == 200
    assert {item["decision_id"] for item in decisions_for(store, CLEAR_ID)} == set(ids)


WRITER = textwrap.dedent("""
    import dataclasses, sys
    from bip_engine import Checker
    from bip_engine.log.decisions import append_decision, decision_entry
    from bip_engine.log.pseudonyms import pseudonym
    from bip_engine.log.store import Store
    from bip_engine.log.tokens import Principal
    from tests.conftest import AS_OF, ROOT, record
    store = Store.open(sys.argv[1])  # both processes create/migrate the same new database at once
    checker = Checker(ROOT / "rules", engine="python")
    parsed = checker.parse_record(record((2, 3), id="PROC-1"))
    report = checker.check(parsed, AS_OF)
    for _ in range(40):
        append_decision(store, decision_entry(report, parsed, Principal(sys.argv[2], "system"), "x", store))
    print(pseudonym(store, "PROC-1"))
""")


def test_two_processes_create_and_append_to_one_database(store_url):
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store_url, f"worker-{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert outputs[0][0] == outputs[1][0]  # one secret: the database was initialised once
    store = Store.open(store_url)
    try:
        users = [item["user"] for item in decisions_for(store, "PROC-1")]
        assert sorted(users) == ["worker-0"] * 40 + ["worker-1"] * 40
        assert store.schema_version() == SCHEMA_VERSION
    finally:
        store.close()


# --- schema versions ---


def test_an_older_schema_is_upgraded_without_losing_entries(store_url):
    previous = MIGRATIONS[:-1]
    old_engine = sa.create_engine(database_url(store_url))
    assert migrate(old_engine, previous) == previous[-1].version
    old = Store(old_engine)  # what the previous release would use: no migration on this object
    token = create_token(old, "old-token", "auditor")
    alias = pseudonym(old, CLEAR_ID)
    with old_engine.begin() as conn:  # rows as the previous schema (without rules_as_of and release) holds them
        for n in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO decisions (decision_id, time, user_name, role, purpose, kind, citizen, as_of, "
                    "rulebook_name, rulebook_version, rulebook_hash, engine, phase, confidence, flags, facts, "
                    "record_hash) VALUES (:id, :time, 'anna', 'caseworker', 'møde', 'check', :citizen, '2026-01-01', "
                    "'bip-standard', '2026.1', 'abc', 'python', 'standstill', 'high', "
                    '\'[{"id": "x", "severity": "high"}]\', \'{"level": 2.5}\', \'rh\')'
                ).bindparams(sa.bindparam("time", type_=TIME)),
                {"id": f"old-{n}", "time": dt.datetime(2026, 1, 1 + n, tzinfo=dt.UTC), "citizen": alias},
            )
    old_engine.dispose()

    store = Store.open(store_url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        entries = decisions_for(store, CLEAR_ID)
        assert [item["decision_id"] for item in entries] == ["old-0", "old-1", "old-2"]
        assert entries[0]["flags"] == [{"id": "x", "severity": "high"}] and entries[0]["facts"] == {"level": 2.5}
        assert entries[0]["release"] is None and entries[0]["rules_as_of"] is None
        assert authenticate(store, token) == Principal("old-token", "auditor")
        assert pseudonym(store, CLEAR_ID) == alias
        append_assessment(store, "old-1", ANNA, True, None, None, {})
        with store.engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
        assert versions == [migration.version for migration in MIGRATIONS]
    finally:
        store.close()
    Store.open(store_url).close()  # opening an up-to-date database changes nothing


def test_a_newer_schema_is_refused(store_url):
    Store.open(store_url).close()
    engine = sa.create_engine(database_url(store_url))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO schema_version (version, description, applied) "
                "VALUES (99, 'from the future', CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99"):
        Store.open(store_url)


# --- URLs, reachability and the SQLite settings ---


def test_urls_are_checked_and_unreachable_databases_named(tmp_path):
    for bad in ("mysql://x/y", "postgresql+psycopg2://x/y", "http://example.org", "sqlite+foo:///x"):
        with pytest.raises(StoreError, match="Invalid database URL"):
            Store.open(bad)
    assert database_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert database_url("x.sqlite").database == "x.sqlite"
    with pytest.raises(StoreError, match="Cannot use the database") as caught:
        Store.open("postgresql://bip:secret-pw@127.0.0.1:1/nothing")
    assert "secret-pw" not in caught.value.text("en") and "secret-pw" not in caught.value.text("da")
    with pytest.raises(StoreError, match="no decision log"):
        Store.open(str(tmp_path / "absent.sqlite"), create=False)
    assert not (tmp_path / "absent.sqlite").exists()
    with pytest.raises(StoreError, match="Cannot use the database"):
        Store.open(str(tmp_path / "no" / "such" / "folder.sqlite"))


def test_sqlite_settings_and_ping(tmp_path):
    path = tmp_path / "log.sqlite"
    store = Store.open(str(path))
    try:
        with store.engine.connect() as conn:
            settings = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert settings == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 15000}
        assert store.ping() is None
        assert path.stat().st_mode & 0o077 == 0  # readable by its owner only
    finally:
        store.close()


@pytest.mark.postgres
def test_postgresql_ping_and_index(postgres_url):
    store = Store.open(new_database(postgres_url))
    try:
        assert store.ping() is None and store.dialect == "postgresql"
        indexes = {index["name"]: index["column_names"] for index in sa.inspect(store.engine).get_indexes("decisions")}
        assert indexes["decisions_citizen_time"] == ["citizen", "time"]
    finally:
        store.close()


# --- entries ---


def test_record_hash_is_canonical_and_covers_the_whole_record(plain_checker):
    data = record((2, 3), id="H-1", notes="a")
    reordered = dict(reversed(list(data.items())))
    same = [record_hash(Record.model_validate(item)) for item in (data, reordered)]
    assert same[0] == same[1] and len(same[0]) == 64
    assert record_hash(Record.model_validate({**data, "notes": "b"})) != same[0]


def test_cutoff_dates():
    today = dt.date(2024, 2, 29)
    assert cutoff_date("5y", today) == dt.date(2019, 2, 28)
    assert cutoff_date("18m", today) == dt.date(2022, 8, 29)
    assert cutoff_date("1m", dt.date(2024, 3, 31)) == dt.date(2024, 2, 29)
    assert cutoff_date("90d", today) == today - dt.timedelta(days=90)
    assert cutoff_date(" 2Y ", today) == dt.date(2022, 2, 28)
    for bad in ("5", "y", "5w", "-1y", "5 years", "", "99999y"):
        with pytest.raises(ValueError):
            cutoff_date(bad, today)


def test_new_decision_ids_are_unique():
    assert len({new_decision_id() for _ in range(1000)}) == 1000


# --- the service's writer: group commit, a busy lock, checkpoints ---


def _rows(store: Store, checker: Checker, count: int) -> list[dict]:
    parsed, report = checked(checker)
    return [decision_values(decision_entry(report, parsed, ANNA, f"møde {n}", store)) for n in range(count)]


def test_the_writer_commits_concurrent_entries_and_each_waits_for_its_own(store, plain_checker):
    import asyncio

    from bip_engine.service.writer import DecisionWriter

    writer = DecisionWriter(store)
    rows = _rows(store, plain_checker, 40)

    async def append_all() -> None:
        await asyncio.gather(*(writer.append(row) for row in rows))

    try:
        asyncio.run(append_all())
    finally:
        writer.stop()
    assert all(find_decision(store, row["decision_id"]) is not None for row in rows)
    assert writer.on_loop == (store.dialect == "sqlite")


def _counting_commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the number of rows of every commit the writer makes on the event loop (the store still writes them)."""
    from bip_engine.service import writer

    sizes: list[int] = []
    commit = writer.try_append_decisions

    def counted(store: Store, rows: list[dict]) -> bool:
        sizes.append(len(rows))
        return commit(store, rows)

    monkeypatch.setattr(writer, "try_append_decisions", counted)
    return sizes


def test_requests_that_come_in_together_are_committed_by_the_last_computation(tmp_path, plain_checker, monkeypatch):
    import asyncio

    from bip_engine.service.writer import DecisionWriter

    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    writer = DecisionWriter(store)
    sizes = _counting_commits(monkeypatch)
    rows = _rows(store, plain_checker, 5)
    committed_when_computed: list[int] = []

    def compute(row: dict) -> dict:
        committed_when_computed.append(sum(sizes))
        return row

    async def together() -> list[dict]:
        return await asyncio.wait_for(
            asyncio.gather(*(writer.logged(lambda row=row: compute(row), dict) for row in rows)), 5
        )

    try:
        results = asyncio.run(together())
    finally:
        writer.stop()
    assert [result["decision_id"] for result in results] == [row["decision_id"] for row in rows]
    assert sizes == [5]  # one transaction, after the last of the five computations
    assert committed_when_computed == [0] * 5
    assert all(find_decision(store, row["decision_id"]) is not None for row in rows)
    store.close()


def test_answers_leave_before_the_requests_that_came_in_meanwhile_are_computed(tmp_path, plain_checker):
    import asyncio

    from bip_engine.service.writer import DecisionWriter

    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    writer = DecisionWriter(store)
    rows = _rows(store, plain_checker, 6)
    events: list[str] = []
    later: list[asyncio.Task] = []

    async def request(name: str, row: dict) -> None:
        def compute() -> dict:
            events.append(f"computed {name}")
            return row

        await writer.logged(compute, dict)
        events.append(f"answered {name}")

    def more_arrive() -> None:  # as the server reads requests that came in once the first have begun
        later.extend(asyncio.ensure_future(request(f"b{n}", rows[3 + n])) for n in range(3))

    async def run() -> None:
        first = [asyncio.ensure_future(request(f"a{n}", rows[n])) for n in range(3)]
        asyncio.get_running_loop().call_soon(more_arrive)
        await asyncio.wait_for(asyncio.gather(*first), 5)
        await asyncio.wait_for(asyncio.gather(*later), 5)

    try:
        asyncio.run(run())
    finally:
        writer.stop()
    answered_a = max(events.index(f"answered a{n}") for n in range(3))
    computed_b = min(events.index(f"computed b{n}") for n in range(3))
    assert answered_a < computed_b, events
    assert all(find_decision(store, row["decision_id"]) is not None for row in rows)
    store.close()


@pytest.mark.parametrize("failing", ["compute", "row"])
def test_a_computation_that_fails_does_not_hold_back_the_others(tmp_path, plain_checker, failing, monkeypatch):
    import asyncio

    from bip_engine.service.writer import DecisionWriter

    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    writer = DecisionWriter(store)
    sizes = _counting_commits(monkeypatch)
    rows = _rows(store, plain_checker, 3)

    def compute(row: dict | None) -> dict | None:
        if row is None and failing == "compute":
            raise RuntimeError("a bug in one check")
        return row

    def row_of(result: dict | None) -> dict:
        if result is None:
            raise RuntimeError("a bug in one log row")
        return result

    async def together() -> list:
        calls = [writer.logged(lambda row=row: compute(row), row_of) for row in (rows[0], None, rows[1], rows[2])]
        return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)

    try:
        results = asyncio.run(together())
    finally:
        writer.stop()
    assert isinstance(results[1], RuntimeError)
    assert sizes == [3]
    assert all(find_decision(store, row["decision_id"]) is not None for row in rows)
    store.close()


def test_a_sqlite_lock_held_longer_than_the_loop_waits_goes_to_the_writer_thread(tmp_path, plain_checker):
    import asyncio
    import time

    from bip_engine.service.writer import BUSY_ON_LOOP, DecisionWriter

    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    store, other = Store.open(url), Store.open(url)
    writer = DecisionWriter(store)
    rows = _rows(store, plain_checker, 3)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:  # as `bip log purge` would, from another connection
        with other.write():
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(5)

    async def append_while_held() -> float:
        started = time.monotonic()
        appending = asyncio.gather(*(writer.append(row) for row in rows))
        await asyncio.sleep(BUSY_ON_LOOP * 5)
        assert not appending.done()  # no answer before its entry is committed
        assert writer._thread is not None and writer._thread.is_alive()  # handed to the thread
        release.set()
        await appending
        return time.monotonic() - started

    try:
        waited = asyncio.run(append_while_held())
    finally:
        release.set()
        holder.join(5)
        writer.stop()
        other.close()
    assert waited >= BUSY_ON_LOOP * 5
    assert all(find_decision(store, row["decision_id"]) is not None for row in rows)
    store.close()


def test_the_service_checkpoints_a_sqlite_log_in_the_background(tmp_path, plain_checker):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    store = Store.open(url)
    store.checkpoint_later()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    append_decisions(store, _rows(store, plain_checker, 30))
    wal = tmp_path / "log.sqlite-wal"
    assert wal.stat().st_size > 0
    store.checkpoint()
    raw = store.engine.raw_connection()
    try:
        busy, frames, copied = raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    assert busy == 0 and frames == copied  # everything in the log is in the database
    store.close()
    plain = Store.open(url)  # the log is whole for a reader that opens it afresh
    try:
        assert len(decisions_for(plain, CLEAR_ID)) == 30
    finally:
        plain.close()


def test_the_write_ahead_file_is_cut_back_when_it_starts_over(tmp_path, plain_checker, monkeypatch, log_keys):
    """A SQLite log's -wal file stays at its largest size unless SQLite is told to cut it back (journal_size_limit)."""
    from bip_engine.log import store as store_module

    monkeypatch.setattr(store_module, "WAL_SIZE_LIMIT", 256 * 1024)
    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        store.checkpoint_later()  # as the service runs it: no checkpoint in the commits
        for _ in range(300):
            logged(store, plain_checker)
        wal = tmp_path / "log.sqlite-wal"
        grown = wal.stat().st_size
        assert grown > 4 * 256 * 1024
        store.checkpoint()  # nothing else writes: it catches up with every entry
        logged(store, plain_checker)  # the next write starts the file over, and cuts it back
        assert wal.stat().st_size <= 256 * 1024 < grown
    finally:
        store.close()


def test_a_commit_does_not_cut_back_a_write_ahead_file_under_its_ceiling(tmp_path, plain_checker, log_keys):
    """After a busy spell (here about 100 MB of write-ahead file) the commit that starts the file over leaves it as it is.

    Cutting it back (as a 64-MB limit did) is done inside that commit: on the service's event loop,
    140 ms in which the worker answered nobody."""
    from bip_engine.log.decisions import decision_values, try_append_decisions

    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        store.checkpoint_later()  # as the service runs it: no checkpoint in the commits
        parsed, report = checked(plain_checker)
        row = decision_values(decision_entry(report, parsed, ANNA, "mødeforberedelse", store))
        for number in range(4000):  # one commit each, as at saturation
            assert try_append_decisions(store, [dict(row, decision_id=f"{number:032x}")])
        wal = tmp_path / "log.sqlite-wal"
        grown = wal.stat().st_size
        assert grown > 80 * 1024 * 1024
        store.checkpoint()  # it catches up with every entry
        assert try_append_decisions(store, [dict(row, decision_id="f" * 32)])  # starts the file over
        assert wal.stat().st_size == grown
    finally:
        store.close()
