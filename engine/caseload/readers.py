"""Streaming readers for a whole caseload: many citizen records at once, for `bip batch`.

Every reader yields, in input order, either a `RawRecord` (a record as loaded, not yet validated)
or a `ReadProblem` (something that could not be read, with its file and line, and a coded `Problem`
that can be shown in Danish or English: `ReadProblem.text(lang)`). Bad data never
raises and never stops the reading: one broken line or file costs that record only. An input
that cannot be used at all (a missing file, a file of unknown kind) raises `ValueError` when the
reader is created, before anything is read. Records are read one at a time and handed on, so
memory does not grow with the number of citizens.

Inputs (`detect_and_read` tells them apart)
-------------------------------------------
- a folder: every `*.yaml`, `*.yml` and `*.json` file directly in it (hidden files left out),
  sorted by name, one record per file;
- a JSON Lines file (`*.jsonl`, or `-` for standard input): one record per line as a JSON object;
  blank lines are skipped;
- a single `*.yaml`, `*.yml` or `*.json` file: one record;
- CSV exports from a case-management system, as below.

CSV exports
-----------
Up to three files. Which file is which is told by its header, not by its name:

    measurements (required)   citizen_id, date, indicator, score      one row per score
    interventions (optional)  citizen_id, type, start, end, status    end and status may be left out
    caseworkers (optional)    citizen_id, caseworker_id, from, team   team may be left out

- The separator is `;` or `,`, whichever the header line uses. The files are UTF-8, with or
  without a byte-order mark (BOM); bytes that are not valid UTF-8 are read as Windows-1252, as older
  Excel exports are written. Lines may end in `\\n` or `\\r\\n`. Cells may be quoted as usual in CSV.
- Header names are matched ignoring case and surrounding spaces; other columns are ignored.
- Dates are written YYYY-MM-DD. Rows of one citizen with the same date form one measurement.
- Each record gets an `interventions` and a `caseworkers` list when that file is given (empty for
  a citizen without rows there); notes are not part of the exports.
- A measurements row with only a citizen_id (date, indicator and score empty) lists a citizen
  who has no measurements yet, so that the citizen's interventions and caseworkers can be read.
- An empty score cell means "not scored" and is left out. An empty `end` or `status` is left out
  of the record.
- A score that is a whole number is read as a number. Anything else, and any number outside 1-5,
  is passed on unchanged, so that the check rejects the record and names the citizen.

Order. The rows may come in any order: a citizen's rows need not be together, and the three files
need not list the citizens in the same order. The reader sorts the rows by citizen out of core (in
a private temporary SQLite file on disk; consecutive rows of one citizen are stored together, so a
grouped export is cheap) and yields one record per citizen of the measurements file, in the order
the citizens first appear there; the record's source is the line of the citizen's first
measurements row. Within a citizen, rows keep their file order (the order of the interventions and
caseworkers lists, and of the dates of the measurements). Memory does not grow with the number of
citizens.

What cannot be read is reported with its file and line, not guessed:
- rows in interventions or caseworkers for a citizen who is not in the measurements file: one
  ReadProblem per citizen and file, at the citizen's first such row (with how many rows there are;
  `R008`);
- a row with an empty citizen_id, or that is not valid CSV, is a ReadProblem at its line (`R007`);
- a row with more cells than the header (`R007`), and a second, different score for the same
  indicator on the same date (`R009`): a ReadProblem at that line, and that citizen is not read.
A row's problem is stored with the row as its message key and arguments (JSON), so that it can
still be shown in Danish or English. Problems of rows without a citizen come first (while the files
are read), then the records and the problems of their citizens, then the rows that belong to no
citizen of the measurements file.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import operator
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, overload

from ..errors import KeyedError, Problem, problem
from ..messages import part
from ..yamlio import json_depth_problem, parse_json, parse_yaml, read_text

RECORD_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")

#: The columns of each CSV export, in the order `write_csv`-style writers use.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "measurements": ("citizen_id", "date", "indicator", "score"),
    "interventions": ("citizen_id", "type", "start", "end", "status"),
    "caseworkers": ("citizen_id", "caseworker_id", "from", "team"),
}
#: The columns a header must have to be recognised as that export.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "measurements": ("citizen_id", "date", "indicator", "score"),
    "interventions": ("citizen_id", "type", "start"),
    "caseworkers": ("citizen_id", "caseworker_id", "from"),
}
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,18}")  # longer: passed on as text, for the check to reject


@dataclass(frozen=True)
class RawRecord:
    """One citizen record as read, not yet validated; `source` is where it was read (file or file:line)."""

    source: str
    data: dict


@dataclass(frozen=True)
class ReadProblem:
    """Something that could not be read; `source` names the file, and the line where known.

    `problem` is the located `Problem`, with its code and its message key and arguments (made by
    `bip_engine.errors.problem()`), so that `text(lang)` gives it in Danish or English.
    """

    source: str
    problem: Problem

    @property
    def code(self) -> str:
        """The problem code (`F002`, `R007`, ...)."""
        return self.problem.code

    def text(self, lang: str = "en") -> str:
        """`CODE message` with the message in `lang` (da or en); the source is not repeated."""
        return f"{self.code} {self.problem.text(lang)}"

    @property
    def message(self) -> str:
        """The English text with its code, as `text("en")`."""
        return self.text("en")


def not_utf8_line(source: str, error: UnicodeDecodeError) -> ReadProblem:
    """The problem of a line (of JSON Lines) that is not UTF-8 text (`F002`)."""
    return ReadProblem(source, problem("F002.line", source, reason=error.reason, byte=error.start))


@dataclass(frozen=True)
class RawLine:
    """A JSON line read but not parsed yet, so that a worker process can parse it."""

    source: str
    text: str

    def parse(self) -> RawRecord | ReadProblem:
        """The record on the line, or the problem with it."""
        return _json_line(self.text, self.source)


ReadItem = RawRecord | ReadProblem
#: What a reader yields: with `defer_parsing`, JSON Lines come as `RawLine`s.
AnyItem = RawRecord | ReadProblem | RawLine


# --- Single files and folders -------------------------------------------------------------------


def read_file(path: str | Path) -> ReadItem:
    """Read one `.yaml`, `.yml` or `.json` record file; a problem is returned, never raised."""
    name = str(path)
    text, found = read_text(Path(path))
    data = None
    if found is None:
        if not (text or "").strip():
            return ReadProblem(name, problem("R001.file_empty", name))
        parse = parse_json if name.lower().endswith(".json") else parse_yaml
        data, found = parse(text or "", name)
    if found is not None:
        where = f"{name}:{found.line}" if found.line else name
        return ReadProblem(where, found)
    if not isinstance(data, dict):
        return ReadProblem(name, problem("R001.mapping", name))
    return RawRecord(name, data)


def read_folder(path: str | Path) -> Iterator[ReadItem]:
    """Read every `*.yaml`, `*.yml` and `*.json` file in a folder, sorted by name, one record each.

    Raises `ValueError` at once when `path` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise KeyedError("input.not_folder", path=str(path))
    return _folder_items(folder)


