"""The service's own log: one line per record on standard error, as text or as JSON, never forged.

Every line `bip serve` writes goes through one handler made here: the master's (gunicorn's), the
workers' (uvicorn's), the reloads and incidents (`bip`) and the access lines (`bip.access`, one per
request: route template, status, latency, user, decision id; never a query string).

- `text`: `time level logger: message`, with every control character of the message (a newline
  included) escaped as `\\n`, `\\x1b`..., so that nothing a client sends can start a line of its own.
- `json`: one JSON object a line (`time`, `level`, `logger`, `message`, and the access line's fields).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

LOGGERS = ("bip", "gunicorn.error", "uvicorn.error", "uvicorn")
"""The loggers that get the handler; uvicorn's own access log is off (bip.access replaces it)."""
ACCESS_FIELDS = ("method", "route", "status", "latency_ms", "user", "decision_id")
TEXT_FIELDS = ("latency_ms", "user", "decision_id")
"""The access fields a text line adds after its message (which has the method, route and status)."""
FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error", "critical")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """`text` with every control character (newlines included) written as a visible escape."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _timestamp(record: logging.LogRecord) -> str:
    moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{moment}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """`time level logger: message`, escaped; a traceback follows on the same line, escaped too."""

    def format(self, record: logging.LogRecord) -> str:
        """One escaped line for `record`."""
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        extra = "".join(f" {name}={getattr(record, name)}" for name in TEXT_FIELDS if hasattr(record, name))
        return f"{_timestamp(record)} {record.levelname} {record.name}: {escape(message)}{escape(extra)}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the access fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        """`record` as one line of JSON."""
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def handler(log_format: str = "text") -> logging.Handler:
    """A handler on standard error with the formatter of `log_format` (`text` or `json`)."""
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return stream


def configure_logging(level: str = "info", log_format: str = "text", force: bool = False) -> None:
    """Send the service's loggers to one handler on standard error (once per process, or again with `force`)."""
    if level not in LEVELS or log_format not in FORMATS:
        raise ValueError(f"log level {level!r} or format {log_format!r}: use one of {LEVELS} and {FORMATS}")
    shared = None
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers and not force:
            continue
        shared = shared or handler(log_format)
        logger.handlers = [shared]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
