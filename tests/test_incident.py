"""An internal error (a bug, not bad input) ends `bip` with its own exit code and an incident id; the
traceback goes to an incident file the user can send, never to the terminal."""

from __future__ import annotations

import re
import subprocess
import sys

from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import ROOT

INCIDENT_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")


def broken_schema(*args, **kwargs):
    """A stand-in for a library function, with a bug in it."""
    raise RuntimeError("planted internal error")


def incident_files(folder):
    return sorted(folder.glob("*.txt"))


def test_an_internal_error_gives_its_own_code_an_incident_id_and_no_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("BIP_INCIDENT_DIR", str(tmp_path))
    monkeypatch.setattr("bip_engine.schemas.input_schema", broken_schema)
    result = CliRunner().invoke(cli.main, ["schema", "input"])
    assert result.exit_code == cli.EXIT_INTERNAL
    assert cli.EXIT_INTERNAL not in (0, cli.EXIT_FLAGGED, cli.EXIT_USAGE, cli.EXIT_REJECTED, cli.EXIT_INVALID_RULES)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "planted" not in result.output
    (incident,) = set(INCIDENT_ID.findall(result.stderr))
    (written,) = incident_files(tmp_path)
    assert written.name == f"{incident}.txt"
    assert str(written) in result.stderr
    report = written.read_text(encoding="utf-8")
    assert "Traceback" in report and "RuntimeError: planted internal error" in report
    assert "schema input" in report


def test_the_message_follows_the_language(tmp_path, monkeypatch):
    monkeypatch.setenv("BIP_INCIDENT_DIR", str(tmp_path))
    monkeypatch.setattr("bip_engine.check.Checker.render", broken_schema)
    example = str(ROOT / "examples" / "stilstand.yaml")
    danish = CliRunner().invoke(cli.main, ["check", example, "--as-of", "2026-11-22"])
    english = CliRunner().invoke(cli.main, ["check", example, "--as-of", "2026-11-22", "--lang", "en"])
    assert danish.exit_code == english.exit_code == cli.EXIT_INTERNAL, danish.output + english.output
    assert "Intern fejl" in danish.stderr and "Internal error" in english.stderr
    assert len(incident_files(tmp_path)) == 2


def test_an_unwritable_incident_folder_falls_back_to_the_temporary_folder(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("BIP_INCIDENT_DIR", str(blocker / "incidents"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr("bip_engine.schemas.input_schema", broken_schema)
    result = CliRunner().invoke(cli.main, ["schema", "input"])
    assert result.exit_code == cli.EXIT_INTERNAL
    (incident,) = set(INCIDENT_ID.findall(result.stderr))
    assert (tmp_path / "tmp" / "bip-incidents" / f"{incident}.txt").is_file()


def test_when_no_incident_file_can_be_written_the_id_is_still_printed(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr("bip_engine.incidents.incident_folders", lambda: [blocker / "one", blocker / "two"])
    monkeypatch.setattr("bip_engine.schemas.input_schema", broken_schema)
    result = CliRunner().invoke(cli.main, ["schema", "input"])
    assert result.exit_code == cli.EXIT_INTERNAL
    assert "Traceback" not in result.output and "kunne ikke gemmes" in result.stderr
    assert len(INCIDENT_ID.findall(result.stderr)) == 1


def test_a_real_process_prints_no_traceback(tmp_path):
    code = (
        "import bip_engine.schemas as schemas\n"
        "def broken(): raise KeyError('planted')\n"
        "schemas.input_schema = broken\n"
        "from bip_engine.cli import main\n"
        "main(['schema', 'input'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={"BIP_INCIDENT_DIR": str(tmp_path), "PATH": "", "HOME": str(tmp_path)},
    )
    assert result.returncode == cli.EXIT_INTERNAL, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    (incident,) = set(INCIDENT_ID.findall(result.stderr))
    assert "KeyError: 'planted'" in (tmp_path / f"{incident}.txt").read_text(encoding="utf-8")
