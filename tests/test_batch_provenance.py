"""Every batch output names what it was computed with: rulebook, release, dates, software version.

The expectations are read from the rulebook the batch used (`Checker().rulebook`) and from the
installed package's metadata, not written out, so a new rule or version changes them with it.
"""

import csv
import io
import json
from importlib.metadata import version

from click.testing import CliRunner

from bip_engine import Checker, cli
from bip_engine.caseload.simulate import generate_cohort, write_jsonl

AS_OF = "2026-11-22"
RULES_AS_OF = "2026-06-30"


def caseload(tmp_path, n=12):
    path = tmp_path / "cohort.jsonl"
    with path.open("w", encoding="utf-8") as stream:
        write_jsonl(generate_cohort(n, seed=3), stream)
    return path


def run_batch(*args):
    result = CliRunner().invoke(cli.main, ["batch", *args, "--as-of", AS_OF, "--engine", "python"])
    assert result.exit_code == 0, result.output
    return result.stdout


def expected_book():
    book = Checker().rulebook
    return {"name": book.name, "version": book.version, "hash": book.content_hash, "release": None}


def test_jsonl_ends_with_a_trailer_naming_rulebook_dates_and_version(tmp_path):
    lines = run_batch(str(caseload(tmp_path)), "--format", "jsonl", "--rules-as-of", RULES_AS_OF).splitlines()
    rows, last = [json.loads(line) for line in lines[:-1]], json.loads(lines[-1])
    assert len(rows) == 12 and all("citizen_id" in row for row in rows)
    summary = last["summary"]
    assert summary["read"] == summary["evaluated"] == len(rows) and summary["complete"] is True
    assert summary["rulebook"] == expected_book()
    assert (summary["as_of"], summary["rules_as_of"]) == (AS_OF, RULES_AS_OF)
    assert summary["software"] == {"name": "bip-engine", "version": version("bip-engine")}


def test_csv_rows_carry_the_provenance_in_their_own_columns(tmp_path):
    table = list(csv.DictReader(io.StringIO(run_batch(str(caseload(tmp_path)), "--format", "csv"))))
    book = expected_book()
    assert len(table) == 12
    for row in table:
        assert (row["rulebook"], row["rulebook_version"], row["rulebook_hash"], row["release"]) == (
            book["name"],
            book["version"],
            book["hash"],
            "",
        )
        assert (row["as_of"], row["rules_as_of"], row["bip_version"]) == (AS_OF, AS_OF, version("bip-engine"))


def test_json_summary_and_text_table_name_the_rulebook(tmp_path):
    path = str(caseload(tmp_path))
    summary = json.loads(run_batch(path, "--format", "json"))["summary"]
    assert summary["rulebook"] == expected_book() and summary["as_of"] == AS_OF
    assert summary["software"]["version"] == version("bip-engine")
    text = run_batch(path, "--lang", "en", "--rules-as-of", RULES_AS_OF)
    book = expected_book()
    assert f"Rulebook: {book['name']} {book['version']}\nHash: {book['hash']}\n" in text
    assert f"Check date: {AS_OF}; rules in force on: {RULES_AS_OF}" in text
    assert f"bip-engine {version('bip-engine')}" in text
