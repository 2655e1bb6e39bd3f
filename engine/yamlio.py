"""Reading YAML and JSON so that every value can be traced back to its line.

PyYAML keeps the last of two duplicate keys silently; here a duplicate key is an error. Every
mapping that is loaded is a `LineDict`, which remembers the line of each key, so validators can
name the line of the field that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - the C loader is present in PyYAML wheels
    from yaml import SafeLoader as _BaseLoader

from .errors import Problem


class LineDict(dict):
    """A dict that knows its file, its 1-based line and the line of each of its keys.

    A mapping merged from several files (a local rulebook overriding a rule of the default one)
    records in `key_paths` the file of each key that came from elsewhere.
    """

    line: int | None = None
    path: str | None = None
    key_lines: dict
    key_paths: dict

    def line_of(self, key: str) -> int | None:
        """The line where `key` stands, or the mapping's own line."""
        return getattr(self, "key_lines", {}).get(key, self.line)

    def path_of(self, key: str) -> str | None:
        """The file where `key` was given."""
        return getattr(self, "key_paths", {}).get(key, self.path)


class LineList(list):
    """A list that knows its file and the line of each item."""

    line: int | None = None
    path: str | None = None
    item_lines: list


class DuplicateKey(yaml.YAMLError):
    """A mapping names the same key twice."""

    def __init__(self, key: str, line: int, first_line: int):
        self.key, self.line, self.first_line = key, line, first_line
        super().__init__(f"duplicate key '{key}' (first given on line {first_line})")


def _construct_mapping(loader, node):
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.path = loader.source_path
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (int, float, bool)) or key is None:
            key = str(key) if key is not None else "null"
        key_line = key_node.start_mark.line + 1
        if key in result.key_lines:
            raise DuplicateKey(key, key_line, result.key_lines[key])
        result.key_lines[key] = key_line
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_sequence(loader, node):
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.path = loader.source_path
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


class LineLoader(_BaseLoader):
    """Safe loader that records files and lines, and refuses duplicate keys."""

    source_path: str | None = None


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str, path: str) -> tuple[Any, Problem | None]:
    """Parse YAML (JSON is YAML too); return the data, or None and the problem found."""
    loader = LineLoader(text)
    loader.source_path = path
    try:
        return loader.get_single_data(), None
    except DuplicateKey as exc:
        return None, Problem("Y002", str(exc), path, exc.line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, Problem("Y001", f"YAML syntax error: {message}", path, line, column)
    except yaml.YAMLError as exc:
        return None, Problem("Y001", f"YAML error: {exc}", path)
    finally:
        loader.dispose()


def parse_json(text: str, path: str) -> tuple[Any, Problem | None]:
    """Parse strict JSON; return the data, or None and the problem found."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, Problem("Y001", f"JSON syntax error: {exc.msg}", path, exc.lineno, exc.colno)


def read_text(path: Path) -> tuple[str | None, Problem | None]:
    """Read a UTF-8 text file (a BOM is allowed); return its text, or None and the problem."""
    try:
        return path.read_text(encoding="utf-8-sig"), None
    except FileNotFoundError:
        return None, Problem("F001", "file not found", str(path))
    except IsADirectoryError:
        return None, Problem("F001", "is a folder, not a file", str(path))
    except UnicodeDecodeError as exc:
        return None, Problem("F002", f"not UTF-8 text ({exc.reason} at byte {exc.start})", str(path))
    except OSError as exc:
        return None, Problem("F001", f"cannot be read: {exc.strerror}", str(path))


def field_path(loc: tuple) -> str:
    """A validation error location written as a field path, such as `measurements[2].scores`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "record"


def line_of(data: Any, loc: tuple) -> int | None:
    """The line of the deepest part of a validation error location that the loaded data knows."""
    return locate(data, loc)[1]


def locate(data: Any, loc: tuple, default_path: str | None = None) -> tuple[str | None, int | None]:
    """File and line of the deepest part of a validation error location that the loaded data knows."""
    path, line = getattr(data, "path", None) or default_path, getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part.rstrip("_") in node:
            key = part if part in node else part.rstrip("_")
            path, line = node.path_of(key) or path, node.line_of(key) or line
            node = node[key]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
            path = getattr(node, "path", None) or path
        else:
            break
    return path, line
