"""Staircase narratives found by meaning: words, lemmas and word order; the corpus; the quoted words.

The corpus (tests/data/staircase_corpus.yaml) holds every seed narrative verbatim, variations of them,
the ordinary Danish issue 17 saw wrongly flagged and more everyday sentences, each with its label and
why; benchmarks/staircase_corpus.py prints the same numbers as a table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from benchmarks.staircase_corpus import CORPUS, outcomes, score
from bip_engine import Checker, cli, durable_available
from bip_engine.authoring.validate import validate
from bip_engine.staircase import PatternError, compile_matcher, parse
from tests.conftest import ROOT, record

SENTENCES = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["sentences"]
SEEDS = [item["text"] for item in SENTENCES if item["kind"] == "seed"]
FALSE_ALARMS = [item["text"] for item in SENTENCES if item["kind"] == "false_alarm"]
#: Development sentences: written while the patterns were written (everything but the holdout).
DEVELOPMENT = ("seed", "variation", "false_alarm", "ordinary")

# Thresholds. Precision is held high everywhere: a flag that fires on ordinary Danish ("ikke klart",
# "kan ikke klare") is the defect of issue 17 and teaches caseworkers to ignore the flag. On the
# development sentences recall must be near complete too (they are what the patterns were written
# for: a miss there is a pattern that broke). On the holdout, written after the patterns and never
# used to tune them, recall is what hand-written patterns reach on wording nobody foresaw: 3 of 15
# (the first holdout, before it was used to broaden the patterns: 5 of 15). Its floor is that
# measured value, so the test only guards against losing ground; the number is reported as it is.
DEVELOPMENT_PRECISION, DEVELOPMENT_RECALL = 0.95, 0.95
HOLDOUT_PRECISION, HOLDOUT_RECALL = 0.9, 0.2


def flag_of(checker, notes):
    report = checker.check(record([3, 3, 3], notes=notes), lang="da")
    return next((flag for flag in report.flags if flag.id == "staircase_language"), None)


# --- The corpus -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sentence", SEEDS)
def test_every_seed_narrative_raises_the_flag(python_checker, sentence):
    flag = flag_of(python_checker, f"Mødet gik fint. {sentence}")
    assert flag is not None, sentence
    matches = flag.evidence["staircase_matches"]
    assert matches and all(m["words"] in m["sentence"] in " ".join(sentence.split()) for m in matches), matches


@pytest.mark.parametrize("sentence", FALSE_ALARMS)
def test_ordinary_danish_from_issue_17_does_not_raise_the_flag(python_checker, sentence):
    assert flag_of(python_checker, sentence) is None, sentence


def test_precision_and_recall_on_the_corpus():
    results = outcomes()
    assert len(results) >= 100
    development = score([r for r in results if r.kind in DEVELOPMENT])
    holdout = score([r for r in results if r.kind == "holdout"])
    wrong = [r.text for r in results if r.expected != r.found and r.kind in DEVELOPMENT]
    assert development.precision >= DEVELOPMENT_PRECISION, wrong
    assert development.recall >= DEVELOPMENT_RECALL, wrong
    assert holdout.sentences >= 20
    assert holdout.precision >= HOLDOUT_PRECISION
    assert holdout.recall >= HOLDOUT_RECALL


def test_the_corpus_is_labelled_with_a_reason_and_a_known_kind():
    kinds = {*DEVELOPMENT, "holdout"}
    for item in SENTENCES:
        assert set(item) == {"text", "staircase", "kind", "why"}, item
        assert item["kind"] in kinds and isinstance(item["staircase"], bool) and item["why"], item
    texts = [item["text"] for item in SENTENCES]
    assert len(texts) == len(set(texts))


def test_the_benchmark_script_prints_the_table():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "staircase_corpus.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    assert {"seed", "false_alarm", "holdout", "all"} <= set(rows)
    assert f"| {len(SENTENCES)} |" in rows["all"]


# --- The flag quotes the note's own words and names the pattern --------------------------------------


def test_the_flag_quotes_the_notes_words_not_the_pattern(python_checker):
    flag = flag_of(python_checker, "Mødet gik fint. De er ikke klare til at starte. Ses i maj.")
    assert flag.evidence["staircase_matches"] == [
        {
            "pattern": "ikke klar / ikke motiveret",
            "words": "ikke klare",
            "sentence": "De er ikke klare til at starte.",
        }
    ]
    assert "»ikke klare«" in flag.message and "»ikke klar«" not in flag.message
    assert "De er ikke klare til at starte." in flag.message


def test_each_pattern_is_quoted_once_per_sentence_in_note_order(python_checker):
    notes = "Har brug for ro nu! Borgeren er ikke klar over sine muligheder.\n\nHun er IKKE KLAR til\npraktik."
    flag = flag_of(python_checker, notes)
    assert [(m["pattern"], m["words"]) for m in flag.evidence["staircase_matches"]] == [
        ("brug for ro", "brug for ro"),
        ("ikke klar / ikke motiveret", "IKKE KLAR"),
    ]


def test_english_report_quotes_the_same_words(python_checker):
    report = python_checker.check(
        record([3, 3, 3], notes="Hvis man ikke kan søge job, kan man ikke passe et job"), lang="en"
    )
    [flag] = [flag for flag in report.flags if flag.id == "staircase_language"]
    assert "»ikke kan søge job«" in flag.message


@pytest.mark.skipif(not durable_available(), reason="durable_rules cannot be loaded on this Python")
def test_both_executors_agree_on_the_corpus(rulebook):
    python, durable = Checker(rulebook, engine="python"), Checker(rulebook, engine="durable")
    notes = " ".join(item["text"].rstrip(".") + "." for item in SENTENCES[::7])
    for text in [notes, *(item["text"] for item in SENTENCES[::11])]:
        left, right = (c.check(record([3, 3, 3], notes=text), lang="da") for c in (python, durable))
        assert [f.model_dump() for f in left.flags] == [f.model_dump() for f in right.flags], text


def test_the_patterns_are_compiled_only_for_notes_or_for_the_cache(rulebook, monkeypatch, tmp_path):
    monkeypatch.setenv("BIP_CACHE_DIR", "")  # no cache: compiled when a record's notes need them
    checker = Checker(rulebook.path, engine="python")
    checker.check(record([3, 3, 3]), lang="da")
    assert checker.rulebook.catalogue._matcher is None
    checker.check(record([3, 3, 3], notes="Aftalt praktik."), lang="da")
    assert checker.rulebook.catalogue._matcher is not None
    monkeypatch.setenv("BIP_CACHE_DIR", str(tmp_path))  # a cache: compiled once, before the rulebook is kept
    Checker(rulebook.path, engine="python")
    from_cache = Checker(rulebook.path, engine="python")
    assert from_cache.rulebook.catalogue._matcher is not None


def test_a_check_reads_the_notes_once_and_pickles_no_notes(rulebook, monkeypatch):
    """The facts and the flag's evidence both need the patterns found in the notes: found once per check."""
    import pickle

    from bip_engine.staircase import Matcher

    checker = Checker(rulebook.path, engine="python")
    looked_at: list[str] = []
    find = Matcher._find
    monkeypatch.setattr(Matcher, "_find", lambda self, notes: looked_at.append(notes) or find(self, notes))
    notes = ["De er ikke klare til at starte.", "Har brug for ro nu.", "De er ikke klare til at starte."]
    flags = [flag_of(checker, text) for text in notes]
    assert looked_at == notes  # one search per check, each check's own notes
    assert [[m["words"] for m in flag.evidence["staircase_matches"]] for flag in flags] == [
        ["ikke klare"],
        ["brug for ro"],
        ["ikke klare"],
    ]
    matcher = checker.rulebook.catalogue.staircase_matcher()
    assert b"ikke klare" not in pickle.dumps(matcher)  # the kept notes stay out of a pickled rulebook


