"""The texts a caseworker reads about bad input, in Danish and English, by message key.

A message key is a problem code, or a code and a variant (`R002.score`); the code is what stays
stable (README, `--errors` files, tests) and the text follows `--lang`. A `Problem` made with
`bip_engine.errors.problem()` keeps its key and arguments, so it can be shown in either language; its
`message` is the English text, as before. Warnings and the batch summary are here too. Arguments are plain
values (ids, field paths, numbers) and are never translated.
"""

from __future__ import annotations

from typing import Any, Protocol

LANGS = ("da", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # files and syntax
    "F001.not_found": {"da": "filen findes ikke", "en": "file not found"},
    "F001.folder": {"da": "er en mappe, ikke en fil", "en": "is a folder, not a file"},
    "F001.unreadable": {"da": "kan ikke læses: {reason}", "en": "cannot be read: {reason}"},
    "F002": {"da": "ikke UTF-8-tekst ({reason} ved byte {byte})", "en": "not UTF-8 text ({reason} at byte {byte})"},
    "F002.line": {
        "da": "linjen er ikke UTF-8-tekst ({reason} ved byte {byte})",
        "en": "the line is not UTF-8 text ({reason} at byte {byte})",
    },
    "Y001.json_line": {
        "da": "ikke gyldig JSON: {detail} (kolonne {colno})",
        "en": "not valid JSON: {detail} (column {colno})",
    },
    "Y001.not_json": {"da": "ikke gyldig JSON", "en": "not valid JSON"},
    "Y001.yaml": {"da": "YAML-syntaksfejl: {detail}", "en": "YAML syntax error: {detail}"},
    "Y001.yaml_other": {"da": "YAML-fejl: {detail}", "en": "YAML error: {detail}"},
    "Y001.bad_key": {
        "da": "YAML-syntaksfejl: en nøgle skal være en enkel værdi, ikke en liste eller en afbildning",
        "en": "YAML syntax error: a key must be a plain value, not a list or a mapping",
    },
    "Y001.json": {"da": "JSON-syntaksfejl: {detail}", "en": "JSON syntax error: {detail}"},
    "Y002": {
        "da": "nøglen '{name}' står to gange (første gang på linje {first})",
        "en": "duplicate key '{name}' (first given on line {first})",
    },
    "Y003": {
        "da": "indlejret dybere end {limit} niveauer af lister og afbildninger; en registrering eller "
        "regelfil har aldrig brug for så mange",
        "en": "nested deeper than {limit} levels of lists and mappings; a record or rule file never needs that many",
    },
    "Y004.unreadable": {"da": "et tal er for langt til at blive læst", "en": "a number is too long to read"},
    "Y004": {
        "da": "et tal på {digits} cifre er for langt (højst {limit})",
        "en": "a number of {digits} digits is too long (at most {limit})",
    },
    # records
    "R001.empty": {"da": "registreringen er tom", "en": "the record is empty"},
    "R001.file_empty": {"da": "filen er tom", "en": "the file is empty"},
    "R001.mapping": {
        "da": "en registrering skal være en afbildning med mindst et 'id'",
        "en": "a record must be a mapping with at least an 'id'",
    },
    "R001.object": {
        "da": "en registrering skal være et JSON-objekt med mindst et 'id'",
        "en": "a record must be a JSON object with at least an 'id'",
    },
    "R002.required": {"da": "{field}: skal udfyldes", "en": "{field}: is required"},
    "R002.unknown_field": {"da": "{field}: er ikke et kendt felt", "en": "{field}: is not a known field"},
    "R002.score": {
        "da": "{field}: en score skal være et helt tal fra 1 til 5, ikke {given}",
        "en": "{field}: a score must be a whole number from 1 to 5, not {given}",
    },
    "R002.date": {
        "da": "{field}: skal være en dato skrevet ÅÅÅÅ-MM-DD, ikke {given}",
        "en": "{field}: must be a date written YYYY-MM-DD, not {given}",
    },
    "R002.no_such_date": {
        "da": "{field}: {given} er ikke en dato i kalenderen",
        "en": "{field}: {given} is not a date in the calendar",
    },
    "R002.status": {
        "da": "{field}: skal være planned, ongoing, completed eller cancelled, ikke {given}",
        "en": "{field}: must be one of planned, ongoing, completed, cancelled, not {given}",
    },
    "R002.text": {"da": "{field}: skal være tekst, ikke {given}", "en": "{field}: must be text, not {given}"},
    "R002.empty_text": {"da": "{field}: må ikke være tom", "en": "{field}: may not be empty"},
    "R002.list": {"da": "{field}: skal være en liste", "en": "{field}: must be a list"},
    "R002.mapping": {"da": "{field}: skal være en afbildning (nøgle: værdi)", "en": "{field}: must be a mapping"},
    "R002.other": {"da": "{field}: {detail}", "en": "{field}: {detail}"},
    "R003": {"da": "{field}: ukendt indikator '{name}'{hint}", "en": "{field}: unknown indicator '{name}'{hint}"},
    "R004": {
        "da": "{field}: ukendt indsatstype '{name}'{hint}",
        "en": "{field}: unknown intervention type '{name}'{hint}",
    },
    "R005": {"da": "{field}: slutter før den begynder", "en": "{field}: ends before it starts"},
    "R006": {
        "da": "borger-id {citizen} er allerede læst i {first}; denne registrering vurderes ikke",
        "en": "citizen id {citizen} was already read at {first}; this record is not evaluated",
    },
    # rows of CSV exports (a caseload)
    "R007.cells": {
        "da": "rækken har {cells} celler, men overskriften har {width}; borger {citizen} læses ikke",
        "en": "the row has {cells} cells but the header has {width}; citizen {citizen} is not read",
    },
    "R007.csv": {"da": "rækken er ikke gyldig CSV ({detail})", "en": "the row is not valid CSV ({detail})"},
    "R007.no_id": {
        "da": "cellen citizen_id er tom; rækken bruges ikke",
        "en": "the citizen_id is empty; the row is not used",
    },
    "R008": {
        "da": "borger {citizen} findes ikke i {file}, så denne række bruges ikke; en borger uden målinger endnu "
        "kan stå dér i en række, der kun har citizen_id",
        "en": "citizen {citizen} is not in {file}, so this row is not used; a citizen with no measurements yet "
        "can be listed there with a row that has only the citizen_id",
    },
    "R008.more": {
        "da": "borger {citizen} findes ikke i {file}, så denne række (og {more} række(r) mere for borgeren i denne "
        "fil) bruges ikke; en borger uden målinger endnu kan stå dér i en række, der kun har citizen_id",
        "en": "citizen {citizen} is not in {file}, so this row (and {more} more row(s) of the citizen in this "
        "file) is not used; a citizen with no measurements yet can be listed there with a row that has only "
        "the citizen_id",
    },
    "R009": {
        "da": "en anden score for {indicator} den {date}, som afviger fra den første; borger {citizen} læses ikke",
        "en": "a second, different score for {indicator} on {date}; citizen {citizen} is not read",
    },
    "hint": {"da": " (mente du '{name}'?)", "en": " (did you mean '{name}'?)"},
    # warnings
    "W001": {
        "da": "borger-id'et ligner et CPR-nummer; brug et pseudonymt id",
        "en": "the citizen id looks like a CPR number; use a pseudonymous id",
    },
    # the batch
    "batch.summary": {
        "da": "{read} læst, {evaluated} vurderet, {rejected} afvist",
        "en": "{read} read, {evaluated} evaluated, {rejected} rejected",
    },
}


