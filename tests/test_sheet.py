"""Thresholds in a spreadsheet: `bip rules sheet export` / `import` are lossless, write only what
changed, and point every problem at the sheet's cell."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bip_engine import cli
from bip_engine.authoring.sheet import PARAMETERS_SHEET, PHASES_SHEET, SheetError, export_sheet, import_sheet
from bip_engine.rulebook import load_rulebook

ROOT = Path(__file__).resolve().parent.parent

# Two dated values, comments, a quoted description and Windows line endings: all must survive.
PARAMETERS = (
    "# Local thresholds.\r\n"
    "steady_fall_threshold:\r\n"
    "  description: {da: 'Fald over to perioder', en: Fall over two intervals}  # kept\r\n"
    "  unit: point\r\n"
    "  source: danneris_phases\r\n"
    "  values:\r\n"
    "    - value: -0.6   # the research's default\r\n"
    "      valid_to: 2026-06-30\r\n"
    "    - {value: -0.50, valid_from: 2026-07-01}\r\n"
)


@pytest.fixture
def rules(tmp_path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    (folder / "parameters.yaml").write_bytes(PARAMETERS.encode("utf-8"))
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bip_engine.cli", *args], capture_output=True, text=True, timeout=120)


def test_a_round_trip_changes_no_byte(rules, tmp_path):
    before = snapshot(rules)
    out = tmp_path / "params.xlsx"
    done = run("rules", "sheet", "export", str(rules), "--out", str(out))
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    values = [row[2] for row in book[PARAMETERS_SHEET].iter_rows(min_row=2, values_only=True)]
    assert values == [-0.6, -0.5]
    rulebook = load_rulebook(rules)
    written = [rule for rule in rulebook.all_rules() if rule.stage == "phase" and any(ch.isdigit() for ch in rule.when)]
    assert {row[0] for row in book[PHASES_SHEET].iter_rows(min_row=2, values_only=True)} == {r.id for r in written}
    done = run("rules", "sheet", "import", str(out), str(rules))
    assert done.returncode == 0, done.stderr
    assert "uændret" in done.stdout
    assert snapshot(rules) == before


def test_an_edited_value_is_written_in_place_and_nothing_else(rules, tmp_path):
    out = tmp_path / "params.xlsx"
    export_sheet(rules, out)
    book = load_workbook(out)
    book[PARAMETERS_SHEET]["C3"] = -0.55  # the value from 2026-07-01
    phases = book[PHASES_SHEET]
    row = next(r for r in phases.iter_rows(min_row=2) if r[0].value == "regress_fall")
    row[4].value = -0.3
    book.save(out)
    before = {name: data.decode("utf-8") for name, data in snapshot(rules).items()}
    changes = import_sheet(out, rules)
    assert [(slot.key, value) for slot, value in changes] == [
        (("steady_fall_threshold", 2), -0.55),
        (("regress_fall", 1), -0.3),
    ]
    after = {name: data.decode("utf-8") for name, data in snapshot(rules).items()}
    assert after["parameters.yaml"] == before["parameters.yaml"].replace("value: -0.50,", "value: -0.55,")
    assert after["phases.yaml"] == before["phases.yaml"].replace("when: change <= -0.4\n", "when: change <= -0.3\n")
    unchanged = {name for name in before if name not in ("parameters.yaml", "phases.yaml")}
    assert all(after[name] == before[name] for name in unchanged)
    import datetime as dt

    rulebook = load_rulebook(rules).at(dt.date(2026, 8, 1))
    assert dict(next(r for r in rulebook.all_rules() if r.id == "regress_steady_fall").parameters) == {
        "steady_fall_threshold": -0.55
    }


@pytest.mark.parametrize(("lang", "words"), [("da", "værdien skal være et tal"), ("en", "the value must be a number")])
def test_a_bad_value_points_at_its_cell_and_writes_nothing(rules, tmp_path, lang, words):
    out = tmp_path / "params.xlsx"
    export_sheet(rules, out, lang)
    book = load_workbook(out)
    book[PARAMETERS_SHEET]["C2"] = "minus en halv"
    book[PARAMETERS_SHEET]["D3"] = "2026-08-01"  # a date changed: not done in the sheet
    book.save(out)
    before = snapshot(rules)
    done = run("rules", "sheet", "import", str(out), str(rules), "--lang", lang)
    assert done.returncode == cli.EXIT_INVALID_SHEET == SheetError.exit_code
    heading = {"da": "Regnearket kan ikke bruges:", "en": "The spreadsheet cannot be used:"}[lang]
    assert done.stderr.startswith(heading)
    assert f"{out}:Parametre!C2: X004 {words}" in done.stderr
    assert f"{out}:Parametre!D3: X005" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(rules) == before


def test_unknown_rows_missing_sheets_and_non_workbooks(rules, tmp_path):
    out = tmp_path / "params.xlsx"
    export_sheet(rules, out)
    book = load_workbook(out)
    book[PARAMETERS_SHEET]["B2"] = 7
    del book[PHASES_SHEET]
    book.save(out)
    with pytest.raises(SheetError) as caught:
        import_sheet(out, rules)
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("X003", f"{out}:Parametre!A2"),
        ("X002", str(out)),
    ]
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(SheetError) as caught:
        import_sheet(junk, rules)
    assert caught.value.problems[0].code == "X001"
