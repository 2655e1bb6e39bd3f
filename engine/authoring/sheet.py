"""Thresholds in a spreadsheet: `bip rules sheet export RULES --out params.xlsx` and `... import`.

Policy staff tune numbers in a spreadsheet more readily than in YAML. `export_sheet` writes two
sheets: *Parametre*, one row per dated value of every parameter in `parameters.yaml` (name, number
of the value, value, valid from, valid to, unit, description), and *Fasetærskler*, one row per
number written in a phase rule's condition in `phases.yaml` (rule, phase, the condition with the
number marked, value). Only the *Værdi* column is meant to be edited.

`import_sheet` reads the sheet back and writes only the values that changed, in place, into the
YAML files: the text of each changed number is replaced where the YAML parser found it, and every
other byte (comments, layout, quoting) stays as it was, so an export followed by an import changes
nothing. A problem (a value that is not a number, a row that names no parameter value, a changed
date, a missing sheet) is a `SheetError` at the cell, `params.xlsx:Parametre!C7`, with an `X` code,
in Danish or English; nothing is written when there is any problem.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import BipError, Problem, problem
from ..messages import text

PARAMETERS_SHEET = "Parametre"
PHASES_SHEET = "Fasetærskler"
PARAMETER_COLUMNS = ("parameter", "number", "value", "valid_from", "valid_to", "unit", "description")
PHASE_COLUMNS = ("rule", "phase", "number", "condition", "value")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


class SheetError(BipError):
    """A spreadsheet of thresholds that cannot be imported; each problem names its cell."""

    exit_code = 6
    heading = "cli.heading.sheet"  # what the command line prints above the problems


@dataclass(frozen=True)
class Slot:
    """One number in a YAML file that the sheet shows: where its text is, and what it is now."""

    key: tuple[str, int]  # (parameter name, value number) or (phase rule id, number in the condition)
    path: Path
    start: int  # character offsets of the number's text in the file
    end: int
    value: Any
    extra: dict[str, Any]


def _read(path: Path) -> str:
    """A YAML file's text exactly as stored (line endings kept), so offsets and writes agree."""
    with path.open(encoding="utf-8", newline="") as stream:
        return stream.read()


def _scalar(node: yaml.Node) -> Any:
    return yaml.safe_load(node.value) if isinstance(node, yaml.ScalarNode) and node.style is None else None


