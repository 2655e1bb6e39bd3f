"""Streaming readers for a whole caseload: many citizen records at once, for `bip batch`.

Every reader yields, in input order, either a `RawRecord` (a record as loaded, not yet validated)
or a `ReadProblem` (something that could not be read, with its file and line). Bad data never
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
    caseworkers (optional)    citizen_id, caseworker_id, from

- The separator is `;` or `,`, whichever the header line uses. The files are UTF-8, with or
  without a byte-order mark (BOM); a line that is not valid UTF-8 is read as Windows-1252, as older
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

Order. Each file must be grouped by citizen_id (all rows of a citizen together), and all three
files must list the citizens in the same order: the order of measurements.csv. A citizen with no
interventions or no caseworkers is simply absent from that file. The reader merges the files in
one pass, like a merge-join, and yields one record per citizen in the order of measurements.csv;
the record's source is the line of the citizen's first measurements row.

When the order is broken, the reader reports it and does not guess:
- a citizen_id that comes back in a file after other citizens is a ReadProblem at that line; those
  rows are not used. If the record was already read, the problem says it is incomplete.
- rows in interventions or caseworkers for a citizen who is not at that place in the order of
  measurements.csv (or not in it at all) are a ReadProblem naming the line, and are not used; if the
  citizen comes later in measurements.csv, the citizen is reported instead of read, because the
  record would lack those rows.
- a row with an empty citizen_id, or with more cells than the header, is a ReadProblem; a citizen
  with such a row is reported, not read.
To check this, the reader remembers which citizen ids it has met, in a temporary SQLite file on
disk rather than in memory. The reader looks a bounded number of citizens ahead in the
interventions and caseworkers files (`LOOKAHEAD`), so rows for a citizen missing from
measurements.csv do not hold up the citizens after them.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
import sqlite3
import sys
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

from ..yamlio import parse_json, parse_yaml, read_text

RECORD_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")

#: The columns of each CSV export, in the order `write_csv`-style writers use.
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "measurements": ("citizen_id", "date", "indicator", "score"),
    "interventions": ("citizen_id", "type", "start", "end", "status"),
    "caseworkers": ("citizen_id", "caseworker_id", "from"),
}
#: The columns a header must have to be recognised as that export.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "measurements": ("citizen_id", "date", "indicator", "score"),
    "interventions": ("citizen_id", "type", "start"),
    "caseworkers": ("citizen_id", "caseworker_id", "from"),
}
#: How many citizens the reader looks ahead in the interventions and caseworkers files.
LOOKAHEAD = 256

_WHOLE_NUMBER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class RawRecord:
    """One citizen record as read, not yet validated; `source` is where it was read (file or file:line)."""

    source: str
    data: dict


@dataclass(frozen=True)
class ReadProblem:
    """Something that could not be read; `source` names the file, and the line where known."""

    source: str
    message: str


@dataclass(frozen=True)
class RawLine:
    """A JSON line read but not parsed yet, so that a worker process can parse it."""

    source: str
    text: str

    def parse(self) -> "RawRecord | ReadProblem":
        """The record on the line, or the problem with it."""
        return _json_line(self.text, self.source)


ReadItem = RawRecord | ReadProblem


# --- Single files and folders -------------------------------------------------------------------

def read_file(path: str | Path) -> ReadItem:
    """Read one `.yaml`, `.yml` or `.json` record file; a problem is returned, never raised."""
    name = str(path)
    text, problem = read_text(Path(path))
    if problem is None and not text.strip():
        return ReadProblem(name, "the file is empty")
    if problem is None:
        parse = parse_json if name.lower().endswith(".json") else parse_yaml
        data, problem = parse(text, name)
    if problem is not None:
        where = f"{name}:{problem.line}" if problem.line else name
        return ReadProblem(where, problem.message)
    if not isinstance(data, dict):
        return ReadProblem(name, "a record must be a mapping with at least an 'id'")
    return RawRecord(name, data)


def read_folder(path: str | Path) -> Iterator[ReadItem]:
    """Read every `*.yaml`, `*.yml` and `*.json` file in a folder, sorted by name, one record each.

    Raises `ValueError` at once when `path` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"{path}: not a folder")
    return _folder_items(folder)