def _folder_items(folder: Path) -> Iterator[ReadItem]:
    # Sorting needs the names (only the names) of all files at once.
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.suffix.lower() in RECORD_SUFFIXES and not entry.name.startswith(".")
    )
    for name in names:
        entry = folder / name
        if entry.is_file():
            yield read_file(entry)


def _single_file(path: Path) -> Iterator[ReadItem]:
    yield read_file(path)


# --- JSON Lines ---------------------------------------------------------------------------------


def read_jsonl(path_or_stdin: str | Path | IO = "-", defer_parsing: bool = False) -> Iterator[AnyItem]:
    """Read JSON Lines: one record per line as a JSON object; `-` reads standard input.

    A file object (binary or text) is read as it is. Blank lines are skipped; a line that is not a
    JSON object is a `ReadProblem` at `file:LINE`. Raises `ValueError` at once for a missing file.
    With `defer_parsing`, lines come as `RawLine`s for the consumer (a worker process) to parse.
    """
    if not isinstance(path_or_stdin, (str, Path)):
        return _jsonl_items(path_or_stdin, str(getattr(path_or_stdin, "name", "<stream>")), defer_parsing)
    if str(path_or_stdin) == "-":
        return _jsonl_stdin(defer_parsing)
    path = Path(path_or_stdin)
    if not path.is_file():
        raise KeyedError("input.no_file", path=str(path_or_stdin))
    return _jsonl_path(path, defer_parsing)


