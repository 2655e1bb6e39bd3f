"""Staircase narratives in the caseworker's notes, found by meaning rather than by substrings.

Policy staff write the patterns in `staircase.yaml` in a small pattern language over words, their
lemmas and their order (see docs/reference/rules.md, "Staircase patterns"):

- `klar` — any form of the lemma the word belongs to in the file's word table (`words:`): `kan`
  finds kan, kunne and kunnet; a word the table does not know finds only itself;
- `=klar` — exactly this form (`=klar` does not find "klart", it is clear);
- `a|b|=c` — one of these; `@name` — one of the words of the set `name` (`sets:`);
- `[helt]` — optional (several words may stand inside: `[på en]`);
- `...` — a gap of up to four other words (`...2`: up to two);
- `{ikke kan}` — these words in any order, with at most two other words among them, so that
  "ikke kan", "kan ikke" and "kan han ikke" are all found.

A pattern is matched within one sentence of the notes. Each entry may list `unless` patterns: a
match that shares a word with a match of one of them is not counted ("ikke klar" in "ikke klar over
sine muligheder"). A match remembers the words of the note it spans, so the flag can quote them.

This module has no dependencies; it is imported only when a record has notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import permutations
from typing import Any

from .models import Data, data_class

#: The largest gap `...` allows when it gives no number.
DEFAULT_GAP = 4
#: The most other words an any-order group `{...}` may have among its own words.
GROUP_SLACK = 2

_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\s*[\r\n]+\s*(?=[-•*]\s)")
_GAP = re.compile(r"^(?:\.\.\.|…)(\d*)$")
_ATOM = re.compile(r"^(=?[\w'’-]+|@[\w-]+)$")


class PatternError(ValueError):
    """A pattern that cannot be read; `key` names the message, `args` its arguments."""

    def __init__(self, key: str, **args: str) -> None:
        super().__init__(key)
        self.key = key
        self.args_: dict[str, Any] = dict(args)


# --- The parsed pattern -------------------------------------------------------------------------


@data_class(frozen=True)
class Atom(Data):
    """One word position: alternatives, each a lemma (`klar`), an exact form (`=klar`) or a set (`@x`)."""

    options: tuple[str, ...]


@data_class(frozen=True)
class Gap(Data):
    """Up to `most` other words."""

    most: int


@data_class(frozen=True)
class Optional(Data):
    """A part that may be missing."""

    items: tuple[Element, ...]


@data_class(frozen=True)
class Group(Data):
    """Words in any order, with at most GROUP_SLACK other words among them."""

    atoms: tuple[Atom, ...]


Element = Atom | Gap | Optional | Group


def parse(pattern: str) -> tuple[Element, ...]:
    """The elements of `pattern`; raise `PatternError` when it cannot be read."""
    tokens = re.findall(r"[\[\]{}]|[^\s\[\]{}]+", pattern)
    if not tokens:
        raise PatternError("C003.empty")
    elements, rest = _parse_sequence(tokens, None)
    if rest:
        raise PatternError("C003.unopened", bracket=rest[0])
    _check_gaps(elements, edge=True)
    return elements


def _parse_sequence(tokens: list[str], closing: str | None) -> tuple[tuple[Element, ...], list[str]]:
    elements: list[Element] = []
    while tokens:
        token = tokens.pop(0)
        if token in ("]", "}"):
            if token != closing:
                raise PatternError("C003.unopened", bracket=token)
            return tuple(elements), tokens
        if token == "[":
            inner, tokens = _parse_sequence(tokens, "]")
            if not inner:
                raise PatternError("C003.empty_brackets", bracket="[]")
            _check_gaps(inner, edge=True)
            elements.append(Optional(inner))
        elif token == "{":
            inner, tokens = _parse_sequence(tokens, "}")
            if len(inner) < 2 or not all(isinstance(item, Atom) for item in inner):
                raise PatternError("C003.group")
            elements.append(Group(tuple(item for item in inner if isinstance(item, Atom))))
        elif gap := _GAP.match(token):
            elements.append(Gap(int(gap.group(1)) if gap.group(1) else DEFAULT_GAP))
        else:
            elements.append(_atom(token))
    if closing:
        raise PatternError("C003.unclosed", bracket="[" if closing == "]" else "{")
    return tuple(elements), []


def _atom(token: str) -> Atom:
    options = tuple(token.casefold().split("|"))
    for option in options:
        if not _ATOM.match(option):
            raise PatternError("C003.word", word=option or "|")
    return Atom(options)


def _check_gaps(elements: Sequence[Element], edge: bool) -> None:
    if edge and elements and (isinstance(elements[0], Gap) or isinstance(elements[-1], Gap)):
        raise PatternError("C003.gap_edge")
    if all(isinstance(item, (Gap, Optional)) for item in elements):
        raise PatternError("C003.no_word")


def set_names(elements: Iterable[Element]) -> Iterator[str]:
    """The set names (`@name`) a parsed pattern uses."""
    for element in elements:
        if isinstance(element, Atom):
            yield from (option[1:] for option in element.options if option.startswith("@"))
        elif isinstance(element, Optional):
            yield from set_names(element.items)
        elif isinstance(element, Group):
            yield from set_names(element.atoms)


# --- Matching -----------------------------------------------------------------------------------


@data_class(frozen=True)
class Token(Data):
    """One word of a sentence: its text folded to lower case and where it stands in the sentence."""

    word: str
    start: int
    end: int


@data_class(frozen=True)
class Match(Data):
    """One place a pattern was found: the pattern's name, the note's own words and their sentence."""

    pattern: str
    words: str
    sentence: str


class Lexicon:
    """The word table: which lemmas each form belongs to (a word the table does not know is its own lemma)."""

    def __init__(self, entries: Iterable[str], sets: dict[str, Sequence[str]]):
        self.lemmas: dict[str, set[str]] = {}
        for entry in entries:
            lemma, *forms = entry.casefold().split()
            for form in (lemma, *forms):
                self.lemmas.setdefault(form, set()).add(lemma)
        self.sets = {name: tuple(word.casefold() for word in words) for name, words in sets.items()}
        self._compiled: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]] = {}

    def lemmas_of(self, word: str) -> set[str]:
        """The lemmas `word` may be a form of."""
        return self.lemmas.get(word) or {word}

    def accepts_any(self, options: tuple[str, ...], word: str) -> bool:
        """Whether one of the pattern options (`lemma`, `=form` or `@set`) accepts the sentence word."""
        forms, lemmas = self.compiled(options)
        return word in forms or not lemmas.isdisjoint(self.lemmas_of(word))

    def compiled(self, options: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
        """The exact forms and the lemmas that the options accept, with sets expanded (remembered)."""
        if options not in self._compiled:
            forms: set[str] = set()
            lemmas: set[str] = set()
            pending, seen = list(options), set()
            while pending:
                option = pending.pop()
                if option in seen:
                    continue
                seen.add(option)
                if option.startswith("="):
                    forms.add(option[1:])
                elif option.startswith("@"):
                    pending.extend(self.sets.get(option[1:], ()))
                else:
                    lemmas.update(self.lemmas_of(option))
            self._compiled[options] = (frozenset(forms), frozenset(lemmas))
        return self._compiled[options]


class Pattern:
    """A compiled staircase pattern with its `unless` patterns."""

    def __init__(self, name: str, text: str, unless: Sequence[str], lexicon: Lexicon):
        self.name = name
        self.elements = parse(text)
        self.unless = [parse(item) for item in unless]
        self.lexicon = lexicon

    def spans(self, sentence: Words) -> list[tuple[int, int]]:
        """The (first, last) word positions of each match in a sentence, not overlapped by an `unless`."""
        found = _spans(self.elements, sentence, self.lexicon)
        if not found:
            return []
        blocked = [span for elements in self.unless for span in _spans(elements, sentence, self.lexicon)]
        return [span for span in found if not any(s <= span[1] and span[0] <= e for s, e in blocked)]


@data_class(frozen=True)
class Words(Data):
    """A sentence's words (folded) with the set of its words and of their lemmas, made once per sentence."""

    words: tuple[str, ...]
    present: frozenset[str]
    lemmas: frozenset[str]

    @classmethod
    def of(cls, tokens: Sequence[Token], lexicon: Lexicon) -> Words:
        """The words of these tokens."""
        words = tuple(token.word for token in tokens)
        present = frozenset(words)
        return cls(words, present, frozenset(lemma for word in present for lemma in lexicon.lemmas_of(word)))


