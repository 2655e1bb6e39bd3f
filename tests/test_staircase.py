"""Staircase language: whole words, Danish inflection where the phrase file allows it, and the sentence shown."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.catalogue import StaircasePhrase
from bip_engine.facts import find_staircase
from tests.conftest import record

RAISE = [
    "Borgeren er ikke klar til praktik.",
    "Vurderes IKKE KLAR til\njobrettede tilbud.",
    "De er ikke klare til at starte.",
    "Borgeren er ikke mødestabil endnu.",
    "Skal være mødestabil, før praktik kan komme på tale.",
    "Har brug for ro efter flytningen.",
    "Tænkt i en trappemodel: først behandling.",
    "Borgeren er for dårlig til at deltage.",
]
NOT_RAISE = [
    "Borgeren er ikke klar over sine muligheder.",
    "Borgeren er blevet mødestabil.",
    "Er nu mødestabil og møder hver dag.",
    "Hun har ikke klaret det endnu, men vil gerne.",
    "Borgeren ikke klarede opgaven.",
    "Aftalt praktik i Netto, borgeren glæder sig.",
    "Hun mødestabiliserede sig hurtigt.",
]


def flag_of(checker, notes):
    report = checker.check(record([3, 3, 3], notes=notes), lang="da")
    return next((flag for flag in report.flags if flag.id == "staircase_language"), None)


@pytest.mark.parametrize("notes", RAISE)
def test_staircase_phrases_raise_the_flag_with_the_sentence(python_checker, notes):
    filler = random.Random(notes).choice(["Mødet gik fint.", "Vi aftalte et nyt møde.", ""])
    flag = flag_of(python_checker, f"{filler} {notes} Næste skridt aftales.")
    assert flag is not None, notes
    assert flag.evidence["staircase_sentences"] == [" ".join(notes.split())]
    assert " ".join(notes.split()) in flag.message


@pytest.mark.parametrize("notes", NOT_RAISE)
def test_similar_wording_does_not_raise_the_flag(python_checker, notes):
    assert flag_of(python_checker, notes) is None, notes


def test_only_the_sentences_with_a_phrase_are_shown(python_checker):
    notes = "Mødet gik fint. Borgeren er ikke klar over sine muligheder. Har brug for ro nu! Ses i maj."
    flag = flag_of(python_checker, notes)
    assert flag.evidence["staircase_sentences"] == ["Har brug for ro nu!"]


def test_inflection_only_where_the_phrase_file_says_so():
    plain = [StaircasePhrase(phrase="først bolig")]
    inflected = [StaircasePhrase(phrase="først bolig", inflect=True)]
    assert find_staircase("Planen er først boligen.", plain) == []
    assert find_staircase("Planen er først boligen.", inflected) == [("først bolig", "Planen er først boligen.")]
    assert find_staircase("Planen er førstbolig.", inflected) == []


def test_exceptions_before_and_after_the_phrase():
    phrase = [
        StaircasePhrase(phrase="ikke klar", not_followed_by=("over", "til tiden")),
        StaircasePhrase(phrase="mødestabil", not_preceded_by=("er blevet",)),
    ]
    assert find_staircase("ikke klar over det", phrase) == []
    assert find_staircase("ikke klar til tiden", phrase) == []
    assert find_staircase("ikke klar til job", phrase) == [("ikke klar", "ikke klar til job")]
    assert find_staircase("hun er blevet mødestabil", phrase) == []
    assert find_staircase("hun er ikke mødestabil", phrase) == [("mødestabil", "hun er ikke mødestabil")]


def test_a_local_phrase_file_with_options(tmp_path, rules_copy):
    (rules_copy / "staircase.yaml").write_text(
        "phrases:\n  - phrase: skal lige falde til ro\n    inflect: true\n  - først job\n", encoding="utf-8"
    )
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record([3, 3, 3], notes="Skal lige falde til ro. Først jobbet.")), encoding="utf-8")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            str(path),
            "--rules",
            str(rules_copy),
            "--engine",
            "python",
            "--format",
            "json",
            "--as-of",
            "2026-11-22",
        ],
    )
    assert result.exit_code == 0, result.output
    flags = {flag["id"]: flag for flag in json.loads(result.stdout)["flags"]}
    assert flags["staircase_language"]["evidence"]["staircase_sentences"] == ["Skal lige falde til ro."]
