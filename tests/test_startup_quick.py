"""The quick command-line check (`bip_engine.fastpath`) says exactly what `Checker` says.

The quick way reads the record without pydantic, copies the rulebook into plain objects and builds
the report from light models; any difference would be a different answer to a caseworker, so every
format, language and executor is compared byte for byte with `Checker`, on the examples and on
generated records. A record the light reading is not sure of must be left to pydantic, and one it
accepts must read exactly as pydantic reads it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from typing import Any

import pytest
from click.testing import CliRunner

from bip_engine import Checker, cli, durable_available
from bip_engine.caseload.simulate import generate_cohort
from bip_engine.errors import RecordError
from bip_engine.fastpath import NotHere, quick_check
from bip_engine.light import Models, describe_models
from bip_engine.record import validate_record
from bip_engine.recordfile import light_record
from tests.conftest import ROOT

ENGINES = ["python"] + (["durable"] if durable_available() else [])
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
DAYS = [dt.date(2026, 11, 22), dt.date(2025, 6, 1)]


@pytest.fixture(scope="module")
def checkers():
    return {engine: Checker(engine=engine) for engine in ENGINES}


def same_as_checker(checker, path, day, lang, fmt, engine):
    quick = quick_check(str(path), day, lang, fmt, engine=engine)
    full = checker.check_file(str(path), day, lang)
    assert quick.text == checker.render(full, fmt)
    assert quick.severities == [flag.severity for flag in full.flags]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_examples_read_the_same_both_ways(checkers, engine, fmt, lang):
    for path in EXAMPLES:
        for day in DAYS:
            same_as_checker(checkers[engine], path, day, lang, fmt, engine)


def test_generated_records_read_the_same_both_ways(checkers, tmp_path):
    for index, data in enumerate(generate_cohort(40, seed=5)):
        path = tmp_path / f"r{index}.json"
        path.write_text(json.dumps(data, default=str), encoding="utf-8")
        engine = ENGINES[index % len(ENGINES)]
        same_as_checker(
            checkers[engine], path, DAYS[index % 2], ("da", "en")[index % 2], ("json", "text")[index % 2], engine
        )


def test_the_light_models_cover_every_report_model():
    from bip_engine import report

    described = describe_models()
    assert {"Report", "PhaseMargin", "FactChange", "Trajectory", "LevelPoint"} <= set(described)
    models = Models(described)
    for name, fields in described.items():
        assert list(getattr(report, name).model_fields) == [field[0] for field in fields]
        assert hasattr(models, name)
    # a float field turns an int into a float, as pydantic does, also after model_copy
    point = models.LevelPoint(date="2026-01-01", level=3)
    assert point.model_dump() == report.LevelPoint(date="2026-01-01", level=3).model_dump(mode="json")
    assert point.model_copy(update={"level": 4}).model_dump() == {"date": "2026-01-01", "level": 4.0}
    with pytest.raises(TypeError):
        models.LevelPoint(date="2026-01-01", level=3, extra=1)


# --- the light reading of a record ----------------------------------------------------------------

VALID = {
    "id": "A-1",
    "measurements": [{"date": dt.date(2026, 1, 5), "scores": {"work_confidence": 3, "health": 2}}],
    "interventions": [{"type": "mentor", "start": "2026-01-10", "end": None, "status": "ongoing"}],
    "caseworkers": [{"id": "cw1", "from": dt.date(2025, 12, 1)}],
    "notes": "",
}
ODD_VALUES = [
    None,
    True,
    False,
    0,
    6,
    -1,
    3.0,
    2.5,
    "3",
    "",
    " ",
    "x",
    "2026-02-30",
    "2026-1-5",
    "2026-01-05T00:00",
    dt.datetime(2026, 1, 5),
    dt.date(2026, 1, 5),
    [],
    {},
    ["a"],
    {"a": 1},
    "planned",
    "mentor",
    10**30,
]


def mutations(seed: int, count: int):
    """Copies of VALID with one value replaced, one key added or removed, somewhere in it."""
    rng = random.Random(seed)
    for _ in range(count):
        data = copy.deepcopy(VALID)
        places = [
            data,
            data["measurements"][0],
            data["measurements"][0]["scores"],
            data["interventions"][0],
            data["caseworkers"][0],
        ]
        target = rng.choice(places)
        action = rng.random()
        if action < 0.7 and target:
            target[rng.choice(list(target))] = rng.choice(ODD_VALUES)
        elif action < 0.85 and target:
            del target[rng.choice(list(target))]
        else:
            target[rng.choice(["extra", "from_", "date", "status", "notes", "id"])] = rng.choice(ODD_VALUES)
        yield data


def test_a_record_the_light_reading_accepts_reads_as_pydantic_reads_it():
    accepted = refused = 0
    for data in mutations(seed=11, count=3000):
        light = light_record(data)
        try:
            record = validate_record(data)
        except RecordError:
            assert light is None, data  # never accepts what pydantic refuses
            refused += 1
            continue
        if light is None:
            continue  # valid, but left to pydantic: slower, never wrong
        accepted += 1
        assert light.id == record.id and light.notes == record.notes
        assert [(m.date, m.scores) for m in light.measurements] == [(m.date, m.scores) for m in record.measurements]
        assert [(i.type, i.start, i.end, i.status) for i in light.interventions] == [
            (i.type, i.start, i.end, i.status) for i in record.interventions
        ]
        assert [(c.id, c.from_) for c in light.caseworkers] == [(c.id, c.from_) for c in record.caseworkers]
    assert accepted > 100 and refused > 100  # both sides were really tried


def test_a_rejected_record_gets_the_located_messages(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: A-1\nmeasurements:\n  - date: 2026-01-05\n    scores: {work_confidence: 7}\n", encoding="utf-8"
    )
    with pytest.raises(NotHere) as caught:
        quick_check(str(path), DAYS[0], "da", "text")
    assert caught.value.name == str(path) and caught.value.data["id"] == "A-1"
    result = CliRunner().invoke(cli.main, ["check", str(path), "--engine", "python"])
    assert result.exit_code == 3 and "R002" in result.output and ":4:" in result.output


def test_a_record_from_standard_input_is_read_once_even_when_left_to_pydantic():
    bad = "id: A-1\nmeasurements:\n  - date: 2026-01-05\n    scores: {work_confidence: 7}\n"
    result = CliRunner().invoke(cli.main, ["check", "-", "--engine", "python"], input=bad)
    assert result.exit_code == 3, result.output
    assert "<stdin>" in result.output and "R001" not in result.output  # not "empty": the data read was kept
    good = (ROOT / "examples" / "stilstand.yaml").read_text(encoding="utf-8")
    quick = CliRunner().invoke(cli.main, ["check", "-", "--engine", "python", "--as-of", "2026-11-22"], input=good)
    full = CliRunner().invoke(
        cli.main, ["check", str(ROOT / "examples" / "stilstand.yaml"), "--engine", "python", "--as-of", "2026-11-22"]
    )
    assert quick.exit_code == full.exit_code == 0 and quick.output == full.output


def test_a_value_class_behaves_as_the_frozen_dataclass_it_replaces():
    import dataclasses
    import pickle

    from bip_engine.valueclass import value_class

    class Plain:
        fact: str
        value: Any
        positive: bool = True

    made = value_class(type("Compare", (), {"__annotations__": dict(Plain.__annotations__), "positive": True}))
    reference = dataclasses.dataclass(frozen=True)(
        type("Compare", (), {"__annotations__": dict(Plain.__annotations__), "positive": True})
    )
    for args, kwargs in [
        (("level", 2.5), {}),
        (("level",), {"value": [1]}),
        ((), {"fact": "x", "value": None, "positive": False}),
    ]:
        one, other = made(*args, **kwargs), reference(*args, **kwargs)
        assert repr(one) == repr(other)
        assert (one == made(*args, **kwargs)) and one != other and one.__match_args__ == other.__match_args__
        if isinstance(one.value, list):
            continue
        assert hash(one) == hash(other)
    from bip_engine.expr import AllOf, Compare

    condition = AllOf((Compare("level", "<=", 1.8), Compare("change", ">", 0)))
    assert pickle.loads(pickle.dumps(condition)) == condition and hash(condition) == hash(AllOf(condition.terms))
    item = made("level", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.value = 2
    for bad in [(), ("a", 1, True, 4)]:
        with pytest.raises(TypeError):
            made(*bad)
    with pytest.raises(TypeError):
        made("a", 1, other=2)
