"""Provenance of every decision (issues 16 and 18): reports and log entries name the software version and
a hash of the guidance templates; the log keeps the phase rule and a hash of the report; replay compares
the wording; the hash chain covers the new fields while entries written before them still verify."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from importlib.metadata import version

import sqlalchemy as sa
from click.testing import CliRunner

from bip_engine import Checker, cli, report_json
from bip_engine.authoring.release import make_release
from bip_engine.log import chain, schema
from bip_engine.log.decisions import decision_entry, decision_values, find_decision
from bip_engine.log.maintenance import verify_log
from bip_engine.log.replay import render_replay, replay
from bip_engine.log.store import Store
from bip_engine.log.values import dumps
from bip_engine.paths import default_guidance
from tests.conftest import ROOT
from tests.test_dated import dated_rulebook, falling_record, write
from tests.test_log_integrity import sql, unguarded
from tests.test_replay import check_and_log
from tests.test_store import ANNA, checked, logged

AS_OF = dt.date(2026, 11, 22)


def files_hash(folders) -> str:
    """The templates hash as the issue defines it: the templates used (the first file of each name along
    the folders, as the loader finds them), each file's name and bytes."""
    found = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                found.setdefault(path.relative_to(folder).as_posix(), path.read_bytes())
    digest = hashlib.sha256()
    for name, data in sorted(found.items()):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def local_guidance(root, words: str):
    """A guidance folder whose Danish regress text adds `words` to the bundled one."""
    folder = root / "tekster"
    bundled = (default_guidance() / "da" / "phases" / "regress.j2").read_text(encoding="utf-8")
    write(folder / "da" / "phases", "regress.j2", bundled.replace("{% block signs %}", "{% block signs %}" + words, 1))
    return folder


def test_a_report_names_the_software_version_and_the_templates_it_was_written_with(tmp_path):
    texts = local_guidance(tmp_path, "Lokalt ord A. ")
    checker = Checker(ROOT / "rules", engine="python", guidance=[texts])
    report = checker.check(falling_record(), AS_OF, "da")
    assert report.schema_version == "1.3"
    assert report.rulebook.software_version == version("bip-engine")
    assert report.rulebook.templates_hash == files_hash([texts / "da", default_guidance() / "da"])
    assert "Lokalt ord A." in report.guidance.signs
    before = report.rulebook.templates_hash

    local_guidance(tmp_path, "Lokalt ord B. ")  # the template changed on disk: a reload reads it
    assert checker.reload(guidance=[texts]) == []
    again = checker.check(falling_record(), AS_OF, "da")
    assert "Lokalt ord B." in again.guidance.signs
    assert again.rulebook.templates_hash == files_hash([texts / "da", default_guidance() / "da"]) != before
    english = checker.check(falling_record(), AS_OF, "en")  # no English file here: the bundled ones only
    assert english.rulebook.templates_hash == files_hash([texts / "en", default_guidance() / "en"])


def test_a_logged_check_keeps_its_provenance_phase_rule_and_report_hash(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        checker = Checker(ROOT / "rules", engine="python")
        _, report = checked(checker)
        entry = logged(store, checker)
        kept = find_decision(store, entry.decision_id)
    finally:
        store.close()
    assert kept["software_version"] == version("bip-engine") == report.rulebook.software_version
    assert kept["templates_hash"] == report.rulebook.templates_hash
    assert kept["phase_rule"] == report.phase.rule
    assert kept["report_hash"] == hashlib.sha256(report_json(report).encode("utf-8")).hexdigest()
    assert kept["language"] == report.language and kept["margins"] is False


def _v5_entry(conn, table: sa.Table, prev: str, decision_id: str) -> str:
    """A decision as schema version 5 wrote it, hashed as that version did: every column of its own, no others."""
    values = {
        "decision_id": decision_id,
        "time": "2026-11-20T10:00:00.000000Z",
        "user_name": "anna",
        "role": "caseworker",
        "purpose": "samtale",
        "kind": "check",
        "citizen": "pseud",
        "as_of": "2026-11-20",
        "rulebook_name": "default",
        "rulebook_version": "1",
        "rulebook_hash": "a" * 64,
        "engine": "python",
        "phase": "regress",
        "confidence": "high",
        "flags": "[]",
        "facts": "{}",
        "record_hash": "b" * 64,
        "rules_as_of": "2026-11-20",
        "release": None,
        "key_id": None,
    }
    hashed = hashlib.sha256(dumps({"table": "decisions", "prev": prev, "entry": values}).encode("utf-8")).hexdigest()
    row = dict(values, time=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC), prev_hash=prev, entry_hash=hashed)
    conn.execute(table.insert().values(**row))
    return hashed


