"""The message catalogue: every text the program itself shows, in Danish and English, by message key.

The texts live in gettext catalogues, `locale/{da,en}/LC_MESSAGES/bip.po`, one entry per key: the
`msgid` is the stable message key (`R002.score`, `cli.validate.ok`, `page.evidence`), the `msgstr`
the text, with `{name}` placeholders filled in by `str.format`. A key is a problem code, or a code
and a variant, or a prefix naming where the text is shown (`cli.`, `api.`, `page.`, `report.`,
`fact.`, `batch.`, `impact.`, `docs.`, `replay.`, `log.`, `gherkin.`, `describe.`). Both languages
have every key, with the same placeholders (tests/test_messages.py); how to add a message is in
docs/development/architecture.md.

The .po files are read with Babel on first use only (a run that shows no message never reads them),
and the parsed catalogue is kept as JSON in the cache folder (`BIP_CACHE_DIR`, default
~/.cache/bip-engine), named by a hash of the .po file; a later run loads that (well under a
millisecond) and never imports Babel. Editing a .po file changes its hash, so nothing goes stale.

Arguments are plain values (ids, field paths, numbers) and are not translated; an argument given
as `{"da": ..., "en": ...}` (a name from the rule files) is shown in the message's language, and one
made by `part(key, ...)` (a fragment such as a rule label or a period) is itself a message, shown in
the message's language; a list of parts is shown joined by commas.
Guidance templates and the rule files' own `da`/`en` names are policy content and are not here.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Protocol

LANGS = ("da", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "bip"


def po_path(lang: str) -> Path:
    """The gettext catalogue (.po) of `lang`."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of `lang` (da or en; anything else gives English) as key -> text."""
    import hashlib  # here, not at the top: a run that shows no message never needs it
    import json

    lang = lang if lang in LANGS else "en"
    source = po_path(lang).read_bytes()
    digest = hashlib.blake2b(source, digest_size=12).hexdigest()
    folder = _cache_folder()
    kept = folder / f"{DOMAIN}-{lang}-{digest}.json" if folder else None
    if kept is not None and kept.is_file():
        try:
            texts = json.loads(kept.read_text(encoding="utf-8"))
            if isinstance(texts, dict):
                return texts
        except (OSError, ValueError):  # a damaged cache file: read the .po again below
            pass
    texts = _read_po(source, lang)
    if kept is not None:
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            partial = kept.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, kept)
        except OSError:  # no writable cache: the next run parses the .po again
            pass
    return texts


def _read_po(source: bytes, lang: str) -> dict[str, str]:
    """Parse a .po file with Babel: key -> text."""
    import io

    from babel.messages.pofile import read_po

    parsed = read_po(io.BytesIO(source), locale=lang, domain=DOMAIN)
    return {
        message.id: message.string
        for message in parsed
        if isinstance(message.id, str) and message.id and isinstance(message.string, str)
    }


def _cache_folder() -> Path | None:
    folder = os.environ.get("BIP_CACHE_DIR", str(Path.home() / ".cache" / "bip-engine"))
    return Path(folder) / "messages" if folder else None


def keys() -> set[str]:
    """Every message key (of the English catalogue, which has the same keys as the Danish one)."""
    return set(catalogue("en"))


def text(key: str, lang: str = "en", **args: Any) -> str:
    """The message `key` in `lang` (English when the language is unknown), filled in with `args`."""
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue("en")[key]  # a key missing from the catalogue is a programming error: KeyError
    return template.format(**_localised(args, lang)) if args else template


def texts(prefix: str, lang: str) -> dict[str, Any]:
    """The messages under `prefix.` in `lang`, as a nested mapping (`impact.kinds.phase` -> ["kinds"]["phase"]).

    Unfilled: the caller formats each with its own arguments. For tables of words that are looked up
    by id (phase ids, fact names, column names). Keys numbered from 0 (`docs.stages.flag.0`, `.1`)
    give a tuple."""
    return _section(prefix, lang if lang in LANGS else "en")


@functools.cache
def _section(prefix: str, lang: str) -> dict[str, Any]:
    start = prefix + "."
    nested: dict[str, Any] = {}
    for key, value in catalogue(lang).items():
        if key.startswith(start):
            *parents, last = key[len(start) :].split(".")
            place = nested
            for part in parents:
                place = place.setdefault(part, {})
            place[last] = value
    return _tuples(nested)


def _tuples(nested: dict[str, Any]) -> dict[str, Any]:
    """`nested` with every mapping keyed 0, 1, ... turned into a tuple."""
    shown: dict[str, Any] = {}
    for name, value in nested.items():
        if isinstance(value, dict):
            value = _tuples(value)
            if value and set(value) == {str(index) for index in range(len(value))}:
                value = tuple(value[str(index)] for index in range(len(value)))
        shown[name] = value
    return shown


def hint(name: str | None, lang: str = "en") -> str:
    """A ' (did you mean X?)' suffix in `lang`, or an empty string when there is no candidate."""
    return text("hint", lang, name=name) if name else ""


def part(key: str, **args: Any) -> dict[str, Any]:
    """A message to be used as an argument of another message, shown in that message's language."""
    return {"key": key, "args": args}


class Keyed(Protocol):
    """What `shown_message` reads of a problem (`bip_engine.errors.Problem`)."""

    key: str | None
    args: dict[str, Any]
    message: str


def shown_message(item: Keyed, lang: str) -> str:
    """The problem's message in `lang`: from the catalogue when it has a key, else as written."""
    if item.key:
        return text(item.key, lang, **item.args)
    return item.message


def _localised(args: dict, lang: str) -> dict:
    """Arguments ready for `lang`: a nested hint (`hint_name`) and parts rendered, `{"da", "en"}` names chosen."""
    shown = {name: _shown_argument(value, lang) for name, value in args.items()}
    if "hint_name" in args:
        shown["hint"] = hint(args["hint_name"], lang)
    return shown


def _shown_argument(value: Any, lang: str) -> Any:
    """One argument in `lang`: a `part` as its message, a list of parts joined, a `{da, en}` name chosen."""
    if isinstance(value, dict) and set(value) == set(LANGS):
        return value.get(lang, value.get("en"))
    if isinstance(value, dict) and set(value) == {"key", "args"}:
        return text(value["key"], lang, **value["args"])
    if isinstance(value, list) and value and all(isinstance(each, dict) for each in value):
        return ", ".join(str(_shown_argument(each, lang)) for each in value)
    return value
