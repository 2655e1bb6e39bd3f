"""An unknown time zone in BIP_TIMEZONE (or `bip serve --timezone`) is a usage error naming the zone, not a crash.

"Today" is the date in the configured zone; a zone name the system's time-zone data does not know
(or one that is not a zone name at all) is the user's to correct.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bip_engine import clock
from bip_engine.errors import KeyedError
from tests.conftest import ROOT

BAD_ZONES = ["Mars/Olympus", "../etc/passwd", "Europe/København"]


@pytest.mark.parametrize("name", BAD_ZONES)
def test_an_unknown_zone_is_a_keyed_error_naming_it(monkeypatch, name):
    monkeypatch.setenv("BIP_TIMEZONE", name)
    with pytest.raises(KeyedError) as raised:
        clock.today()
    assert name in raised.value.text("en") and "BIP_TIMEZONE" in raised.value.text("en")
    assert name in raised.value.text("da") and "tidszone" in raised.value.text("da")


def _bip(*args: str, zone: str, cache: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BIP_TIMEZONE": zone, **({"BIP_CACHE_DIR": cache} if cache is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_a_check_without_a_date_in_an_unknown_zone_is_a_usage_error():
    result = _bip("check", "examples/stilstand.yaml", "--engine", "python", zone="Mars/Olympus")
    assert result.returncode == 2, result.stderr
    assert "Mars/Olympus" in result.stderr and "tidszone" in result.stderr
    assert "hændelse" not in result.stderr and "Traceback" not in result.stderr


def test_a_check_of_a_given_date_needs_no_zone(tmp_path):
    args = ("check", "examples/stilstand.yaml", "--as-of", "2026-11-22", "--engine", "python")
    for _ in range(2):  # the rulebook made and cached, then read from the cache
        result = _bip(*args, zone="Mars/Olympus", cache=str(tmp_path))
        assert result.returncode == 0 and "Stilstand" in result.stdout, result.stderr


def test_serve_refuses_an_unknown_zone_before_it_starts(tmp_path):
    database = f"sqlite:///{tmp_path / 'log.sqlite'}"
    result = _bip("serve", "--port", "0", "--database", database, "--timezone", "Mars/Olympus", zone="")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Mars/Olympus" in result.stderr and "Worker failed to boot" not in result.stderr
