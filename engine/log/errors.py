"""What the decision log refuses or cannot do, and the lines its commands print, in Danish and English.

`StoreError(key, **params)` names one of the catalogue's `log.` messages; `text(lang)` gives it in Danish (da) or English (en).
"""

from __future__ import annotations

from typing import Any

from ..messages import text


def message(key: str, lang: str = "da", **params: Any) -> str:
    """One of the decision log's messages (`log.KEY` in the message catalogue) in Danish (da) or English (en)."""
    return text(f"log.{key}", lang, **params)


class StoreError(Exception):
    """The decision log cannot do what was asked; `text(lang)` says why in Danish or English."""

    def __init__(self, key: str, **params: Any):
        self.key, self.params = key, params
        super().__init__(self.text("en"))

    def text(self, lang: str = "da") -> str:
        """The message in `lang` (da or en)."""
        return message(self.key, lang, **self.params)


class StoreValueError(StoreError, ValueError):
    """A value given to the store is not acceptable (unknown role, duplicate name, missing decision...)."""