def _folder_items(folder: Path) -> Iterator[ReadItem]:
    # Sorting needs the names (only the names) of all files at once.
    names = sorted(entry.name for entry in folder.iterdir()
                   if entry.suffix.lower() in RECORD_SUFFIXES and not entry.name.startswith("."))
    for name in names:
        entry = folder / name
        if entry.is_file():
            yield read_file(entry)


def _single_file(path: Path) -> Iterator[ReadItem]:
    yield read_file(path)


# --- JSON Lines ---------------------------------------------------------------------------------

def read_jsonl(path_or_stdin: str | Path | IO = "-", defer_parsing: bool = False) -> Iterator[ReadItem]:
    """Read JSON Lines: one record per line as a JSON object; `-` reads standard input.

    A file object (binary or text) is read as it is. Blank lines are skipped; a line that is not a
    JSON object is a `ReadProblem` at `file:LINE`. Raises `ValueError` at once for a missing file.
    With `defer_parsing`, lines come as `RawLine`s for the consumer (a worker process) to parse.
    """
    if hasattr(path_or_stdin, "read"):
        return _jsonl_items(path_or_stdin, str(getattr(path_or_stdin, "name", "<stream>")), defer_parsing)
    if str(path_or_stdin) == "-":
        return _jsonl_stdin(defer_parsing)
    path = Path(path_or_stdin)
    if not path.is_file():
        raise ValueError(f"{path_or_stdin}: no such file")
    return _jsonl_path(path, defer_parsing)


def _jsonl_stdin(defer_parsing: bool) -> Iterator[ReadItem]:
    yield from _jsonl_items(getattr(sys.stdin, "buffer", sys.stdin), "<stdin>", defer_parsing)


def _jsonl_path(path: Path, defer_parsing: bool) -> Iterator[ReadItem]:
    with path.open("rb") as stream:
        yield from _jsonl_items(stream, str(path), defer_parsing)


def _jsonl_items(stream: IO, name: str, defer_parsing: bool = False) -> Iterator[ReadItem]:
    for number, line in enumerate(stream, 1):
        source = f"{name}:{number}"
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield ReadProblem(source, f"the line is not UTF-8 text ({exc.reason} at byte {exc.start})")
                continue
        line = line.lstrip("\ufeff") if number == 1 else line
        if line.strip():
            yield RawLine(source, line) if defer_parsing else _json_line(line, source)


def _json_line(line: str, source: str) -> ReadItem:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return ReadProblem(source, f"not valid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(data, dict):
        return ReadProblem(source, "a record must be a JSON object with at least an 'id'")
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


@dataclass
class _Group:
    """The consecutive rows of one citizen in one CSV file."""

    citizen_id: str
    source: str
    rows: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)


def _decoded_lines(stream: Iterable[bytes]) -> Iterator[str]:
    """Text lines of a CSV file: UTF-8 (a BOM is dropped), else Windows-1252, line by line."""
    for number, raw in enumerate(stream, 1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
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
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter), [])]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        columns.setdefault(name, index)
    for kind, required in REQUIRED_COLUMNS.items():
        if all(name in columns for name in required):
            return _CsvFile(str(path), kind, delimiter, columns, len(names))
    expected = "; ".join(f"{kind}: {', '.join(cols)}" for kind, cols in REQUIRED_COLUMNS.items())
    raise ValueError(f"{path}: not a known input (the header has {', '.join(names) or 'no columns'}; "
                     f"a CSV export needs the columns of one of {expected})")


def _csv_rows(csv_file: _CsvFile) -> Iterator[tuple[int, list[str], str | None]]:
    """The data rows of a CSV file: the line each starts on, its cells, and a parse error if any."""
    with open(csv_file.path, "rb") as stream:
        reader = csv.reader(_decoded_lines(stream), delimiter=csv_file.delimiter)
        next(reader, None)
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, [], f"the row is not valid CSV ({exc})"
                continue
            if any(cell.strip() for cell in cells):
                yield line, cells, None