def _jsonl_stdin(defer_parsing: bool) -> Iterator[AnyItem]:
    yield from _jsonl_items(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>", defer_parsing)


def _jsonl_path(path: Path, defer_parsing: bool) -> Iterator[AnyItem]:
    with path.open("rb") as stream:
        yield from _jsonl_items(stream, str(path), defer_parsing)


def _jsonl_items(stream: IO, name: str, defer_parsing: bool = False) -> Iterator[AnyItem]:
    for number, line in enumerate(stream, 1):
        source = f"{name}:{number}"
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield not_utf8_line(source, exc)
                continue
        line = line.lstrip("\ufeff") if number == 1 else line
        if line.strip():
            yield RawLine(source, line) if defer_parsing else _json_line(line, source)


def _json_line(line: str, source: str) -> ReadItem:
    too_deep = json_depth_problem(line, source)
    if too_deep:
        return ReadProblem(source, too_deep)
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return ReadProblem(source, problem("Y001.json_line", source, detail=exc.msg, colno=exc.colno))
    except ValueError:  # an integer too long to convert
        _, too_long = parse_json(line, source)
        return ReadProblem(source, too_long or problem("Y001.not_json", source))
    if not isinstance(data, dict):
        return ReadProblem(source, problem("R001.object", source))
    return RawRecord(source, data)


# --- CSV exports: files, rows and citizen groups ------------------------------------------------


@dataclass(frozen=True)
class _CsvFile:
    """A CSV export whose header has been read: its kind, separator and column positions."""

    path: str
    kind: str
    delimiter: str
    columns: dict[str, int]
    width: int


def _decoded_lines(stream: Iterable[bytes]) -> Iterator[str]:
    """Text lines of a CSV file: UTF-8 (a BOM is dropped), else Windows-1252, line by line."""
    for number, raw in enumerate(stream, 1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace")


def _inspect_csv(path: str | Path) -> _CsvFile:
    """Read a CSV file's header; raise `ValueError` when it is missing or not a known export."""
    try:
        with open(path, "rb") as stream:
            header = next(_decoded_lines(stream), "")
    except OSError as exc:
        raise KeyedError("input.unreadable", path=str(path), reason=exc.strerror) from None
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter), [])]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        columns.setdefault(name, index)
    for kind, required in REQUIRED_COLUMNS.items():
        if all(name in columns for name in required):
            return _CsvFile(str(path), kind, delimiter, columns, len(names))
    expected = "; ".join(f"{kind}: {', '.join(cols)}" for kind, cols in REQUIRED_COLUMNS.items())
    columns_given = ", ".join(names) if names else part("input.no_columns")
    raise KeyedError("input.unknown_kind", path=str(path), columns=columns_given, expected=expected)


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode the bytes that are not UTF-8 as Windows-1252, as older Excel exports are written."""
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("bip-cp1252", _cp1252_fallback)  # type: ignore[arg-type]


def _csv_rows(csv_file: _CsvFile) -> Iterator[tuple[int, list[str], Problem | None]]:
    """The data rows of a CSV file: the line each starts on, its cells, and a parse error if any."""
    with open(csv_file.path, encoding="utf-8-sig", errors="bip-cp1252", newline="") as stream:
        reader = csv.reader(stream, delimiter=csv_file.delimiter)
        next(reader, None)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, [], problem("R007.csv", csv_file.path, line, detail=str(exc))
                continue
            if "".join(cells).strip():
                yield line, cells, None


# --- CSV exports: sorting by citizen out of core -------------------------------------------------

_KINDS = ("measurements", "interventions", "caseworkers")
#: The cells kept of each row, after its line and its problem (None when the row is fine).
_KEPT: dict[str, tuple[str, ...]] = {
    "measurements": ("date", "indicator", "score"),
    "interventions": ("type", "start", "end", "status"),
    "caseworkers": ("caseworker_id", "from", "team"),
}
_Row = tuple  # (line, problem or None, *the kept cells); a problem is stored as `_stored` JSON
_INSERT = "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class _Sorter:
    """The rows of the CSV exports, sorted by citizen in a private temporary SQLite file on disk.

    Rows go to disk in batches as they are read, and SQLite sorts on disk, so memory does not grow
    with the size of the caseload.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;
            PRAGMA cache_size = -16384;
            CREATE TABLE rows (citizen TEXT NOT NULL, kind INTEGER NOT NULL, line INTEGER NOT NULL,
                               problem TEXT, a TEXT, b TEXT, c TEXT, d TEXT);
        """)

    def load(self, csv_file: _CsvFile) -> Iterator[ReadProblem]:
        """Store the file's rows; yield a problem for each row that has no citizen_id."""
        kind = _KINDS.index(csv_file.kind)
        id_column = csv_file.columns["citizen_id"]
        kept = [csv_file.columns.get(name, csv_file.width) for name in _KEPT[csv_file.kind]]
        kept += [csv_file.width] * (4 - len(kept))
        pick = operator.itemgetter(*kept)
        width = csv_file.width
        padding = [""] * (width + 1)
        batch: list[tuple] = []
        for line, cells, error in _csv_rows(csv_file):
            if error is not None:  # a row that is not valid CSV has no cells, so no citizen either
                yield ReadProblem(f"{csv_file.path}:{line}", error)
                continue
            if len(cells) <= width:
                stored = None
                cells += padding[len(cells) :]
            else:
                stored = _stored("R007.cells", cells=len(cells), width=width)
            citizen_id = cells[id_column].strip()
            if not citizen_id:
                yield ReadProblem(f"{csv_file.path}:{line}", problem("R007.no_id", csv_file.path, line))
                continue
            batch.append((citizen_id, kind, line, stored, *map(str.strip, pick(cells))))
            if len(batch) >= 5000:
                self._db.executemany(_INSERT, batch)
                batch.clear()
        self._db.executemany(_INSERT, batch)

    def citizens(self) -> Iterator[tuple[str, int, dict[int, list[_Row]]]]:
        """Each citizen of the measurements file in order of first appearance: id, first line, rows by kind."""
        self._db.executescript("""
            CREATE TABLE citizens (citizen TEXT PRIMARY KEY, first INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO citizens SELECT citizen, MIN(line) FROM rows WHERE kind = 0 GROUP BY citizen;
        """)
        cursor = self._db.execute("""
            SELECT c.first, r.citizen, r.kind, r.line, r.problem, r.a, r.b, r.c, r.d
            FROM rows r JOIN citizens c ON c.citizen = r.citizen ORDER BY c.first, r.kind, r.line""")
        current: tuple[str, int] | None = None
        rows: dict[int, list[_Row]] = {}
        for first, citizen_id, kind, *row in cursor:
            if current is None or current[1] != first:
                if current is not None:
                    yield current[0], current[1], rows
                current, rows = (citizen_id, first), {}
            rows.setdefault(kind, []).append(row)
        if current is not None:
            yield current[0], current[1], rows

    def strays(self) -> Iterator[tuple[str, int, int, int]]:
        """Citizens with rows in interventions or caseworkers but none in measurements:
        id, kind, first line, number of rows."""
        yield from self._db.execute("""
            SELECT citizen, kind, MIN(line), COUNT(*) FROM rows
            WHERE kind > 0 AND citizen NOT IN (SELECT citizen FROM citizens)
            GROUP BY kind, citizen ORDER BY kind, MIN(line)""")

    def close(self) -> None:
        """Drop the temporary database."""
        self._db.close()


