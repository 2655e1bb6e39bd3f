"""Precision and recall of the staircase patterns on the sentence corpus of the tests.

    python benchmarks/staircase_corpus.py [RULES_FOLDER] [--misses]

Reads tests/data/staircase_corpus.yaml (each sentence with its expected label, kind and why), runs
the rulebook's staircase patterns (rules/ by default) over each sentence and prints, per kind and in
all, how many sentences there are, how many were flagged, true and false positives and negatives,
precision and recall; `--misses` lists the sentences labelled wrongly. tests/test_staircase.py holds
the same numbers to its thresholds.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bip_engine import load_rulebook

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "staircase_corpus.yaml"


@dataclass
class Outcome:
    """One corpus sentence, its expected label and whether the patterns found a narrative in it."""

    text: str
    kind: str
    expected: bool
    found: bool
    why: str


@dataclass
class Score:
    """Counts and rates for a group of sentences."""

    sentences: int
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float | None:
        """Flagged sentences that are narratives, of all flagged (None when none was flagged)."""
        flagged = self.true_pos + self.false_pos
        return self.true_pos / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        """Narratives flagged, of all narratives (None when the group has none)."""
        narratives = self.true_pos + self.false_neg
        return self.true_pos / narratives if narratives else None


def outcomes(rules: Path = ROOT / "rules", corpus: Path = CORPUS) -> list[Outcome]:
    """Every corpus sentence with what the staircase patterns of `rules` found."""
    matcher = load_rulebook(rules).catalogue.staircase_matcher()
    entries = yaml.safe_load(corpus.read_text(encoding="utf-8"))["sentences"]
    return [
        Outcome(item["text"], item["kind"], bool(item["staircase"]), bool(matcher.find(item["text"])), item["why"])
        for item in entries
    ]


def score(results: list[Outcome]) -> Score:
    """The counts for these outcomes."""
    return Score(
        sentences=len(results),
        true_pos=sum(r.expected and r.found for r in results),
        false_pos=sum(not r.expected and r.found for r in results),
        false_neg=sum(r.expected and not r.found for r in results),
        true_neg=sum(not r.expected and not r.found for r in results),
    )


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(results: list[Outcome]) -> str:
    """The table of counts and rates per kind and in all, as Markdown."""
    kinds = list(dict.fromkeys(r.kind for r in results))
    lines = [
        "| kind | sentences | narratives | flagged | TP | FP | FN | TN | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, group in [*((kind, [r for r in results if r.kind == kind]) for kind in kinds), ("all", results)]:
        s = score(group)
        lines.append(
            f"| {name} | {s.sentences} | {s.true_pos + s.false_neg} | {s.true_pos + s.false_pos} | {s.true_pos} | "
            f"{s.false_pos} | {s.false_neg} | {s.true_neg} | {_rate(s.precision)} | {_rate(s.recall)} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Print the table (and, with --misses, the sentences labelled wrongly)."""
    folders = [arg for arg in argv if not arg.startswith("--")]
    results = outcomes(Path(folders[0]) if folders else ROOT / "rules")
    print(table(results))
    if "--misses" in argv:
        for r in results:
            if r.expected != r.found:
                print(f"{'missed' if r.expected else 'false alarm'}: {r.text}  ({r.kind}: {r.why})")


if __name__ == "__main__":
    main(sys.argv[1:])