def _groups(csv_file: _CsvFile) -> Iterator[_Group | ReadProblem]:
    """The file's rows grouped by consecutive citizen_id; rows without a citizen are problems."""
    group: _Group | None = None
    id_column = csv_file.columns["citizen_id"]
    for line, cells, error in _csv_rows(csv_file):
        source = f"{csv_file.path}:{line}"
        citizen_id = cells[id_column].strip() if id_column < len(cells) else ""
        if not citizen_id:
            yield ReadProblem(source, error or "the citizen_id is empty; the row is not used")
            continue
        if group is None or group.citizen_id != citizen_id:
            if group is not None:
                yield group
            group = _Group(citizen_id, source)
        problem = error or _width_problem(csv_file, cells)
        if problem:
            group.problems.append(ReadProblem(source, f"{problem}; citizen {citizen_id} is not read"))
        else:
            group.rows.append((source, {name: cells[index].strip() if index < len(cells) else ""
                                        for name, index in csv_file.columns.items()}))
    if group is not None:
        yield group


def _width_problem(csv_file: _CsvFile, cells: list[str]) -> str | None:
    if len(cells) > csv_file.width:
        return f"the row has {len(cells)} cells but the header has {csv_file.width}"
    return None


# --- CSV exports: the merge ---------------------------------------------------------------------

class _Ledger:
    """The citizens met in measurements.csv, and those whose other rows were set aside.

    Kept in a private temporary SQLite database on disk, so memory does not grow with the caseload.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("CREATE TABLE met (id TEXT PRIMARY KEY, source TEXT) WITHOUT ROWID")
        self._db.execute("CREATE TABLE aside (id TEXT PRIMARY KEY, source TEXT) WITHOUT ROWID")
        self._any_aside = False

    def meet(self, citizen_id: str, source: str) -> str | None:
        """Note the citizen as met at `source`; return where it was met before, if it was."""
        cursor = self._db.execute("INSERT OR IGNORE INTO met VALUES (?, ?)", (citizen_id, source))
        return None if cursor.rowcount == 1 else self.met_at(citizen_id)

    def met_at(self, citizen_id: str) -> str | None:
        """Where the citizen was met in measurements.csv, or None."""
        row = self._db.execute("SELECT source FROM met WHERE id = ?", (citizen_id,)).fetchone()
        return row[0] if row else None

    def set_aside(self, citizen_id: str, source: str) -> None:
        """Note that rows of a citizen not yet met were not used."""
        self._db.execute("INSERT OR IGNORE INTO aside VALUES (?, ?)", (citizen_id, source))
        self._any_aside = True

    def aside_at(self, citizen_id: str) -> str | None:
        """Where rows of the citizen were set aside, or None."""
        if not self._any_aside:
            return None
        row = self._db.execute("SELECT source FROM aside WHERE id = ?", (citizen_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Drop the temporary database."""
        self._db.close()