# --- The pattern language -------------------------------------------------------------------------

WORDS = ["kunne kan kunnet", "være er var været", "klar klare klart", "klare klarer klarede klaret"]


def finds(pattern: str, sentence: str, unless: tuple[str, ...] = (), sets: dict | None = None) -> list[str]:
    matcher = compile_matcher([("p", pattern, unless)], WORDS, sets or {})
    return [match.words for match in matcher.find(sentence)]


@pytest.mark.parametrize(
    "sentence, words",
    [
        ("Hvis man ikke kan søge job", "ikke kan søge"),
        ("Han kan ikke søge job", "kan ikke søge"),
        ("Så kan han ikke søge job", "kan han ikke søge"),
        ("Hun kunne ikke søge job", "kunne ikke søge"),
        ("Kan man så ikke søge", "Kan man så ikke søge"),
    ],
)
def test_an_any_order_group_finds_negation_and_inversion(sentence, words):
    assert finds("{ikke kan} søge", sentence) == [words]


def test_an_any_order_group_allows_only_two_words_among_its_own():
    assert finds("{ikke kan} søge", "Kan man så slet ikke søge") == []
    assert finds("{ikke kan} søge", "Ikke søge, kan han") == []


def test_a_lemma_finds_its_forms_and_an_exact_form_only_itself():
    assert finds("ikke klar", "De er ikke klare") == ["ikke klare"]
    assert finds("ikke klar", "Det er ikke klart") == ["ikke klart"]
    assert finds("ikke =klar|=klare", "Det er ikke klart") == []
    assert finds("er", "Det var godt") == ["var"]  # a form finds its lemma's other forms
    assert finds("søge", "Hun søgte job") == []  # a word the table does not know finds only itself