def text(key: str, lang: str = "en", **args: Any) -> str:
    """The message `key` in `lang` (English when the language is unknown), filled in with `args`."""
    templates = MESSAGES[key]
    return templates.get(lang, templates["en"]).format(**args)


def hint(name: str | None, lang: str = "en") -> str:
    """A ' (did you mean X?)' suffix in `lang`, or an empty string when there is no candidate."""
    return text("hint", lang, name=name) if name else ""


class Keyed(Protocol):
    """What `shown_message` reads of a problem (`bip_engine.errors.Problem`)."""

    key: str | None
    args: dict[str, Any]
    message: str


def shown_message(item: Keyed, lang: str) -> str:
    """The problem's message in `lang`: from the catalogue when it has a key, else as written."""
    if item.key and item.key in MESSAGES:
        return text(item.key, lang, **localised(item.args, lang))
    return item.message


def localised(args: dict, lang: str) -> dict:
    """Arguments with a nested hint (`hint_name`) rendered in `lang`."""
    if "hint_name" in args:
        return {**args, "hint": hint(args["hint_name"], lang)}
    return args


def translate(message: str, lang: str) -> str:
    """A message without arguments, given in English, in `lang` (unchanged when it is not in the catalogue)."""
    for templates in MESSAGES.values():
        if templates["en"] == message and "{" not in message:
            return templates.get(lang, message)
    return message