class _SideFile:
    """An interventions or caseworkers file, read up to `LOOKAHEAD` citizens ahead of the merge."""

    def __init__(self, csv_file: _CsvFile, order_name: str):
        self.file = csv_file
        self._order_name = order_name
        self._source = _groups(csv_file)
        self._ahead: deque[_Group] = deque()
        self._ids: Counter[str] = Counter()
        self._loose: list[ReadProblem] = []
        self._exhausted = False

    def take(self, citizen_id: str, ledger: _Ledger) -> tuple[_Group | None, list[ReadProblem]]:
        """The rows of `citizen_id` if they come next, and problems for rows skipped on the way."""
        self._fill()
        problems, self._loose = self._loose, []
        if citizen_id not in self._ids:
            while self._ahead and ledger.met_at(self._ahead[0].citizen_id):
                problems.append(self._late(self._pop(), ledger))
            return None, problems
        while self._ahead[0].citizen_id != citizen_id:
            problems.append(self._early(self._pop(), citizen_id, ledger))
        group = self._pop()
        self._claim_regrouped(group)
        return group, problems

    def rest(self, ledger: _Ledger) -> Iterator[ReadProblem]:
        """Problems for every row left when measurements.csv has ended."""
        while True:
            self._fill()
            yield from self._loose
            self._loose = []
            if not self._ahead:
                return
            group = self._pop()
            if ledger.met_at(group.citizen_id):
                yield self._late(group, ledger)
            else:
                yield ReadProblem(group.source, f"citizen {group.citizen_id} is not in {self._order_name}, so "
                                  f"these rows are not used; a citizen with no measurements yet can be listed "
                                  f"there with a row that has only the citizen_id")

    def _fill(self) -> None:
        while not self._exhausted and len(self._ahead) < LOOKAHEAD:
            item = next(self._source, None)
            if item is None:
                self._exhausted = True
            elif isinstance(item, ReadProblem):
                self._loose.append(item)
            else:
                self._ahead.append(item)
                self._ids[item.citizen_id] += 1

    def _pop(self) -> _Group:
        group = self._ahead.popleft()
        self._ids[group.citizen_id] -= 1
        if not self._ids[group.citizen_id]:
            del self._ids[group.citizen_id]
        return group

    def _claim_regrouped(self, group: _Group) -> None:
        """Rows of the same citizen further on: the file is not grouped, so the citizen is not read."""
        while group.citizen_id in self._ids:
            later = next(g for g in self._ahead if g.citizen_id == group.citizen_id)
            self._ahead.remove(later)
            self._ids[later.citizen_id] -= 1
            if not self._ids[later.citizen_id]:
                del self._ids[later.citizen_id]
            group.problems.append(ReadProblem(later.source, f"citizen {group.citizen_id} comes again after "
                                              f"other citizens; {self.file.path} must be grouped by citizen_id, "
                                              f"so citizen {group.citizen_id} is not read"))

    def _late(self, group: _Group, ledger: _Ledger) -> ReadProblem:
        return ReadProblem(group.source, f"citizen {group.citizen_id} was already read at "
                           f"{ledger.met_at(group.citizen_id)} without these rows, so that record is incomplete; "
                           f"{self.file.path} must be grouped by citizen_id in the order of {self._order_name}")

    def _early(self, group: _Group, expected: str, ledger: _Ledger) -> ReadProblem:
        if ledger.met_at(group.citizen_id):
            return self._late(group, ledger)
        ledger.set_aside(group.citizen_id, group.source)
        return ReadProblem(group.source, f"citizen {group.citizen_id} comes before citizen {expected} here but "
                           f"not in {self._order_name} (it is missing there, or the files are in different "
                           f"orders), so these rows are not used")


def read_csv_exports(measurements: str | Path, interventions: str | Path | None = None,
                     caseworkers: str | Path | None = None) -> Iterator[ReadItem]:
    """Merge CSV exports into one record per citizen, in the order of the measurements file.

    See the module docstring for the format and the grouping requirement. Raises `ValueError` at
    once when a file is missing or its header is not the export it is given as.
    """
    files = {"measurements": measurements, "interventions": interventions, "caseworkers": caseworkers}
    inspected = {}
    for kind, path in files.items():
        if path is None:
            continue
        csv_file = _inspect_csv(path)
        if csv_file.kind != kind:
            raise ValueError(f"{path}: given as the {kind} export, but its header is that of {csv_file.kind}")
        inspected[kind] = csv_file
    return _merge(inspected)


def _merge(files: dict[str, _CsvFile]) -> Iterator[ReadItem]:
    order_name = files["measurements"].path
    sides = [_SideFile(files[kind], order_name) for kind in ("interventions", "caseworkers") if kind in files]
    ledger = _Ledger()
    try:
        for item in _groups(files["measurements"]):
            if isinstance(item, ReadProblem):
                yield item
            else:
                yield from _merged_citizen(item, sides, ledger, order_name)
        for side in sides:
            yield from side.rest(ledger)
    finally:
        ledger.close()


def _merged_citizen(group: _Group, sides: list[_SideFile], ledger: _Ledger, order_name: str) -> Iterator[ReadItem]:
    citizen_id = group.citizen_id
    earlier = ledger.meet(citizen_id, group.source)
    if earlier:
        yield ReadProblem(group.source, f"citizen {citizen_id} comes again after other citizens; {order_name} "
                          f"must be grouped by citizen_id, so these rows are not used and the record read at "
                          f"{earlier} is incomplete")
        return
    problems = list(group.problems)
    found: dict[str, _Group] = {}
    for side in sides:
        side_group, skipped = side.take(citizen_id, ledger)
        yield from skipped
        if side_group is not None:
            found[side.file.kind] = side_group
            problems.extend(side_group.problems)
    aside = ledger.aside_at(citizen_id)
    if aside:
        problems.append(ReadProblem(group.source, f"citizen {citizen_id} is not read: its rows at {aside} came "
                                    f"before their place in the order of {order_name}"))
    record = {"id": citizen_id, "measurements": _measurements(group, problems)}
    for side in sides:
        rows = found[side.file.kind].rows if side.file.kind in found else []
        record[side.file.kind] = [_SIDE_ROW[side.file.kind](row) for _, row in rows]
    if problems:
        yield from problems
    else:
        yield RawRecord(group.source, record)


