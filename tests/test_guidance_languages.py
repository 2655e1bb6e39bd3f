"""Guidance written in one language only: allowed, rendered from the other language, and said so.

A municipality's policy staff may write a local flag text in Danish only. Validation warns (T005)
and says what reports in the other language show; the report itself states it in its warnings, so
a reader of an English report knows why a text is Danish, or why it is the bundled default.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2027-01-14"  # examples/lokal's flag no_meeting_6w is raised on this day


@pytest.fixture
def lokal(tmp_path):
    """A copy of examples/lokal whose local flag text exists in Danish only."""
    shutil.copytree(ROOT / "examples" / "lokal", tmp_path / "lokal")
    shutil.rmtree(tmp_path / "lokal" / "vejledning" / "en")
    return tmp_path / "lokal"


def bip(*args):
    return subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", *map(str, args)], capture_output=True, text=True, check=False
    )


def check(lokal, lang, *extra, as_of=AS_OF):
    done = bip(
        "check", lokal / "borger.yaml", "--rules", lokal / "regler", "--guidance", lokal / "vejledning",
        "--as-of", as_of, "--lang", lang, *extra,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_danish_only_local_guidance_validates_with_the_fallback_stated(lokal):
    done = bip("rules", "validate", lokal / "regler", "--guidance", lokal / "vejledning", "--lang", "en")
    assert done.returncode == 0, done.stdout + done.stderr
    danish = lokal / "vejledning" / "da" / "flags" / "no_meeting_6w.j2"
    assert f"{danish}: T005" in done.stdout
    assert "reports in en show the da text" in done.stdout


def test_an_english_report_shows_the_danish_text_and_says_so(lokal):
    report = json.loads(check(lokal, "en", "--format", "json"))
    flag = next(item for item in report["flags"] if item["id"] == "no_meeting_6w")
    danish_title = "Ingen samtale i seks uger"
    assert flag["title"] == danish_title
    assert "Den seneste samtale med borgeren blev holdt" in flag["message"]
    stated = [warning for warning in report["warnings"] if "flags/no_meeting_6w.j2" in warning]
    assert stated and "Danish" in stated[0], report["warnings"]
    text = check(lokal, "en")
    assert danish_title in text and stated[0].split()[0] in text


def test_the_danish_report_states_nothing(lokal):
    report = json.loads(check(lokal, "da", "--format", "json"))
    assert not any("no_meeting_6w.j2" in warning for warning in report["warnings"]), report["warnings"]


def test_a_local_danish_text_over_a_bundled_flag_keeps_the_bundled_english_and_says_so(lokal):
    """The local layer gives the bundled flag measurement_overdue a Danish text only (raised by mid-2027)."""
    english = json.loads(check(lokal, "en", "--format", "json", as_of="2027-06-01"))
    bundled = next(item for item in english["flags"] if item["id"] == "measurement_overdue")
    local = lokal / "vejledning" / "da" / "flags" / "measurement_overdue.j2"
    local.write_text("{% block title %}Lokal titel{% endblock %}{% block message %}Lokal tekst.{% endblock %}\n")
    again = json.loads(check(lokal, "en", "--format", "json", as_of="2027-06-01"))
    flag = next(item for item in again["flags"] if item["id"] == "measurement_overdue")
    assert flag["title"] == bundled["title"]  # the bundled English text, not the Danish local one
    stated = [warning for warning in again["warnings"] if "flags/measurement_overdue.j2" in warning]
    assert stated and "Danish" in stated[0], again["warnings"]
    danish = json.loads(check(lokal, "da", "--format", "json", as_of="2027-06-01"))
    assert next(item for item in danish["flags"] if item["id"] == "measurement_overdue")["title"] == "Lokal titel"
    assert not any("measurement_overdue.j2" in warning for warning in danish["warnings"])