def _stored(key: str, **args: Any) -> str:
    """A row's problem as it is stored with the row: its message key and arguments, as JSON."""
    return json.dumps([key, args])


def _restored(stored: str, path: str, line: int, **more: Any) -> Problem:
    """The located problem of a stored row, with `more` arguments (such as the citizen)."""
    key, args = json.loads(stored)
    return problem(key, path, line, **args, **more)


def read_csv_exports(
    measurements: str | Path, interventions: str | Path | None = None, caseworkers: str | Path | None = None
) -> Iterator[ReadItem]:
    """Merge CSV exports into one record per citizen, in the order the citizens first appear in measurements.

    The files may list their rows in any order (see the module docstring). Raises `ValueError` at
    once when a file is missing or its header is not the export it is given as.
    """
    files = {"measurements": measurements, "interventions": interventions, "caseworkers": caseworkers}
    inspected = {}
    for kind, path in files.items():
        if path is None:
            continue
        csv_file = _inspect_csv(path)
        if csv_file.kind != kind:
            raise KeyedError("input.export_mismatch", path=str(path), kind=kind, actual=csv_file.kind)
        inspected[kind] = csv_file
    return _merge(inspected)


def _merge(files: dict[str, _CsvFile]) -> Iterator[ReadItem]:
    order = files["measurements"].path
    paths = {_KINDS.index(kind): csv_file.path for kind, csv_file in files.items()}
    sorter = _Sorter()
    try:
        for csv_file in files.values():
            yield from sorter.load(csv_file)
        for citizen_id, first, rows in sorter.citizens():
            yield from _citizen(citizen_id, f"{order}:{first}", rows, paths)
        for citizen_id, kind, line, count in sorter.strays():
            more: dict[str, Any] = {"more": count - 1} if count > 1 else {}
            key = "R008.more" if count > 1 else "R008"
            stray = problem(key, paths[kind], line, citizen=citizen_id, file=order, **more)
            yield ReadProblem(f"{paths[kind]}:{line}", stray)
    finally:
        sorter.close()