def test_gaps_optional_words_and_sets():
    assert finds("vente ... til", "venter med praktik nu til") == []  # "vente" is not in the table
    assert finds("ikke ... klar", "ikke helt og aldeles klar") == ["ikke helt og aldeles klar"]
    assert finds("ikke ...2 klar", "ikke helt og aldeles klar") == []
    assert finds("ikke [helt] klar", "ikke helt klar") == ["ikke helt klar"]
    assert finds("ikke [helt] klar", "ikke klar") == ["ikke klar"]
    assert finds("for @syg", "for dårlig", sets={"syg": ["=dårlig", "syg"]}) == ["for dårlig"]
    assert finds("for @syg", "for dårligt", sets={"syg": ["=dårlig", "syg"]}) == []


def test_an_unless_pattern_cancels_a_match_it_overlaps():
    assert finds("ikke klar", "ikke klar over det", unless=("klar over",)) == []
    assert finds("ikke klar", "ikke klar til job", unless=("klar over",)) == ["ikke klar"]
    assert finds("ikke klar", "Han kan ikke klare mere", unless=("{kan ikke} =klare",)) == []
    # an unless match elsewhere in the sentence does not cancel
    assert finds("ikke klar", "ikke klar til job, men klar over det", unless=("klar over",)) == ["ikke klar"]


@pytest.mark.parametrize(
    "pattern, key",
    [
        ("", "C003.empty"),
        ("ikke [klar", "C003.unclosed"),
        ("ikke klar]", "C003.unopened"),
        ("ikke [] klar", "C003.empty_brackets"),
        ("{ikke}", "C003.group"),
        ("{ikke [kan]}", "C003.group"),
        ("ikke kl@r", "C003.word"),
        ("ikke ||klar", "C003.word"),
        ("... klar", "C003.gap_edge"),
        ("[klar]", "C003.no_word"),
    ],
)
def test_patterns_that_cannot_be_read(pattern, key):
    with pytest.raises(PatternError) as info:
        parse(pattern)
    assert info.value.key == key


def test_validate_names_the_file_line_and_a_close_set(rules_copy):
    path = rules_copy / "staircase.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "phrases:\n", "phrases:\n  - phrase: ikke [helt klar\n  - phrase: skal først @tilstnd\n", 1
    )
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    line_of = {
        needle: lines.index(next(line for line in lines if line.startswith(f"  - phrase: {needle}"))) + 1
        for needle in ("ikke [helt", "skal først @tilstnd")
    }
    problems = [(Path(p.path).name, p.line, p.code, p.message) for p in validate(rules_copy).errors]
    assert ("staircase.yaml", line_of["ikke [helt"], "C003") in [p[:3] for p in problems]
    [unknown] = [p for p in problems if p[2] == "C004"]
    assert unknown[:2] == ("staircase.yaml", line_of["skal først @tilstnd"]) and "did you mean 'tilstand'" in unknown[3]


def test_rules_validate_exits_with_the_problem_and_no_traceback(rules_copy):
    path = rules_copy / "staircase.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("phrases:\n", "phrases:\n  - ikke {klar\n", 1), encoding="utf-8"
    )
    result = CliRunner().invoke(cli.main, ["rules", "validate", str(rules_copy)])
    assert result.exit_code not in (0, 1) and "Traceback" not in result.output
    assert "staircase.yaml:" in result.output and "C003" in result.output


def test_a_local_rulebook_adds_patterns_and_words(tmp_path):
    folder = tmp_path / "lokal"
    folder.mkdir()
    (folder / "rulebook.yaml").write_text("name: lokal\nversion: '1'\nextends: default\n", encoding="utf-8")
    (folder / "staircase.yaml").write_text(
        "phrases:\n  - phrase: skal lige falde til ro\n    name: falde til ro\n  - først @forudsætning\n"
        "words:\n  - falde falder faldt faldet\n",
        encoding="utf-8",
    )
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record([3, 3, 3], notes="Hun skal lige faldet til ro. Ses snart.")), encoding="utf-8")
    result = CliRunner().invoke(
        cli.main,
        ["check", str(path), "--rules", str(folder), "--engine", "python", "--format", "json", "--as-of", "2026-11-22"],
    )
    assert result.exit_code == 0, result.output
    flags = {flag["id"]: flag for flag in json.loads(result.stdout)["flags"]}
    assert flags["staircase_language"]["evidence"]["staircase_matches"] == [
        {"pattern": "falde til ro", "words": "skal lige faldet til ro", "sentence": "Hun skal lige faldet til ro."}
    ]


def test_an_unknown_option_of_a_pattern_names_the_line_and_the_option_meant(rules_copy):
    path = rules_copy / "staircase.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    name: brug for ro\n    unless:", "    name: brug for ro\n    unles:", 1
    )
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    unles:") + 1
    [problem] = validate(rules_copy).errors
    assert (Path(problem.path).name, problem.line, problem.code) == ("staircase.yaml", line, "S002")
    assert "did you mean 'unless'" in problem.message
