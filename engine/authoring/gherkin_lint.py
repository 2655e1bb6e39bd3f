"""A lint for Danish feature files: the Gherkin mistakes that would silently skip checks.

Gherkin is forgiving in a dangerous way: a misspelt keyword ("Givett", "Saa", "Scenario:") is not
an error but *description text*, so the step or the whole scenario quietly disappears and the test
run is green without checking anything. `lint_feature_text` finds those mistakes before the run.

Codes:

- G001 the file does not start with ``# language: da``
- G002 a line inside a scenario or background that is not a step (a misspelt step keyword)
- G003 ``Scenarieskabelon`` is not a Danish keyword (use ``Abstrakt Scenario`` with ``Eksempler``)
- G004 a scenario with no ``Så`` step checks nothing
- G005 a feature with no scenarios
- G006 a misspelt, lower-case or English block keyword (``Scenario:``, ``Egenskap:``, ``scenarie:``)
- G007 a step before any scenario or background: Gherkin reads it as description and never runs it
- G008 two scenarios with the same name in one file: only the last one runs
- G009 a scenario whose first step starts with Og, Men or ``*`` instead of Givet, Når or Så
- G010 any other line Gherkin cannot read
- G011 no feature files in the folder
- G012 the file cannot be read as UTF-8 text
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Problem, problem

LANGUAGE = "da"
LANGUAGE_RE = re.compile(r"^\s*#\s*language\s*:\s*([a-zA-Z\-_]+)\s*$")
#: Danish Gherkin keywords (gherkin-languages.json, "da").
FEATURE_KEYWORDS = ("Egenskab",)
BACKGROUND_KEYWORDS = ("Baggrund",)
SCENARIO_KEYWORDS = ("Scenarie", "Eksempel")
OUTLINE_KEYWORDS = ("Abstrakt Scenario",)
EXAMPLES_KEYWORDS = ("Eksempler",)
RULE_KEYWORDS = ("Regel",)
STEP_KEYWORDS = ("Givet", "Når", "Så", "Og", "Men", "*")
FIRST_STEP_KEYWORDS = ("Givet", "Når", "Så")
BLOCK_KEYWORDS = (
    FEATURE_KEYWORDS + BACKGROUND_KEYWORDS + SCENARIO_KEYWORDS + OUTLINE_KEYWORDS + EXAMPLES_KEYWORDS + RULE_KEYWORDS
)
#: English (and Norwegian/Swedish look-alike) keywords people type by habit, with the Danish one.
FOREIGN = {
    "feature": "Egenskab",
    "egenskap": "Egenskab",
    "background": "Baggrund",
    "bakgrunn": "Baggrund",
    "scenario": "Scenarie",
    "example": "Eksempel",
    "scenario outline": "Abstrakt Scenario",
    "scenario template": "Abstrakt Scenario",
    "abstrakt scenarie": "Abstrakt Scenario",
    "examples": "Eksempler",
    "rule": "Regel",
    "given": "Givet",
    "gitt": "Givet",
    "when": "Når",
    "then": "Så",
    "and": "Og",
    "but": "Men",
}
TEMPLATE_RE = re.compile(r"^scenarie\s*-?\s*skabelon", re.IGNORECASE)
_BLOCK_WORDS = "|".join(re.escape(k) for k in sorted(BLOCK_KEYWORDS, key=len, reverse=True))
BLOCK_RE = re.compile(rf"^({_BLOCK_WORDS}):")
HEAD_RE = re.compile(r"^([^:\"'|@#]{2,40}):")


def _fold(word: str) -> str:
    """Case-folded, with æ ø å written the ASCII way (Saa = Så, Naar = Når)."""
    return word.casefold().replace("å", "aa").replace("æ", "ae").replace("ø", "oe")


def _closest(word: str, keywords: tuple[str, ...], cutoff: float) -> str | None:
    """The keyword `word` was probably meant to be, or None."""
    foreign = FOREIGN.get(word.casefold())
    if foreign in keywords:
        return foreign
    folded = {_fold(keyword): keyword for keyword in keywords}
    close = difflib.get_close_matches(_fold(word), list(folded), n=1, cutoff=cutoff)
    return folded[close[0]] if close else None


def _step_keyword(stripped: str) -> str | None:
    for keyword in STEP_KEYWORDS:
        if stripped.startswith(keyword + " "):
            return keyword
    return None


def _block_keyword(stripped: str) -> str | None:
    match = BLOCK_RE.match(stripped)
    return match.group(1) if match else None


@dataclass
class _Block:
    kind: str  # background, scenario, outline, invalid
    name: str
    line: int
    steps: list[str] = field(default_factory=list)


class _Linter:
    def __init__(self, text: str, path: str):
        self.text = text
        self.lines = text.splitlines()
        self.path = path
        self.problems: list[Problem] = []
        self.flagged: set[int] = set()
        self.block: _Block | None = None
        self.state = "start"  # start, feature, steps, examples
        self.scenario_names: dict[str, int] = {}
        self.scenario_count = 0
        self.feature_line: int | None = None

    def add(self, key: str, line: int, **args: Any) -> None:
        self.problems.append(problem(key, self.path, line, **args))
        self.flagged.add(line)

    def run(self) -> list[Problem]:
        self.check_language()
        docstring: str | None = None
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.strip()
            if docstring:
                if stripped.startswith(docstring):
                    docstring = None
                continue
            if not stripped or stripped.startswith("#") or stripped.startswith("@"):
                continue
            if stripped.startswith('"""') or stripped.startswith("```"):
                docstring = stripped[:3]
                continue
            if stripped.startswith("|"):
                continue
            self.line(number, stripped)
        self.close_block()
        if self.feature_line is None:
            self.add("G005.no_feature", 1)
        elif self.scenario_count == 0:
            self.add("G005.no_scenarios", self.feature_line)
        self.check_parse()
        return sorted(self.problems, key=lambda p: (p.line or 0, p.code))

    def check_language(self) -> None:
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.strip()
            match = LANGUAGE_RE.match(raw)
            if match:
                if match.group(1) != LANGUAGE:
                    self.add("G001.language", number, given=match.group(1))
                return
            if stripped and not stripped.startswith("#"):
                break
        self.add("G001.missing", 1)

    def line(self, number: int, stripped: str) -> None:
        if TEMPLATE_RE.match(stripped):
            self.add("G003", number)
            self.open_block("invalid", stripped, number)
            return
        keyword = _block_keyword(stripped)
        if keyword is None:
            keyword = self.misspelt_block(number, stripped)
        if keyword is not None:
            self.block_line(number, keyword, stripped)
            return
        step = _step_keyword(stripped)
        if self.state in ("start", "feature"):
            if step is not None:
                self.add("G007", number, text=stripped)
            return
        if step is not None and self.state == "examples":
            self.add("G002.after_examples", number, text=stripped)
            return
        if step is not None and self.state == "steps":
            assert self.block is not None, "the steps state is entered with a block"
            self.block.steps.append(step)
            if len(self.block.steps) == 1 and step not in FIRST_STEP_KEYWORDS and self.block.kind != "invalid":
                self.add("G009", number, step=step)
            return
        self.not_a_step(number, stripped)

    def misspelt_block(self, number: int, stripped: str) -> str | None:
        match = HEAD_RE.match(stripped)
        if not match:
            return None
        head = match.group(1).strip()
        if self.state in ("start", "feature") and head[:1].islower() and head.casefold() not in FOREIGN:
            return None  # ordinary prose in a description ("eksempel: ...")
        keyword = _closest(head, BLOCK_KEYWORDS, cutoff=0.75)
        if keyword is None:
            return None
        self.add("G006", number, head=head, keyword=keyword)
        return keyword

    def not_a_step(self, number: int, stripped: str) -> None:
        first = stripped.split()[0].rstrip(":,.;")
        keyword = _closest(first, STEP_KEYWORDS[:-1], cutoff=0.6) if first else None
        where = "examples" if self.state == "examples" else "scenario"
        if keyword:
            self.add(f"G002.not_step.{where}", number, text=stripped, hint_name=keyword)
        else:
            self.add(f"G002.no_step.{where}", number, text=stripped)

    def block_line(self, number: int, keyword: str, stripped: str) -> None:
        name = stripped.split(":", 1)[1].strip() if ":" in stripped else ""
        if keyword in FEATURE_KEYWORDS:
            self.close_block()
            if self.feature_line is not None:
                self.add("G010.second_feature", number, first=self.feature_line)
            self.feature_line = self.feature_line or number
            self.state = "feature"
        elif keyword in RULE_KEYWORDS:
            self.close_block()
            self.state = "feature"
        elif keyword in BACKGROUND_KEYWORDS:
            self.open_block("background", name, number)
        elif keyword in EXAMPLES_KEYWORDS:
            self.state = "examples"
        else:
            self.open_block("outline" if keyword in OUTLINE_KEYWORDS else "scenario", name, number)

    def open_block(self, kind: str, name: str, number: int) -> None:
        self.close_block()
        self.block = _Block(kind, name, number)
        self.state = "steps"
        if kind in ("scenario", "outline"):
            self.scenario_count += 1
            if name in self.scenario_names:
                self.add("G008", number, name=name, first=self.scenario_names[name])
            self.scenario_names[name] = number

    def close_block(self) -> None:
        block, self.block = self.block, None
        if block is None or block.kind not in ("scenario", "outline"):
            return
        if "Så" not in block.steps:
            self.add("G004", block.line, name=block.name)

    def check_parse(self) -> None:
        """Anything else the Gherkin parser refuses (when the gherkin package is installed)."""
        if any(problem.code == "G001" for problem in self.problems):
            return
        try:
            from gherkin.errors import CompositeParserException, ParserException
            from gherkin.parser import Parser
        except ImportError:
            return
        try:
            Parser().parse(self.text)
            return
        except CompositeParserException as exc:
            errors = list(exc.errors)
        except ParserException as exc:
            errors = [exc]
        for error in errors:
            location = getattr(error, "location", None) or {}
            line = location.get("line") if isinstance(location, dict) else None
            if line in self.flagged or (self.feature_line is None and "unexpected end of file" in str(error)):
                continue
            message = re.sub(r"^\(\d+:\d+\):\s*", "", str(error))
            self.add("G010.parser", line or 1, detail=message)


def lint_feature_text(text: str, path: str = "<feature>") -> list[Problem]:
    """Every silent Gherkin mistake in the text of one feature file, in line order."""
    return _Linter(text, path).run()


def lint_features(folder: str | Path) -> list[Problem]:
    """Lint every ``*.feature`` file in `folder` and its subfolders."""
    folder = Path(folder)
    files = sorted(folder.rglob("*.feature")) if folder.is_dir() else []
    if not files:
        return [problem("G011", str(folder))]
    problems: list[Problem] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(problem("G012", str(path), reason=str(exc)))
            continue
        problems.extend(lint_feature_text(text, str(path)))
    return problems
