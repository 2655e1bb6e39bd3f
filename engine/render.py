"""Guidance templates: a sandboxed Jinja2 environment per language, with user overrides.

Templates are looked up on a search path, the user's folders first and the bundled
`guidance/<lang>/` last, so a municipality can override any single template by putting a file
with the same name in its own folder (`--guidance DIR`, which holds `da/` and `en/`). Templates
run in Jinja's sandbox with `StrictUndefined`: a misspelt variable is an error, and every
template error names the template file and line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
from pathlib import Path
from typing import Any, Iterable

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .errors import Problem, RulebookError
from .paths import default_guidance

COLOURS = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
MONTHS = {
    "da": ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
           "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}


def format_number(value: Any, lang: str) -> str:
    """A value as a reader of `lang` writes it: decimal comma in Danish, lists joined, none as a dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return {"da": ("ja", "nej"), "en": ("yes", "no")}[lang][0 if value else 1]
    if isinstance(value, (list, tuple)):
        return ", ".join(format_number(item, lang) for item in value) if value else "–"
    if isinstance(value, float):
        text = f"{round(value, 2):g}"
        return text.replace(".", ",") if lang == "da" else text
    return str(value)


def format_date(value: str | dt.date, lang: str) -> str:
    """An ISO date as words: '22. november 2026' or '22 November 2026'."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    month = MONTHS[lang][day.month - 1]
    return f"{day.day}. {month} {day.year}" if lang == "da" else f"{day.day} {month} {day.year}"


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """A cache of compiled templates on disk (keyed by each template's source), so later runs start fast.

    `BIP_CACHE_DIR` chooses the folder (empty: no cache); the default is ~/.cache/bip-engine.
    """
    folder = os.environ.get("BIP_CACHE_DIR", str(Path.home() / ".cache" / "bip-engine"))
    if not folder:
        return None
    try:
        path = Path(folder) / f"jinja-{jinja2.__version__}"
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(path))


class Guidance:
    """The guidance templates of one language, ready to render."""

    def __init__(self, lang: str, overrides: Iterable[str | Path] = (), colour: bool = False,
                 bundled: Path | None = None):
        self.lang = lang
        bundled = bundled or default_guidance()
        self.search_path = [Path(folder) / lang for folder in overrides] + [bundled / lang]
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader([str(path) for path in self.search_path]),
            undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True, autoescape=False, bytecode_cache=_bytecode_cache(),
        )
        self.env.filters.update(
            num=lambda value: format_number(value, lang),
            date=lambda value: format_date(value, lang),
            style=self._styler(colour),
            wrap=lambda text, width=78, indent="": textwrap.fill(
                " ".join(str(text).split()), width=width, initial_indent=indent, subsequent_indent=indent,
                break_on_hyphens=False, break_long_words=False),
            tojson=lambda value: json.dumps(value, ensure_ascii=False),
        )

    @staticmethod
    def _styler(colour: bool):
        def style(text: Any, name: str) -> str:
            if not colour or name not in COLOURS:
                return str(text)
            return f"\033[{COLOURS[name]}m{text}\033[0m"
        return style

    def _template(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound:
            places = ", ".join(str(path) for path in self.search_path)
            raise RulebookError(Problem("T002", f"no template '{name}' (looked in {places})",
                                        str(self.search_path[-1] / name))) from None
        except jinja2.TemplateSyntaxError as exc:
            raise RulebookError(Problem("T001", f"template syntax error: {exc.message}",
                                        exc.filename or name, exc.lineno)) from None

    def block(self, name: str, block: str, context: dict) -> str:
        """One named block of a template, rendered and stripped."""
        template = self._template(name)
        if block not in template.blocks:
            raise RulebookError(Problem("T003", f"template has no block '{block}'", template.filename or name))
        try:
            return "".join(template.blocks[block](template.new_context(context))).strip()
        except Exception as exc:  # noqa: BLE001 - any template failure becomes a located error
            raise self._located(exc, template) from None

    def render(self, name: str, context: dict) -> str:
        """A whole template, rendered."""
        template = self._template(name)
        try:
            return template.render(context)
        except RulebookError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self._located(exc, template) from None

    def _located(self, exc: Exception, template: jinja2.Template) -> RulebookError:
        if isinstance(exc, RulebookError):
            return exc
        path, line = template.filename or template.name, None
        tb = exc.__traceback__
        while tb is not None:  # the innermost template frame, mapped back to its template line
            owner = tb.tb_frame.f_globals.get("__jinja_template__")
            if owner is not None:
                path, line = owner.filename or owner.name, owner.get_corresponding_lineno(tb.tb_lineno)
            tb = tb.tb_next
        kind = "undefined value" if isinstance(exc, jinja2.UndefinedError) else "template error"
        message = getattr(exc, "message", None) or str(exc)
        return RulebookError(Problem("T001", f"{kind}: {message}", path, line))