def _mapping(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _text(node: yaml.Node | None, lang: str) -> str:
    if node is None:
        return ""
    if isinstance(node, yaml.MappingNode):
        return str(_mapping(node).get(lang, yaml.ScalarNode("", "")).value)
    return str(node.value)


def parameter_slots(folder: Path, lang: str = "da") -> list[Slot]:
    """Every dated value of `parameters.yaml` in `folder`, in file order."""
    path = folder / "parameters.yaml"
    if not path.is_file():
        return []
    root = yaml.compose(_read(path))
    slots = []
    for name, entry in _mapping(root).items() if root is not None else []:
        fields = _mapping(entry)
        values = fields.get("values")
        for number, item in enumerate(values.value if isinstance(values, yaml.SequenceNode) else [], start=1):
            value_fields = _mapping(item)
            node = value_fields.get("value")
            if node is None or not isinstance(node, yaml.ScalarNode):
                continue
            extra = {
                "valid_from": _scalar(value_fields["valid_from"]) if "valid_from" in value_fields else None,
                "valid_to": _scalar(value_fields["valid_to"]) if "valid_to" in value_fields else None,
                "unit": _text(fields.get("unit"), lang),
                "description": _text(fields.get("description"), lang),
            }
            slots.append(Slot((name, number), path, node.start_mark.index, node.end_mark.index, _scalar(node), extra))
    return slots


def phase_slots(folder: Path) -> list[Slot]:
    """Every number written in a phase rule's condition in `phases.yaml` (plain, one-line conditions)."""
    path = folder / "phases.yaml"
    if not path.is_file():
        return []
    root = yaml.compose(_read(path))
    rules = _mapping(root).get("rules") if root is not None else None
    slots = []
    for rule in rules.value if isinstance(rules, yaml.SequenceNode) else []:
        fields = _mapping(rule)
        when = fields.get("when")
        if not isinstance(when, yaml.ScalarNode) or when.style is not None or "\n" in when.value:
            continue
        rule_id, phase = _text(fields.get("id"), ""), _text(fields.get("phase"), "")
        for number, match in enumerate(_NUMBER.finditer(when.value), start=1):
            marked = f"{when.value[: match.start()]}[{match.group()}]{when.value[match.end() :]}"
            start = when.start_mark.index + match.start()
            value = yaml.safe_load(match.group())
            slots.append(
                Slot(
                    (rule_id, number),
                    path,
                    start,
                    start + len(match.group()),
                    value,
                    {"phase": phase, "condition": marked},
                )
            )
    return slots


def _heads(columns: tuple[str, ...], lang: str) -> list[str]:
    return [text(f"sheet.column.{column}", lang) for column in columns]


def export_sheet(folder: str | Path, out: str | Path, lang: str = "da") -> tuple[int, int]:
    """Write the parameters and the phase thresholds of the rules in `folder` to the .xlsx file `out`.

    Returns (parameter values, phase thresholds) written."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    folder = Path(folder)
    workbook = Workbook()
    params = workbook.active
    params.title = PARAMETERS_SHEET
    params.append(_heads(PARAMETER_COLUMNS, lang))
    parameters = parameter_slots(folder, lang)
    for slot in parameters:
        extra = slot.extra
        params.append(
            [
                slot.key[0],
                slot.key[1],
                slot.value,
                extra["valid_from"],
                extra["valid_to"],
                extra["unit"],
                extra["description"],
            ]
        )
    phases = workbook.create_sheet(PHASES_SHEET)
    phases.append(_heads(PHASE_COLUMNS, lang))
    thresholds = phase_slots(folder)
    for slot in thresholds:
        phases.append([slot.key[0], slot.extra["phase"], slot.key[1], slot.extra["condition"], slot.value])
    for sheet in (params, phases):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            width = max(len(str(cell.value or "")) for cell in column)
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    for row in params.iter_rows(min_row=2, min_col=4, max_col=5):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    workbook.save(out)
    return len(parameters), len(thresholds)


def _day(value: Any) -> Any:
    """A cell's or a YAML value's date as a `date` where it is one; anything else unchanged."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value.strip())
    return value


def _same_day(cell: Any, written: Any) -> bool:
    return (_day(cell) or None) == (_day(written) or None)


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else repr(value)


def import_sheet(sheet_path: str | Path, folder: str | Path) -> list[tuple[Slot, Any]]:
    """Write the values of the .xlsx file `sheet_path` that differ from the rules in `folder`, in place.

    Returns the changes as (slot, new value), in sheet order. Raises `SheetError` (nothing written)
    when a cell cannot be used."""
    from openpyxl import load_workbook

    folder, shown = Path(folder), str(sheet_path)
    try:
        workbook = load_workbook(sheet_path, data_only=True)
    except FileNotFoundError:
        raise SheetError(problem("X001.missing", shown)) from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:  # what openpyxl raises for a non-workbook
        raise SheetError(problem("X001.unreadable", shown, reason=type(error).__name__)) from None
    problems: list[Problem] = []
    changes: list[tuple[Slot, Any]] = []
    for sheet_name, columns, slots in (
        (PARAMETERS_SHEET, PARAMETER_COLUMNS, parameter_slots(folder)),
        (PHASES_SHEET, PHASE_COLUMNS, phase_slots(folder)),
    ):
        if not slots:
            continue
        if sheet_name not in workbook.sheetnames:
            problems.append(problem("X002", shown, sheet=sheet_name))
            continue
        sheet = workbook[sheet_name]
        by_key = {slot.key: slot for slot in slots}
        key_columns = (0, 1) if sheet_name == PARAMETERS_SHEET else (0, 2)
        value_column = columns.index("value")
        for row in sheet.iter_rows(min_row=2):
            cells = list(row) + [None] * (len(columns) - len(row))
            if all(cell is None or cell.value in (None, "") for cell in cells):
                continue
            first = cells[0]
            where = f"{shown}:{sheet_name}!{first.coordinate}" if first is not None else shown
            name, number = (cells[index].value if cells[index] is not None else None for index in key_columns)
            slot = by_key.get((str(name), number)) if isinstance(number, int) else None
            if slot is None:
                problems.append(problem("X003", where, name=str(name), number=str(number)))
                continue
            cell = cells[value_column]
            value = cell.value if cell is not None else None
            at = f"{shown}:{sheet_name}!{cell.coordinate}" if cell is not None else where
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(problem("X004", at, given=str(value) if value is not None else ""))
                continue
            if sheet_name == PARAMETERS_SHEET:
                for column in ("valid_from", "valid_to"):
                    date_cell = cells[columns.index(column)]
                    if date_cell is not None and not _same_day(date_cell.value, slot.extra[column]):
                        date_at = f"{shown}:{sheet_name}!{date_cell.coordinate}"
                        problems.append(problem("X005", date_at, name=slot.key[0]))
            if value != slot.value:
                changes.append((slot, value))
    if problems:
        raise SheetError(problems)
    _write(changes)
    return changes


def _write(changes: list[tuple[Slot, Any]]) -> None:
    """Replace the text of each changed number in its file, last first so earlier offsets hold."""
    by_file: dict[Path, list[tuple[Slot, Any]]] = {}
    for slot, value in changes:
        by_file.setdefault(slot.path, []).append((slot, value))
    for path, items in by_file.items():
        content = _read(path)
        for slot, value in sorted(items, key=lambda item: item[0].start, reverse=True):
            content = content[: slot.start] + _number_text(value) + content[slot.end :]
        with path.open("w", encoding="utf-8", newline="") as stream:
            stream.write(content)
