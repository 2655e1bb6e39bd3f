"""Reading YAML and JSON so that every value can be traced back to its line.

PyYAML keeps the last of two duplicate keys silently; here a duplicate key is an error. Every
mapping that is loaded is a `LineDict`, which remembers the line of each key, so validators can
name the line of the field that is wrong.

Hostile or broken input is answered with a located `Problem`, never an exception:
- a document nested deeper than `MAX_DEPTH` levels (lists and mappings, in JSON, YAML flow style
  `[ {` or YAML indentation) is refused before it is parsed (`Y003`), at the line where the limit
  is passed: the parser and the code after it recurse once per level, and thousands of levels
  would exhaust the stack;
- an integer of more digits than Python converts (`sys.get_int_max_str_digits()`, 4,300) is
  refused with its line (`Y004`);
- a date that is not in the calendar (`2026-02-30`) is kept as the text it is, so that the schema
  that expects a date reports it with its field and line instead of the loader failing;
- a mapping key that is itself a list or mapping is a syntax problem (`Y001`).
"""

from __future__ import annotations

import json
import re
import sys
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - the C loader is present in PyYAML wheels
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]  # the same interface, in Python

from .errors import Problem
from .errors import problem as keyed_problem

#: The deepest nesting of lists and mappings a YAML or JSON document may have. A citizen record
#: needs four levels and a rule file about six.
MAX_DEPTH = 64


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


class NumberTooLong(yaml.YAMLError):
    """An integer with more digits than Python converts."""

    def __init__(self, digits: int, line: int, column: int):
        self.digits, self.line, self.column = digits, line, column
        super().__init__(f"a number of {digits} digits is too long (at most {_max_digits()})")


class BadKey(yaml.YAMLError):
    """A mapping key that is a list or a mapping."""

    def __init__(self, line: int, column: int):
        self.line, self.column = line, column
        super().__init__("a key must be a plain value, not a list or a mapping")


def _max_digits() -> int:
    return sys.get_int_max_str_digits() or 4300