def _measurements(group: _Group, problems: list[ReadProblem]) -> list[dict]:
    """One measurement per date, in the order the dates first appear; conflicts go to `problems`."""
    by_date: dict[str, dict] = {}
    for source, row in group.rows:
        day, indicator, score = row["date"], row["indicator"], row["score"]
        if not (day or indicator or score):
            continue
        scores = by_date.setdefault(day, {"date": day, "scores": {}})["scores"]
        if not score:
            continue
        value = _score(score)
        if indicator in scores and scores[indicator] != value:
            problems.append(ReadProblem(source, f"a second, different score for {indicator} on {day}; "
                                        f"citizen {group.citizen_id} is not read"))
        scores[indicator] = value
    return list(by_date.values())


def _score(text: str) -> int | str:
    """A whole number as int; anything else unchanged, for the check to reject with the citizen's id."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else text


def _intervention(row: dict[str, str]) -> dict:
    item = {"type": row["type"], "start": row["start"]}
    for key in ("end", "status"):
        if row.get(key):
            item[key] = row[key]
    return item


def _caseworker(row: dict[str, str]) -> dict:
    return {"id": row["caseworker_id"], "from": row["from"]}


_SIDE_ROW = {"interventions": _intervention, "caseworkers": _caseworker}


# --- Telling inputs apart -----------------------------------------------------------------------

def detect_and_read(inputs: Sequence[str], defer_parsing: bool = False) -> Iterator[ReadItem]:
    """Read each input by its kind and chain them, in the order given.

    A folder is read with `read_folder`; `*.jsonl` (or `*.ndjson`) and `-` with `read_jsonl`; a
    `.yaml`, `.yml` or `.json` file is one record; every other file is taken as a CSV export and
    identified by its header, and the CSV files together go to `read_csv_exports` (at the place of
    the first of them). Raises `ValueError`, naming the path, for a missing path, a file of unknown
    kind, two CSV exports of the same kind, or CSV exports without a measurements file.
    With `defer_parsing`, JSON Lines come unparsed (`RawLine`), for worker processes to parse.
    """
    if not inputs:
        raise ValueError("no input given: name a folder, a .jsonl file, '-' for standard input, "
                         "record files or CSV exports")
    if list(inputs).count("-") > 1:
        raise ValueError("-: standard input can be read only once")
    readers: list[Iterator[ReadItem] | None] = []
    csv_paths: dict[str, str] = {}
    csv_slot: int | None = None
    for item in map(str, inputs):
        if item == "-":
            readers.append(read_jsonl("-", defer_parsing))
            continue
        path = Path(item)
        if not path.exists():
            raise ValueError(f"{item}: no such file or folder")
        if path.is_dir():
            readers.append(read_folder(path))
        elif path.suffix.lower() in JSONL_SUFFIXES:
            readers.append(read_jsonl(path, defer_parsing))
        elif path.suffix.lower() in RECORD_SUFFIXES:
            readers.append(_single_file(path))
        else:
            kind = _inspect_csv(item).kind
            if kind in csv_paths:
                raise ValueError(f"{item}: a second {kind} export (the first is {csv_paths[kind]})")
            csv_paths[kind] = item
            if csv_slot is None:
                csv_slot = len(readers)
                readers.append(None)
    if csv_paths:
        if "measurements" not in csv_paths:
            raise ValueError(f"{', '.join(csv_paths.values())}: CSV exports need a measurements file "
                             f"(columns {', '.join(CSV_COLUMNS['measurements'])})")
        readers[csv_slot] = read_csv_exports(csv_paths["measurements"], csv_paths.get("interventions"),
                                             csv_paths.get("caseworkers"))
    return itertools.chain.from_iterable(readers)
