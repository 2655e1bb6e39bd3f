"""What the decision log refuses or cannot do, and the lines its commands print, in Danish and English.

`StoreError(key, **params)` names one of `MESSAGES`; `text(lang)` gives it in Danish (da) or English (en).
"""

from __future__ import annotations

from typing import Any

MESSAGES = {
    "bad_url": {
        "da": "Ugyldig database-URL {url!r}: brug sqlite:///FIL eller postgresql://bruger@vært/database",
        "en": "Invalid database URL {url!r}: use sqlite:///FILE or postgresql://user@host/database",
    },
    "missing": {
        "da": "Der er ingen beslutningslog i {url} (filen findes ikke)",
        "en": "There is no decision log at {url} (the file does not exist)",
    },
    "unreachable": {"da": "Kan ikke bruge databasen {url}: {reason}", "en": "Cannot use the database {url}: {reason}"},
    "too_new": {
        "da": "Databasen {url} har skemaversion {found}, men denne bip kender kun op til {known}; opgradér bip",
        "en": "The database {url} has schema version {found}, but this bip knows only up to {known}; upgrade bip",
    },
    "role": {
        "da": "Ukendt rolle {role!r}; gyldige roller: {roles}",
        "en": "Unknown role {role!r}; valid roles: {roles}",
    },
    "name": {
        "da": "Et token-navn skal være 1-100 synlige tegn uden mellemrum, ikke {name!r}",
        "en": "A token name must be 1-100 visible characters without spaces, not {name!r}",
    },
    "duplicate": {
        "da": "Der findes allerede et token med navnet {name!r}",
        "en": "A token named {name!r} already exists",
    },
    "kind": {"da": "Ukendt slags opslag {kind!r}; gyldige: {kinds}", "en": "Unknown kind {kind!r}; valid: {kinds}"},
    "no_decision": {
        "da": "Der er ingen afgørelse med id {decision_id!r} i loggen",
        "en": "There is no decision with id {decision_id!r} in the log",
    },
    "flag_note": {
        "da": "Ugyldig note til flaget {flag!r}: status skal være acted eller not_relevant, "
        "og noten højst {limit} tegn",
        "en": "Invalid note for flag {flag!r}: the status must be acted or not_relevant, "
        "and the note at most {limit} characters",
    },
    "too_long": {"da": "{field} må højst være {limit} tegn", "en": "{field} may be at most {limit} characters"},
    # lines the command line prints
    "token_once": {
        "da": "Gem tokenet nu: kun en hash af det er gemt, så det kan ikke vises igen.",
        "en": "Keep this token now: only a hash of it is stored, so it cannot be shown again.",
    },
    "token_header": {"da": "navn\trolle\toprettet\ttilbagekaldt", "en": "name\trole\tcreated\trevoked"},
    "no_tokens": {"da": "Der er ingen tokens i {url}.", "en": "There are no tokens in {url}."},
    "revoked": {"da": "Tokenet {name!r} er tilbagekaldt.", "en": "The token {name!r} is revoked."},
    "not_revoked": {
        "da": "Der er intet aktivt token med navnet {name!r}.",
        "en": "There is no active token named {name!r}.",
    },
    "exported": {"da": "{count} poster om borgeren fra {url}.", "en": "{count} entries about the citizen from {url}."},
    "purged": {
        "da": "{count} afgørelser fra før {date} er slettet (med deres vurderinger).",
        "en": "{count} decisions made before {date} were deleted (with their assessments).",
    },
    "bad_age": {
        "da": "Ugyldig alder {age!r}: skriv et tal og y, m eller d, fx 5y, 18m eller 90d",
        "en": "Invalid age {age!r}: write a number and y, m or d, e.g. 5y, 18m or 90d",
    },
}


def message(key: str, lang: str = "da", **params: Any) -> str:
    """One of the decision log's messages in Danish (da) or English (en)."""
    return MESSAGES[key][lang if lang in ("da", "en") else "en"].format(**params)


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
