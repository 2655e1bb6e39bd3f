"""What makes a check cheap enough to serve, and what it must not change.

- `report_json` (pydantic's serializer) writes the same characters as `json.dumps` of the dumped
  report: for a cohort's reports, and for every number a report can hold (rounded to at most four
  decimals; the report never holds a number where the two would differ). An infinite or NaN value
  is `null`, which keeps the JSON valid.
- Margin texts kept by `Guidance.render(..., memo=True)` are the texts a render gives, and the
  memo stays within its size.
- Cached token lookups: a revoked token is refused within `TOKEN_CACHE_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bip_engine import render
from bip_engine.caseload.simulate import generate_cohort
from bip_engine.check import report_json
from bip_engine.log.store import Store
from bip_engine.log.tokens import revoke_token
from bip_engine.margins import phase_margins
from bip_engine.models import DataModel
from bip_engine.service.token_cache import TOKEN_CACHE_SECONDS
from tests.conftest import record


def test_reports_of_a_cohort_are_the_same_bytes_as_with_json_dumps(python_checker):
    for index, citizen in enumerate(generate_cohort(60, seed=11)):
        report = python_checker.check(citizen, as_of=dt.date(2026, 11, 22), lang=("da", "en")[index % 2])
        data = report.model_dump(mode="json")
        expected = json.dumps(data, ensure_ascii=False, indent=2)
        assert report_json(report) == expected + "\n"
        assert not [number for number in _numbers(data) if 0 < abs(number) < 1e-4]


def _numbers(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


@dataclass(kw_only=True)
class _Numbers(DataModel):
    values: list[float]
    anything: dict[str, Any]


ROUNDED = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18).map(lambda x: round(x, 4))


@settings(max_examples=500, deadline=None)
@given(st.lists(ROUNDED | st.just(-0.0), max_size=20))
def test_every_number_a_report_holds_is_written_as_json_dumps_writes_it(numbers):
    model = _Numbers(values=numbers, anything={"level": numbers[:3], "nested": {"x": numbers[-1:]}})
    expected = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2)
    assert model.model_dump_json(indent=2) == expected


def test_an_infinite_or_undefined_number_is_written_as_null():
    model = _Numbers(values=[math.inf, -math.inf, math.nan], anything={"level": math.inf})
    assert json.loads(model.model_dump_json(indent=2)) == {"values": [None, None, None], "anything": {"level": None}}


def test_numbers_below_one_ten_thousandth_are_where_the_two_writers_differ():
    # Why the report rounds to four decimals at most: the one range where pydantic and json differ.
    model = _Numbers(values=[0.00001], anything={})
    assert model.model_dump_json() != json.dumps(model.model_dump(mode="json"), separators=(",", ":"))


def test_memoised_margin_texts_are_the_rendered_texts(python_checker):
    for lang in ("da", "en"):
        guidance = python_checker.guidance(lang)
        fresh = render.Guidance(lang)
        labels = {key: phase.label.get(lang) for key, phase in python_checker.rulebook.phases.items()}
        indicators = {item.id: item.label.get(lang) for item in python_checker.rulebook.catalogue.indicators.values()}
        seen = 0
        for citizen in generate_cohort(40, seed=5):
            evaluation = python_checker.evaluate(citizen, dt.date(2026, 11, 22))
            for margin in phase_margins(evaluation.rulebook, evaluation.facts, labels):
                context = {
                    "margin": margin.model_dump(mode="json"),
                    "labels": labels,
                    "indicators": indicators,
                    "current": evaluation.phase,
                }
                expected = fresh.render("margin.txt.j2", context)
                assert guidance.render("margin.txt.j2", context, memo=True) == expected
                assert guidance.render("margin.txt.j2", context, memo=True) == expected  # now from the memo
                seen += 1
        assert seen > 40


def test_the_memo_keeps_at_most_memo_size_texts(monkeypatch):
    monkeypatch.setattr(render, "MEMO_SIZE", 5)
    guidance = render.Guidance("da")
    labels = {"standstill": "Stilstand"}
    for number in range(20):
        margin = {
            "rule": "r",
            "phase": "standstill",
            "matched": True,
            "position": "decides",
            "result_phase": None,
            "result_label": None,
            "result_rule": None,
            "text": "",
            "changes": [
                {
                    "fact": "level",
                    "operator": ">=",
                    "threshold": number,
                    "value": 1.5,
                    "target": number,
                    "distance": 1.0,
                    "type": "number",
                }
            ],
        }
        context = {"margin": margin, "labels": labels, "indicators": {}, "current": "standstill"}
        text = guidance.render("margin.txt.j2", context, memo=True)
        assert str(number) in text
    assert len(guidance._memo) == 5


@pytest.mark.service
def test_a_revoked_token_is_refused_within_the_cache_window(bip_server):
    server = bip_server("--engine", "python")
    body = json.dumps(record([3, 3]))
    headers = server.headers("caseworker", **{"Content-Type": "application/json"})

    def status() -> int:
        return httpx.post(
            server.base_url + "/v1/check", params={"purpose": "x"}, content=body, headers=headers
        ).status_code

    assert status() == 200  # the lookup is cached now
    store = Store.open(server.database)
    try:
        assert revoke_token(store, "caseworker")
    finally:
        store.close()
    revoked = time.monotonic()
    while status() == 200:
        assert time.monotonic() - revoked < TOKEN_CACHE_SECONDS + 2, "the revoked token was still accepted"
        time.sleep(0.2)
    assert status() == 401
