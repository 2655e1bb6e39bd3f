"""The log's days are the days of "today" (`clock.zone()`), not UTC days: a purge "before" a date and
an agreement "from ... to" a date begin at that date's midnight where the caseworkers are.

Run with a zone 14 hours ahead of UTC, so that the two kinds of day differ at every hour of the run."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bip_engine import Checker, clock
from bip_engine.log.agreement import agreement
from bip_engine.log.assessments import append_assessment
from bip_engine.log.decisions import append_decision, decision_entry, decisions_for
from bip_engine.log.retention import purge
from bip_engine.log.store import Store
from bip_engine.log.tokens import Principal
from tests.conftest import ROOT

DAY = dt.date(2026, 3, 10)
EARLY_ON_DAY = dt.datetime(2026, 3, 9, 11, 0, tzinfo=dt.UTC)  # 01:00 on DAY at UTC+14, still the 9th in UTC


@pytest.fixture
def store(tmp_path, log_keys, monkeypatch):
    monkeypatch.setenv("BIP_TIMEZONE", "Etc/GMT-14")  # UTC+14
    opened = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    yield opened
    opened.close()


def _logged_at(store: Store, when: dt.datetime, purpose: str) -> str:
    checker = Checker(engine="python")
    record, _, _ = checker.read_record(ROOT / "examples" / "stilstand.yaml")
    entry = decision_entry(checker.check(record, DAY), record, Principal("anna", "caseworker"), purpose, store)
    append_decision(store, dataclasses.replace(entry, time=when))
    return entry.decision_id


def test_day_start_is_midnight_in_the_configured_zone(monkeypatch):
    monkeypatch.setenv("BIP_TIMEZONE", "Etc/GMT-14")
    assert clock.day_start(DAY) == dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)
    monkeypatch.setenv("BIP_TIMEZONE", "Europe/Copenhagen")
    assert clock.day_start(dt.date(2026, 7, 1)) == dt.datetime(2026, 6, 30, 22, 0, tzinfo=dt.UTC)  # summer time


def test_a_purge_before_a_day_keeps_what_was_made_on_that_day(store):
    _logged_at(store, EARLY_ON_DAY - dt.timedelta(hours=2), "the day before")  # 23:00 on the 9th locally
    _logged_at(store, EARLY_ON_DAY, "on the day")
    dry = purge(store, DAY, "ops", dry_run=True, force=True)
    assert dry.decisions == 1
    purge(store, DAY, "ops", force=True)
    checker = Checker(engine="python")
    record, _, _ = checker.read_record(ROOT / "examples" / "stilstand.yaml")
    assert [item["purpose"] for item in decisions_for(store, record.id)] == ["on the day"]


def test_agreement_from_a_day_counts_what_was_logged_early_on_that_day(store):
    decision = _logged_at(store, EARLY_ON_DAY, "on the day")
    append_assessment(store, decision, Principal("anna", "caseworker"), True, None, None, {})
    assert agreement(store, DAY, DAY).total.overall.assessed == 1
    assert agreement(store, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1)).total.overall.assessed == 0