def test_entries_written_before_the_new_columns_still_verify_and_new_ones_are_covered(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.sqlite'}"
    engine = sa.create_engine(url)
    schema.migrate(engine, schema.MIGRATIONS[:5])  # a log as the previous version left it
    shape = sa.Table("decisions", sa.MetaData(), autoload_with=engine)
    assert "templates_hash" not in shape.c
    with engine.begin() as conn:
        first = _v5_entry(conn, shape, "0" * 64, "old-1")
        _v5_entry(conn, shape, first, "old-2")
    engine.dispose()

    store = Store.open(url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION == 6
        assert verify_log(store) == []  # the old entries, hashed without the new columns, still fit
        new = logged(store, Checker(ROOT / "rules", engine="python"))
        assert find_decision(store, new.decision_id)["templates_hash"]
        assert verify_log(store) == []
    finally:
        store.close()
    for column, value in (
        ("templates_hash", "'" + "0" * 64 + "'"),
        ("phase_rule", "'forged'"),
        ("report_hash", "NULL"),
    ):
        fresh = tmp_path / f"{column}.sqlite"
        shutil.copy(tmp_path / "log.sqlite", fresh)
        copy = f"sqlite:///{fresh}"
        sql(copy, *unguarded(copy), f"UPDATE decisions SET {column} = {value} WHERE decision_id = '{new.decision_id}'")
        store = Store.open(copy)
        try:
            assert [(item.entry, item.problem) for item in verify_log(store)] == [(new.decision_id, "changed")], column
        finally:
            store.close()


def test_replay_names_a_change_of_wording_and_its_cause(tmp_path):
    folder = dated_rulebook(tmp_path)
    texts = local_guidance(tmp_path, "Lokalt ord A. ")
    record = tmp_path / "borger.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    store, database = tmp_path / "store", f"sqlite:///{tmp_path / 'log.db'}"
    first = make_release(folder, "Jens", None, store, [texts]).release
    decision = check_and_log(record, store, database, "--rules", str(folder), "--guidance", str(texts))
    unchanged = replay(decision, database, store, str(record))
    assert unchanged.release.hash == first.hash
    assert unchanged.wording_same is True and unchanged.causes == [] and unchanged.identical

    local_guidance(tmp_path, "Lokalt ord B. ")  # the policy staff change the template and release again
    second = make_release(folder, "Jens", "ny tekst", store, [texts]).release
    assert second.hash != first.hash
    result = replay(decision, database, store, str(record))
    assert result.release.hash == second.hash  # the newest release of the logged rulebook
    assert result.logged.differences(result.from_record) == [] and result.fact_differences == []
    assert result.wording_same is False and result.causes == ["templates"] and not result.identical
    shown = CliRunner().invoke(
        cli.main, ["replay", decision, "--record", str(record), "--database", database, "--store", str(store)]
    )
    assert shown.exit_code == 1, shown.output
    assert "kun ordlyden er en anden" in shown.output
    logged_hash = find_decision(Store.open(database, create=False), decision)["templates_hash"]
    assert f"skabelon-hash {logged_hash[:12]} dengang, {result.templates_hash[:12]} nu" in shown.output
    assert "Resultatet er IKKE identisk." in shown.output
    without_record = render_replay(replay(decision, database, store), "en")  # the cause is seen without the record
    assert "the guidance templates differ" in without_record and "The result is identical." in without_record
    assert "only be compared given the original record" in without_record


def test_replay_names_another_software_version(tmp_path):
    folder = dated_rulebook(tmp_path)
    record = tmp_path / "borger.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    store, database = tmp_path / "store", f"sqlite:///{tmp_path / 'log.db'}"
    make_release(folder, "Jens", None, store, [tmp_path / "tekster"])
    checker = Checker(folder, engine="python", guidance=[tmp_path / "tekster"])
    parsed = checker.parse_record(falling_record())
    report = checker.check(parsed, AS_OF, "en")
    older = report.model_copy(
        update={"rulebook": report.rulebook.model_copy(update={"software_version": "0.0.1"}), "engine": "python"}
    )
    log = Store.open(database)
    try:
        entry = decision_entry(older, parsed, ANNA, "samtale", log)
        row = decision_values(dataclasses.replace(entry, decision_id="older"))
        with log.write() as conn:
            chain.append(conn, schema.decisions, [row])
    finally:
        log.close()
    result = replay("older", database, store, str(record))
    assert result.causes == ["software"] and result.wording_same is True and result.identical
    shown = render_replay(result, "en")
    assert f"bip-engine 0.0.1 then, {version('bip-engine')} now" in shown and "The result is identical." in shown


def test_a_log_entry_without_the_new_fields_replays_as_before(tmp_path):
    folder = dated_rulebook(tmp_path)
    record = tmp_path / "borger.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    store, database = tmp_path / "store", f"sqlite:///{tmp_path / 'log.db'}"
    make_release(folder, "Jens", None, store, [tmp_path / "tekster"])
    decision = check_and_log(record, store, database, "--release", "latest")
    copy = tmp_path / "old.db"
    shutil.copy(tmp_path / "log.db", copy)
    old = f"sqlite:///{copy}"
    sql(
        old,
        *unguarded(old),
        "UPDATE decisions SET software_version = NULL, templates_hash = NULL, phase_rule = NULL, "
        "report_hash = NULL, language = NULL, margins = NULL",
    )
    result = replay(decision, old, store, str(record))
    assert result.wording_same is None and result.causes == [] and result.identical


def test_the_output_schema_has_the_new_fields():
    from bip_engine import output_schema

    document = output_schema()
    refs = document["$defs"]["RulebookRef"]["properties"]
    assert {"templates_hash", "software_version"} <= set(refs)
