"""One error family for everything the engine can refuse.

Every error carries a short code (like a linter's), the file it concerns, the line where known,
and a plain message. The CLI maps the family to exit codes: `RecordError` is an invalid citizen
record (exit 3), `RulebookError` an invalid rulebook or guidance template (exit 4).
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from .messages import part, shown_message, text
from .models import Data, data_class


@data_class()
class Problem(Data):
    """One thing wrong with an input file, located as precisely as we can.

    `message` is English. A problem made by `problem()` also keeps its message `key` and `args`,
    so that `text(lang)` can give it in Danish or English (`bip_engine.messages`).
    """

    code: str
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = field(default=None, compare=False, repr=False)
    args: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def text(self, lang: str = "en") -> str:
        """The message in `lang` (da or en)."""
        return shown_message(self, lang)

    def shown(self, lang: str = "en") -> str:
        """`path:line: CODE message` with the message in `lang`."""
        return f"{self.location()}: {self.code} {self.text(lang)}"

    def location(self) -> str:
        """`path:line:column`, leaving out the parts that are unknown."""
        parts = [self.path or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.code} {self.message}"


def problem(
    key: str,
    path: str | None = None,
    line: int | None = None,
    column: int | None = None,
    *,
    code: str | None = None,
    **args: Any,
) -> Problem:
    """A `Problem` whose code is the key's code (or `code`), with the English message and the key kept for translation."""
    return Problem(code or key.split(".")[0], text(key, "en", **args), path, line, column, key=key, args=args)


class KeyedError(ValueError):
    """A `ValueError` whose message is a catalogue key and its arguments, so it can be shown in Danish or English.

    Raised for an input that cannot be used at all (a missing file, a file of unknown kind, a bad
    `FOLDER@DATE`); the CLI shows it as a usage error in the command's language. `str()` is English."""

    def __init__(self, key: str, **values: Any):
        self.key, self.values = key, values
        self.message = text(key, "en", **values)
        super().__init__(self.message)

    def text(self, lang: str = "en") -> str:
        """The message in `lang` (da or en)."""
        return text(self.key, lang, **self.values)

    def part(self) -> dict[str, Any]:
        """The message as an argument of another message (`bip_engine.messages.part`)."""
        return part(self.key, **self.values)


def usage_text(error: Exception, lang: str) -> str:
    """A usage error's text in `lang`: from the catalogue for a `KeyedError`, else as written."""
    return error.text(lang) if isinstance(error, KeyedError) else str(error)


class BipError(Exception):
    """Base class: one or more problems found in one input."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = problems if isinstance(problems, list) else [problems]
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def first(self) -> Problem:
        """The first problem, for callers that show only one."""
        return self.problems[0]


class RecordError(BipError):
    """A citizen record is unreadable or invalid."""

    exit_code = 3


class RulebookError(BipError):
    """A rulebook, catalogue or guidance template is unreadable or invalid."""

    exit_code = 4


@data_class()
class ProblemList(Data):
    """Collects problems while validating, so that all of them are reported, not just the first."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        key: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        code: str | None = None,
        **args: Any,
    ) -> None:
        """Record one problem: its message `key` in the catalogue, and the arguments the message names."""
        self.items.append(problem(key, path, line, column, code=code, **args))

    def raise_if_any(self, error_class: type[BipError]) -> None:
        """Raise `error_class` with every problem collected so far, if there are any."""
        if self.items:
            raise error_class(list(self.items))
