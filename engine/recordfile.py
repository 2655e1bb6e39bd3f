"""Reading a citizen record file: YAML or JSON from a path or standard input (validated by `bip_engine.record`)."""

from __future__ import annotations

import re
import sys
from os import PathLike, fspath
from pathlib import Path
from typing import Any

from .errors import RecordError, problem
from .yamlio import decode_text, parse_json, parse_yaml, read_text

CPR_LIKE = re.compile(r"^\s*\d{6}-?\d{4}\s*$")


def cpr_warning(record: Any) -> str | None:
    """The message key of a warning (W001) when the citizen id looks like a Danish CPR number, which must not be used.

    The report gives it in its language (`bip_engine.messages.text`)."""
    return "W001" if CPR_LIKE.match(record.id) else None


def read_record_file(source: str | PathLike[str]) -> tuple[Any, str]:
    """Read a record file (a path, or `-` for standard input); return the loaded data and its display name."""
    source = fspath(source)
    if source == "-":  # as bytes: a text stream would smuggle undecodable bytes in as surrogates
        name = "<stdin>"
        content, read_problem = decode_text(sys.stdin.buffer.read(), name)
    else:
        name = source
        content, read_problem = read_text(Path(source))
    if read_problem is not None:
        raise RecordError(read_problem)
    assert content is not None  # the readers give the text or a problem
    if not content.strip():
        raise RecordError(problem("R001.empty", name))
    data, parse_problem = parse_json(content, name) if name.endswith(".json") else parse_yaml(content, name)
    if parse_problem:
        raise RecordError(parse_problem)
    return data, name
