"""Shared fixtures: the bundled rulebook, a checker per executor, and a record builder."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from bip_engine import Checker, durable_available, load_rulebook
from tests.postgres import log_keys, postgres_url  # noqa: F401  (a real PostgreSQL server, for the decision log)
from tests.service_server import bip_server, service  # noqa: F401  (a real `bip serve`)

pytest_plugins = ["bip_engine.authoring.gherkin_steps"]

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 22)
EXECUTORS = ["python"] + (["durable"] if durable_available() else [])


@pytest.fixture(scope="session")
def rulebook():
    """The bundled default rulebook."""
    return load_rulebook(ROOT / "rules")


@pytest.fixture(scope="session", params=EXECUTORS)
def checker(request, rulebook):
    """A checker on the default rulebook, once per available executor."""
    return Checker(rulebook, engine=request.param)


@pytest.fixture
def rules_copy(tmp_path):
    """A writable copy of the bundled rulebook, for tests that break or change it."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def replace_in(path, old, new):
    """Replace the first `old` in a file by `new`; fail when `old` is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="session")
def python_checker(rulebook):
    """A checker that uses the pure-Python executor."""
    return Checker(rulebook, engine="python")


def scores(level: int, **overrides) -> dict:
    """Nine indicator scores, all at `level` unless overridden."""
    names = [
        "health_coping",
        "opportunity_knowledge",
        "work_confidence",
        "cooperation",
        "wage_realism",
        "job_search",
        "caseworker_belief",
        "goal_directed",
        "competence_realism",
    ]
    values = {name: level for name in names}
    values.update(overrides)
    return values


def months_before(months: float, as_of: dt.date = AS_OF) -> str:
    """The ISO date about `months` months before `as_of` (30.44 days a month)."""
    return (as_of - dt.timedelta(days=round(months * 30.4375))).isoformat()


def record(levels=(), interventions=(), caseworkers=(), notes=None, spacing=3.0, **fields) -> dict:
    """A record with one measurement per level (the last one month before AS_OF), oldest first."""
    measurements = []
    for index, level in enumerate(levels):
        age = 1 + spacing * (len(levels) - 1 - index)
        entry = level if isinstance(level, dict) else scores(level)
        measurements.append({"date": months_before(age), "scores": entry})
    data = {
        "id": fields.pop("id", "T-1"),
        "measurements": measurements,
        "interventions": list(interventions),
        "caseworkers": list(caseworkers),
    }
    if notes is not None:
        data["notes"] = notes
    data.update(fields)
    return data


def pytest_addoption(parser):
    """`--update-golden`: write the golden reports of tests/test_golden.py instead of comparing with them."""
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/golden/ from the current output of `bip check`"
    )


#: The shared fixtures that start something, and the marker a test using them must carry.
MARKED_FIXTURES = {"service": "service", "bip_server": "service", "postgres_url": "postgres"}


def unmarked(items) -> list[str]:
    """The tests that use a fixture of MARKED_FIXTURES without its marker, as `nodeid (marker)`."""
    return [
        f"{item.nodeid} ({marker})"
        for item in items
        for fixture, marker in MARKED_FIXTURES.items()
        if fixture in item.fixturenames and item.get_closest_marker(marker) is None
    ]


def pytest_collection_modifyitems(config, items):
    """Refuse to run when a test starts a server or PostgreSQL without saying so by its marker."""
    missing = unmarked(items)
    if missing:
        raise pytest.UsageError("mark these tests (pytestmark or a decorator): " + ", ".join(missing))