def _citizen(citizen_id: str, source: str, rows: dict[int, list[_Row]], paths: dict[int, str]) -> Iterator[ReadItem]:
    """The record of one citizen from its rows in each file, or the problems that keep it from being read."""
    problems = [
        ReadProblem(f"{paths[kind]}:{row[0]}", _restored(row[1], paths[kind], row[0], citizen=citizen_id))
        for kind, kind_rows in sorted(rows.items())
        for row in kind_rows
        if row[1]
    ]
    record: dict = {"id": citizen_id, "measurements": _measurements(citizen_id, paths[0], rows.get(0, []), problems)}
    for kind in sorted(kind for kind in paths if kind > 0):
        record[_KINDS[kind]] = [_SIDE_ROW[_KINDS[kind]](row) for row in rows.get(kind, [])]
    if problems:
        yield from problems
    else:
        yield RawRecord(source, record)


def _measurements(citizen_id: str, path: str, rows: list[_Row], problems: list[ReadProblem]) -> list[dict]:
    """One measurement per date, in the order the dates first appear; conflicts go to `problems`."""
    by_date: dict[str, dict] = {}
    for line, row_problem, day, indicator, score, _ in rows:
        if row_problem or not (day or indicator or score):
            continue
        scores = by_date.setdefault(day, {"date": day, "scores": {}})["scores"]
        if not score:
            continue
        value = _score(score)
        if indicator in scores and scores[indicator] != value:
            conflict = problem("R009", path, line, indicator=indicator, date=day, citizen=citizen_id)
            problems.append(ReadProblem(f"{path}:{line}", conflict))
        scores[indicator] = value
    return list(by_date.values())


def _score(text: str) -> int | str:
    """A whole number as int; anything else unchanged, for the check to reject with the citizen's id."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else text


def _intervention(row: _Row) -> dict:
    _, _, kind, start, end, status = row
    item = {"type": kind, "start": start}
    if end:
        item["end"] = end
    if status:
        item["status"] = status
    return item


def _caseworker(row: _Row) -> dict:
    _, _, caseworker, start, team, _ = row
    return {"id": caseworker, "from": start, "team": team} if team else {"id": caseworker, "from": start}


_SIDE_ROW = {"interventions": _intervention, "caseworkers": _caseworker}


# --- Telling inputs apart -----------------------------------------------------------------------


@overload
def detect_and_read(inputs: Sequence[str], defer_parsing: Literal[False] = False) -> Iterator[ReadItem]: ...
@overload
def detect_and_read(inputs: Sequence[str], defer_parsing: bool) -> Iterator[AnyItem]: ...


def detect_and_read(inputs: Sequence[str], defer_parsing: bool = False) -> Iterator[AnyItem]:
    """Read each input by its kind and chain them, in the order given.

    A folder is read with `read_folder`; `*.jsonl` (or `*.ndjson`) and `-` with `read_jsonl`; a
    `.yaml`, `.yml` or `.json` file is one record; every other file is taken as a CSV export and
    identified by its header, and the CSV files together go to `read_csv_exports` (at the place of
    the first of them). Raises `ValueError`, naming the path, for a missing path, a file of unknown
    kind, two CSV exports of the same kind, or CSV exports without a measurements file.
    With `defer_parsing`, JSON Lines come unparsed (`RawLine`), for worker processes to parse.
    """
    if not inputs:
        raise KeyedError("input.none")
    if list(inputs).count("-") > 1:
        raise KeyedError("input.stdin_twice")
    readers: list[Iterator[AnyItem] | None] = []
    csv_paths: dict[str, str] = {}
    csv_slot: int | None = None
    for item in map(str, inputs):
        if item == "-":
            readers.append(read_jsonl("-", defer_parsing))
            continue
        path = Path(item)
        if not path.exists():
            raise KeyedError("input.not_found", path=item)
        if path.is_dir():
            readers.append(read_folder(path))
        elif path.suffix.lower() in JSONL_SUFFIXES:
            readers.append(read_jsonl(path, defer_parsing))
        elif path.suffix.lower() in RECORD_SUFFIXES:
            readers.append(_single_file(path))
        else:
            kind = _inspect_csv(item).kind
            if kind in csv_paths:
                raise KeyedError("input.second_export", path=item, kind=kind, first=csv_paths[kind])
            csv_paths[kind] = item
            if csv_slot is None:
                csv_slot = len(readers)
                readers.append(None)
    if csv_paths and csv_slot is not None:
        if "measurements" not in csv_paths:
            raise KeyedError(
                "input.no_measurements",
                paths=", ".join(csv_paths.values()),
                columns=", ".join(CSV_COLUMNS["measurements"]),
            )
        readers[csv_slot] = read_csv_exports(
            csv_paths["measurements"], csv_paths.get("interventions"), csv_paths.get("caseworkers")
        )
    return itertools.chain.from_iterable(reader for reader in readers if reader is not None)
