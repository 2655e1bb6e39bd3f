"""Writing batch results: a triage table for people, CSV, JSON and JSON Lines for machines.

Writers take rows (dicts) as a stream and write as they go. Each output names its provenance
(rulebook, release, dates, software version; see `batch.provenance`): `text` and `json` with the
summary, `csv` in columns at the end of every row (so the file stays a plain table a spreadsheet
or a database loads, and a row keeps its source when the rows are filtered or merged), `jsonl` in
its last line (`batch.trailer`, written by `run_batch`).
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections.abc import Callable, Iterable
from typing import IO, Any

from ..messages import text, texts

FLAG_COLUMN = 50
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("citizen_id", "phase", "confidence", "high", "medium", "low", "flags")
PROVENANCE_COLUMNS = ("rulebook", "rulebook_version", "rulebook_hash", "release", "as_of", "rules_as_of", "bip_version")


def provenance_cells(source: dict[str, Any]) -> list[Any]:
    """The provenance (from `batch.provenance`) as the values of `PROVENANCE_COLUMNS`."""
    book = source["rulebook"]
    return [
        book["name"],
        book["version"],
        book["hash"],
        book["release"],
        source["as_of"],
        source["rules_as_of"],
        source["software"]["version"],
    ]


def write_jsonl(rows: Iterable[dict], out: IO[str]) -> None:
    """One JSON object per line and citizen."""
    for row in rows:
        out.write(json.dumps({name: row[name] for name in COLUMNS}, ensure_ascii=False) + "\n")


def write_csv(rows: Iterable[dict], out: IO[str], source: dict[str, Any]) -> None:
    """CSV with a header; flag ids separated by spaces; text cells made safe for spreadsheets.

    The provenance (`source`) fills the `PROVENANCE_COLUMNS` after the row's own columns."""
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a bare \r is quoted only by this
    writer.writerow(COLUMNS + PROVENANCE_COLUMNS)
    tail = [safe_cell(value) for value in provenance_cells(source)]
    for row in rows:
        cells = [safe_cell(" ".join(row[name]) if name == "flags" else row[name]) for name in COLUMNS] + tail
        (quoted if any(isinstance(cell, str) and "\r" in cell for cell in cells) else writer).writerow(cells)


def safe_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection, as OWASP advises).

    A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote
    in front, which spreadsheets show as text. Numbers written by the engine (the flag counts) are
    not text and stay as they are; None becomes an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def write_json(rows: Iterable[dict], out: IO[str], summary: Callable[[], dict[str, Any]]) -> None:
    """`{"citizens": [...], "summary": {...}}`, written as the rows come; `summary()` is called last."""
    out.write('{\n  "citizens": [')
    for index, row in enumerate(rows):
        out.write(
            ("," if index else "") + "\n    " + json.dumps({name: row[name] for name in COLUMNS}, ensure_ascii=False)
        )
    out.write('\n  ],\n  "summary": ' + json.dumps(summary(), ensure_ascii=False, indent=2).replace("\n", "\n  "))
    out.write("\n}\n")


def write_text(
    rows: Iterable[dict], out: IO[str], summary: Callable[[], dict[str, Any]], lang: str, source: dict[str, Any]
) -> None:
    """A readable triage table (80 columns) followed by the summary and the provenance (`source`)."""
    words = texts("batch.word", lang)
    line = "{:<16} {:<12} {:<9} {:>2} {:>2} {:>2}  {}"
    out.write(
        line.format(words["citizen_id"], words["phase"], words["confidence"], "H", "M", "L", words["flags"]) + "\n"
    )
    out.write("-" * 78 + "\n")
    count = 0
    for row in rows:
        count += 1
        phase = words.get(row["phase"] or "none", row["phase"])
        confidence = words.get(row["confidence"], "") if row["confidence"] else ""
        flags = textwrap.wrap(", ".join(row["flags"]), width=78 - FLAG_COLUMN) or [""]
        out.write(
            line.format(
                row["citizen_id"][:16], phase[:12], confidence, row["high"], row["medium"], row["low"], flags[0]
            ).rstrip()
            + "\n"
        )
        for more in flags[1:]:
            out.write(" " * FLAG_COLUMN + more + "\n")
    if not count:
        out.write(words["no_rows"] + "\n")
    totals = summary()
    read = text("batch.summary", lang, read=totals["read"], evaluated=totals["evaluated"], rejected=totals["rejected"])
    out.write(f"\n{words['summary']}: {read}\n")
    out.write(f"{words['phases']}:\n")
    for phase, number in totals["phases"].items():
        out.write(f"  {words.get(phase, phase):<14} {number:>7}\n")
    if totals["flags"]:
        out.write(f"{words['flag_counts']}:\n")
        for flag, number in totals["flags"].items():
            out.write(f"  {flag:<26} {number:>7}\n")
    book = source["rulebook"]
    out.write(f"{words['rulebook']}: {book['name']} {book['version']}\n{words['hash']}: {book['hash']}\n")
    if book["release"]:
        out.write(f"{words['release']}: {book['release']}\n")
    out.write(f"{words['as_of']}: {source['as_of']}; {words['rules_as_of']}: {source['rules_as_of']}\n")
    out.write(f"bip-engine {source['software']['version']}\n")
