"""The words of the caseworker's page, in Danish (the default) and English: the `page.` messages.

Only the page's own frame is there (headings, labels, buttons, notices), in the message catalogue
(`bip_engine.messages`, keys `page.NAME`). Everything about the citizen — phase labels, guidance,
flag messages, reasons, findings — comes from the rulebook and the guidance templates through the
same library calls as the CLI, already in the right language.
"""

from __future__ import annotations

from typing import Any

from ..messages import texts as catalogue_texts
from ..render import format_number


def texts(lang: str) -> dict[str, str]:
    """The page's words in `lang` (Danish for anything unknown)."""
    return catalogue_texts("page", lang if lang in ("da", "en") else "da")


def page_number(value: Any, lang: str) -> str:
    """The page's one number formatter: `format_number`, with the minus sign U+2212 for a negative number."""
    if isinstance(value, (list, tuple)):
        return ", ".join(page_number(item, lang) for item in value) if value else "–"
    text = format_number(value, lang)
    return "\u2212" + text[1:] if text.startswith("-") else text