def _spans(elements: tuple[Element, ...], sentence: Words, lexicon: Lexicon) -> list[tuple[int, int]]:
    """The shortest match starting at each word, as (first, last) positions; matches may overlap."""
    for atom in _required(elements):
        forms, wanted = lexicon.compiled(atom.options)
        if sentence.present.isdisjoint(forms) and sentence.lemmas.isdisjoint(wanted):
            return []  # a word the pattern cannot do without is not in the sentence
    words = sentence.words
    memo: dict[tuple[int, int, int], frozenset[int]] = {}
    spans = []
    for start in range(len(words)):
        ends = {end for end in _ends(elements, 0, start, words, lexicon, memo) if end >= 0}
        if ends:
            spans.append((start, min(ends)))
    return spans


def _required(elements: tuple[Element, ...]) -> Iterator[Atom]:
    """The atoms every match must contain (those outside optional parts)."""
    for element in elements:
        if isinstance(element, Atom):
            yield element
        elif isinstance(element, Group):
            yield from element.atoms


def _ends(
    elements: tuple[Element, ...],
    index: int,
    position: int,
    words: Sequence[str],
    lexicon: Lexicon,
    memo: dict[tuple[int, int, int], frozenset[int]],
) -> frozenset[int]:
    """The positions of the last word matched when `elements[index:]` matches from `position` on
    (-1: matched, without a word of its own). Remembered per sentence, so that gaps stay cheap."""
    key = (id(elements), index, position)
    if key not in memo:
        memo[key] = frozenset(_ends_uncached(elements, index, position, words, lexicon, memo))
    return memo[key]


