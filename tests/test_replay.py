"""`bip replay`: a logged decision re-run under the release it used, identical or with the differences named."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.authoring.release import make_release
from bip_engine.log.decisions import DecisionEntry, append_decision, decisions_for, find_decision
from bip_engine.log.replay import replay
from bip_engine.log.store import Store
from tests.conftest import EXECUTORS
from tests.test_dated import dated_rulebook, falling_record, write


@pytest.fixture
def setup(tmp_path):
    folder = dated_rulebook(tmp_path)
    record = tmp_path / "borger.json"
    record.write_text(json.dumps(falling_record()), encoding="utf-8")
    return folder, [folder.parent / "tekster"], record, tmp_path / "store", f"sqlite:///{tmp_path / 'log.db'}"


def check_and_log(record, store, database, *extra) -> str:
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            str(record),
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
            "--log",
            database,
            "--store",
            str(store),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    log = Store.open(database)
    try:
        return decisions_for(log, "D-1")[-1]["decision_id"]
    finally:
        log.close()


@pytest.mark.parametrize("engine", EXECUTORS)
def test_replay_of_a_decision_made_under_a_superseded_release(setup, engine):
    folder, texts, record, store, database = setup
    first = make_release(folder, "Jens", "A", store, texts).release
    decision = check_and_log(record, store, database, "--release", "latest", "--engine", engine)
    write(folder, "parameters.yaml", "regress_threshold:\n  values:\n    - value: -0.45\n")
    second = make_release(folder, "Jens", "B: a new threshold", store, texts).release
    assert second.hash != first.hash
    now = json.loads(
        CliRunner()
        .invoke(
            cli.main,
            [
                "check",
                str(record),
                "--as-of",
                "2026-11-22",
                "--format",
                "json",
                "--release",
                "latest",
                "--store",
                str(store),
            ],
        )
        .stdout
    )
    assert now["phase"]["id"] == "standstill"  # the newer release decides differently

    result = replay(decision, database, store, str(record))
    assert result.release.hash == first.hash and result.identical
    assert result.from_facts.phase == result.from_record.phase == "regress"
    assert result.engine == engine
    shown = CliRunner().invoke(
        cli.main, ["replay", decision, "--record", str(record), "--database", database, "--store", str(store)]
    )
    assert shown.exit_code == 0, shown.output
    assert f"Udgivelse {first.hash[:12]}" in shown.output and "Resultatet er identisk." in shown.output
    assert "Fra den oprindelige post: identisk: fase regress" in shown.output


def test_replay_finds_the_release_by_rulebook_hash(setup):
    folder, texts, record, store, database = setup
    release = make_release(folder, "Jens", None, store, texts).release
    decision = check_and_log(record, store, database, "--rules", str(folder), "--guidance", str(texts[0]))
    log = Store.open(database)
    assert find_decision(log, decision)["release"] is None
    log.close()
    result = replay(decision, database, store)
    assert result.release.hash == release.hash and result.identical and result.from_record is None


def test_replay_names_what_differs_and_why(setup):
    folder, texts, record, store, database = setup
    make_release(folder, "Jens", None, store, texts)
    decision = check_and_log(record, store, database, "--release", "latest", "--engine", "python")
    log = Store.open(database)
    entry = find_decision(log, decision)
    facts = dict(entry["facts"], change=-0.3)  # as if an older engine had derived the change differently
    tampered = DecisionEntry(
        **{
            **{
                field.name: entry.get(field.name)
                for field in dataclasses.fields(DecisionEntry)
                if field.name not in ("time", "user", "facts", "flags")
            },
            "decision_id": "old-engine",
            "time": dt.datetime.now(dt.UTC),
            "user": entry["user"],
            "facts": facts,
            "flags": entry["flags"],
        }
    )
    append_decision(log, tampered)
    log.close()
    result = replay("old-engine", database, store, str(record))
    assert not result.identical
    assert result.logged.differences(result.from_facts) == [("phase", "regress", "standstill")]
    assert ("change", -0.3, -0.4) in result.fact_differences
    shown = CliRunner().invoke(
        cli.main,
        [
            "replay",
            "old-engine",
            "--record",
            str(record),
            "--database",
            database,
            "--store",
            str(store),
            "--lang",
            "en",
        ],
    )
    assert shown.exit_code == 1
    assert "phase: then regress, now standstill" in shown.output
    assert "fact change was derived as -0.3 then, -0.4 now" in shown.output
    assert "The result is NOT identical." in shown.output


def test_replay_refuses_another_record_and_an_unknown_decision(setup, tmp_path):
    folder, texts, record, store, database = setup
    make_release(folder, "Jens", None, store, texts)
    decision = check_and_log(record, store, database, "--release", "latest")
    other = tmp_path / "andet.json"
    other.write_text(json.dumps(dict(falling_record(), notes="Ny note.")), encoding="utf-8")
    result = CliRunner().invoke(
        cli.main,
        ["replay", decision, "--record", str(other), "--database", database, "--store", str(store), "--lang", "en"],
    )
    assert result.exit_code == 3 and "L004" in result.output and "not the record of decision" in result.output
    unknown = CliRunner().invoke(cli.main, ["replay", "nope", "--database", database, "--store", str(store)])
    assert unknown.exit_code == 2 and "L005" in unknown.output
    empty = CliRunner().invoke(
        cli.main, ["replay", decision, "--database", database, "--store", str(tmp_path / "elsewhere")]
    )
    assert empty.exit_code == 2 and "L001" in empty.output