def _construct_int(loader: LineLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_int(node)
    except ValueError:
        digits = sum(char.isdigit() for char in str(node.value))
        raise NumberTooLong(digits, node.start_mark.line + 1, node.start_mark.column + 1) from None


def _construct_timestamp(loader: LineLoader, node: yaml.ScalarNode) -> Any:
    """A date or time; one that is not in the calendar stays text, for the schema to report."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError):
        return str(node.value)


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.path = loader.source_path
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (int, float, bool)) or key is None:
            key = str(key) if key is not None else "null"
        if isinstance(key, (list, dict, set)):
            raise BadKey(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        key_line = key_node.start_mark.line + 1
        if key in result.key_lines:
            raise DuplicateKey(key, key_line, result.key_lines[key])
        result.key_lines[key] = key_line
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
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
LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def parse_yaml(text: str, path: str) -> tuple[Any, Problem | None]:
    """Parse YAML (JSON is YAML too); return the data, or None and the problem found."""
    problem = yaml_depth_problem(text, path)
    if problem:
        return None, problem
    loader = LineLoader(text)
    loader.source_path = path
    try:
        return loader.get_single_data(), None
    except DuplicateKey as exc:
        return None, keyed_problem("Y002", path, exc.line, name=exc.key, first=exc.first_line)
    except NumberTooLong as exc:
        return None, keyed_problem("Y004", path, exc.line, exc.column, digits=exc.digits, limit=_max_digits())
    except BadKey as exc:
        return None, keyed_problem("Y001.bad_key", path, exc.line, exc.column)
    except RecursionError:  # a safety net behind the depth limit checked above
        return None, _too_deep(path, None, None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, keyed_problem("Y001.yaml", path, line, column, detail=message)
    except yaml.YAMLError as exc:
        return None, keyed_problem("Y001.yaml_other", path, detail=str(exc))
    finally:
        loader.dispose()


def parse_json(text: str, path: str) -> tuple[Any, Problem | None]:
    """Parse strict JSON; return the data, or None and the problem found."""
    problem = json_depth_problem(text, path)
    if problem:
        return None, problem
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, keyed_problem("Y001.json", path, exc.lineno, exc.colno, detail=exc.msg)
    except ValueError:  # an integer too long to convert (json raises a plain ValueError)
        return None, _long_number(text, path)
    except RecursionError:
        return None, _too_deep(path, None, None)


def _too_deep(path: str, line: int | None, column: int | None) -> Problem:
    return keyed_problem("Y003", path, line, column, limit=MAX_DEPTH)


def _long_number(text: str, path: str) -> Problem:
    match = re.search(rf"\d{{{_max_digits() + 1},}}", text)
    if match is None:
        return keyed_problem("Y004.unreadable", path)
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - text.rfind("\n", 0, match.start())
    return keyed_problem("Y004", path, line, column, digits=len(match.group()), limit=_max_digits())


# --- Depth limit, checked on the text before parsing -------------------------------------------

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth_problem(text: str, path: str, limit: int = MAX_DEPTH) -> Problem | None:
    """A `Y003` problem at the line where JSON `text` nests deeper than `limit`, or None.

    Brackets inside strings do not count. Cheap: the common case is decided by counting.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    stripped = _JSON_STRING.sub('""', text)  # same line breaks: a JSON string holds no raw newline
    if stripped.count("[") + stripped.count("{") <= limit:
        return None
    deltas = (1 if char in "[{" else -1 for char in _BRACKETS.findall(stripped))
    if max(accumulate(deltas), default=0) <= limit:
        return None
    depth = 0
    for match in _BRACKETS.finditer(stripped):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            line = stripped.count("\n", 0, match.start()) + 1
            return _too_deep(path, line, match.start() - stripped.rfind("\n", 0, match.start()))
    return None  # pragma: no cover - the maximum above said otherwise


_DOUBLE_QUOTED_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"')
_SINGLE_QUOTED_REST = re.compile(r"[^']*(?:''[^']*)*'(?!')")
_VALUE_OR_COMMENT = re.compile(r":(?=[ \t]|$)| #|\t#")
_TOKEN = re.compile(r"\S*")
_FLOW_SPECIAL = re.compile(r"[\[\]{},:?#\s]")


def yaml_depth_problem(text: str, path: str, limit: int = MAX_DEPTH) -> Problem | None:
    """A `Y003` problem at the line where YAML `text` nests deeper than `limit`, or None.

    Counts the open block levels (by indentation and `- ` / `? ` markers) plus the open flow
    collections (`[` and `{` that start a value, and every one inside a flow collection), skipping
    quoted scalars, block scalars (`|`, `>`), the further lines of plain scalars and comments.
    It may count a level more than the parser nests (a scalar in a sequence), never fewer.
    """
    scan = _YamlDepth(limit)
    for number, line in enumerate(text.split("\n"), 1):
        column = scan.line(line.rstrip("\r"))
        if column is not None:
            return _too_deep(path, number, column)
    return None


def _is_marker(line: str, pos: int, markers: str) -> bool:
    """Whether a block indicator (`-`, `?` or `:`, one of `markers`) followed by a space or the end stands at `pos`."""
    return pos < len(line) and line[pos] in markers and line[pos + 1 : pos + 2] in ("", " ", "\t")


class _YamlDepth:
    """Line-by-line state of `yaml_depth_problem`."""

    def __init__(self, limit: int):
        self.limit = limit
        self.stack: list[float] = []  # columns of the open block nodes
        self.flow = 0  # open flow collections
        self.quote: str | None = None  # a quoted scalar that goes on over lines
        self.block_scalar: int | None = None  # indentation of the line that opened a | or > scalar
        self.node_start = False  # whether a node may start at the current place
        self.plain = False  # the line ended inside a plain scalar

    def line(self, line: str) -> int | None:
        """Take one line; return the 1-based column where the limit is passed, or None."""
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if self.block_scalar is not None:
            if not stripped.strip() or indent > self.block_scalar:
                return None
            self.block_scalar = None
        pos = 0
        if self.quote is None and self.flow == 0:
            if not stripped or stripped.startswith("#"):
                return None
            if self.plain and self.stack and indent > self.stack[-1]:
                return None  # the next line of a plain scalar: text, not structure
            self.plain = False
            if indent == 0 and line.startswith(("---", "...")) and line[3:4] in ("", " ", "\t"):
                self.stack = []
                pos = 3
            else:
                # A sequence entry stands half a column right of its indentation, so that a
                # sequence at the indentation of its parent key still counts as a level.
                column = indent + 0.5 if _is_marker(line, indent, "-") else indent
                while self.stack and self.stack[-1] > column:
                    self.stack.pop()
                if not self.stack or self.stack[-1] < column:
                    self.stack.append(column)
                pos = indent
                while _is_marker(line, pos, "-?:"):
                    pos += 1
                    while pos < len(line) and line[pos] in " \t":
                        pos += 1
                    self.stack.append(pos + 0.5 if _is_marker(line, pos, "-") else pos)
                    if len(self.stack) > self.limit:
                        return pos + 1
                if len(self.stack) > self.limit:
                    return pos + 1
        return self._rest(line, pos, indent)

    def _rest(self, line: str, pos: int, indent: int) -> int | None:
        if not self.flow:
            self.node_start = self.quote is None
        end = len(line)
        while pos < end:
            if self.quote:
                match = (_DOUBLE_QUOTED_REST if self.quote == '"' else _SINGLE_QUOTED_REST).match(line, pos)
                if match is None:
                    return None
                pos, self.quote, self.node_start = match.end(), None, False
                continue
            char = line[pos]
            if char in " \t":
                pos += 1
            elif char == "#" and (pos == 0 or line[pos - 1] in " \t"):
                return None
            elif self.flow:
                if char in "[{":
                    self.flow += 1
                    if len(self.stack) + self.flow > self.limit:
                        return pos + 1
                    self.node_start = True
                elif char in "]}":
                    self.flow -= 1
                    self.node_start = False
                elif char in ",:?":
                    self.node_start = True
                elif char in "\"'" and self.node_start:
                    self.quote = char
                else:  # a plain scalar: skip to the next character that may end it
                    self.node_start = False
                    special = _FLOW_SPECIAL.search(line, pos + 1)
                    pos = (special.start() if special else end) - 1
                pos += 1
            elif self.node_start and char in "[{":
                self.flow = 1
                if len(self.stack) + 1 > self.limit:
                    return pos + 1
                pos += 1
            elif self.node_start and char in "\"'":
                self.quote, pos = char, pos + 1
            elif self.node_start and char in "|>":
                self.block_scalar = indent
                return None
            elif self.node_start and char in "&!*":
                token = _TOKEN.match(line, pos)
                assert token is not None  # \S* always matches, if only the empty string
                pos = token.end()
                self.node_start = char != "*"
            else:
                found = _VALUE_OR_COMMENT.search(line, pos)
                if found is None or found.group() != ":":
                    self.plain = found is None
                    return None
                pos, self.node_start = found.end(), True
        return None


def decode_text(content: bytes, name: str) -> tuple[str | None, Problem | None]:
    """Bytes read from `name` as UTF-8 text (a BOM is allowed); their text, or None and the problem."""
    try:
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, keyed_problem("F002", name, reason=exc.reason, byte=exc.start)


def read_text(path: Path) -> tuple[str | None, Problem | None]:
    """Read a UTF-8 text file (a BOM is allowed); return its text, or None and the problem."""
    try:
        return path.read_text(encoding="utf-8-sig"), None
    except FileNotFoundError:
        return None, keyed_problem("F001.not_found", str(path))
    except IsADirectoryError:
        return None, keyed_problem("F001.folder", str(path))
    except UnicodeDecodeError as exc:
        return None, keyed_problem("F002", str(path), reason=exc.reason, byte=exc.start)
    except OSError as exc:
        return None, keyed_problem("F001.unreadable", str(path), reason=exc.strerror)


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