def _ends_uncached(
    elements: tuple[Element, ...],
    index: int,
    position: int,
    words: Sequence[str],
    lexicon: Lexicon,
    memo: dict[tuple[int, int, int], frozenset[int]],
) -> Iterator[int]:
    if index == len(elements):
        yield -1
        return
    element = elements[index]

    def then(last: int) -> Iterator[int]:  # the rest of the elements, after a word matched at `last`
        for end in _ends(elements, index + 1, last + 1, words, lexicon, memo):
            yield last if end < 0 else end

    if isinstance(element, Atom):
        if position < len(words) and lexicon.accepts_any(element.options, words[position]):
            yield from then(position)
    elif isinstance(element, Gap):
        for skip in range(element.most + 1):
            if position + skip <= len(words):
                yield from _ends(elements, index + 1, position + skip, words, lexicon, memo)
    elif isinstance(element, Optional):
        for inner in _ends(element.items, 0, position, words, lexicon, memo):
            if inner >= 0:
                yield from then(inner)
        yield from _ends(elements, index + 1, position, words, lexicon, memo)
    else:
        for order in permutations(element.atoms):
            for last in _in_order(order, position, GROUP_SLACK, words, lexicon, first=True):
                yield from then(last)


def _in_order(
    atoms: tuple[Atom, ...], position: int, slack: int, words: Sequence[str], lexicon: Lexicon, first: bool
) -> Iterator[int]:
    """The last position of each way the atoms stand in this order from `position` on, with at
    most `slack` other words among them."""
    if not atoms:
        yield position - 1
        return
    for skip in range(1 if first else slack + 1):
        at = position + skip
        if at < len(words) and lexicon.accepts_any(atoms[0].options, words[at]):
            yield from _in_order(atoms[1:], at + 1, slack - skip, words, lexicon, first=False)


# --- Notes --------------------------------------------------------------------------------------


def sentences(notes: str) -> list[str]:
    """The notes split into sentences (at . ! ? followed by space, blank lines and bullet lines)."""
    return [" ".join(part.split()) for part in _SENTENCE_END.split(notes) if part and part.strip()]


def tokenize(sentence: str) -> list[Token]:
    """The words of a sentence, folded to lower case, with where each stands; punctuation is left out."""
    return [Token(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(sentence)]


class Matcher:
    """All patterns of a rulebook with their word table; `find` looks for them in notes."""

    def __init__(self, patterns: Sequence[Pattern]):
        self.patterns = list(patterns)
        self._last: tuple[str, tuple[Match, ...]] = ("", ())

    def find(self, notes: str | None) -> list[Match]:
        """The matches in `notes`, in note order (pattern order within a sentence): for each pattern
        name, the first place in each sentence where one of its patterns is found.

        The matches of the last notes looked at are kept: a check looks at a record's notes twice,
        for the facts and again for the flag's evidence, and finds them once.
        """
        if not notes or not self.patterns:
            return []
        last_notes, last_found = self._last  # one tuple, read and replaced whole: safe across threads
        if notes == last_notes:
            return list(last_found)
        found = self._find(notes)
        self._last = (notes, tuple(found))
        return found

    def __getstate__(self) -> dict[str, Any]:
        """The matcher without the last notes it looked at (a pickled rulebook carries no citizen's notes)."""
        return {**self.__dict__, "_last": ("", ())}

    def _find(self, notes: str) -> list[Match]:
        found = []
        for sentence in sentences(notes):
            tokens = tokenize(sentence)
            words = Words.of(tokens, self.patterns[0].lexicon)
            named: set[str] = set()
            for pattern in self.patterns:
                spans = pattern.spans(words)
                if spans and pattern.name not in named:  # one quote per pattern name and sentence
                    named.add(pattern.name)
                    first, last = spans[0]
                    found.append(Match(pattern.name, sentence[tokens[first].start : tokens[last].end], sentence))
        return found


def compile_matcher(entries: Iterable[tuple[str, str, Sequence[str]]], words: Iterable[str], sets: dict) -> Matcher:
    """A matcher for (name, pattern, unless) entries with the word table and the word sets."""
    lexicon = Lexicon(words, sets)
    return Matcher([Pattern(name, text, unless, lexicon) for name, text, unless in entries])
