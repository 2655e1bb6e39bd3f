"""The words of the caseworker's page, in Danish (the default) and English: the `page.` messages.

Only the page's own frame is there (headings, labels, buttons, notices), in the message catalogue
(`bip_engine.messages`, keys `page.NAME`). Everything about the citizen — phase labels, guidance,
flag messages, reasons, findings — comes from the rulebook and the guidance templates through the
same library calls as the CLI, already in the right language.
"""

from __future__ import annotations

from ..messages import texts as catalogue_texts


def texts(lang: str) -> dict[str, str]:
    """The page's words in `lang` (Danish for anything unknown)."""
    return catalogue_texts("page", lang if lang in ("da", "en") else "da")
