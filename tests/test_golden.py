"""Golden reports: `bip check` on every bundled example, in every output format and both languages,
compared with the files in tests/golden/ byte for byte; a difference fails with a unified diff.

After an intended change of the reports, rewrite the files and review them with `git diff`:

    python -m pytest tests/test_golden.py --update-golden

The formats and languages are read from the command's own options, so a new format gets golden files
(and fails until they are written). The check date and the executor are fixed, so the files do not
depend on the day or on the Python version.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bip_engine import cli
from tests.conftest import AS_OF, ROOT

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SUFFIX = {"text": "txt", "markdown": "md", "json": "json"}


def choices(option: str) -> list[str]:
    """The values `bip check` accepts for `option` (its parameter name)."""
    (param,) = [param for param in cli.check.params if param.name == option]
    assert isinstance(param.type, click.Choice)
    return [str(choice) for choice in param.type.choices]


FORMATS = choices("fmt")
LANGUAGES = choices("lang")
CASES = [(example, fmt, lang) for example in EXAMPLES for fmt in FORMATS for lang in LANGUAGES]


def golden_name(example: Path, fmt: str, lang: str) -> str:
    """The golden file of one case, e.g. `stilstand.en.md` or `stilstand.da.citizen.txt`."""
    return f"{example.stem}.{lang}.{SUFFIX.get(fmt, f'{fmt}.txt')}"


def report(example: Path, fmt: str, lang: str) -> str:
    """What `bip check` prints for the case."""
    args = ["check", str(example), "--as-of", AS_OF.isoformat(), "--lang", lang, "--format", fmt, "--engine", "python"]
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("example", "fmt", "lang"), CASES, ids=[golden_name(example, fmt, lang) for example, fmt, lang in CASES]
)
def test_the_report_is_the_golden_one(request, example, fmt, lang):
    path = GOLDEN / golden_name(example, fmt, lang)
    actual = report(example, fmt, lang)
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    if not path.exists():
        pytest.fail(f"{path.name} is missing: write it with `python -m pytest {__file__} --update-golden`")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"tests/golden/{path.name}",
            tofile="bip check (now)",
        )
        pytest.fail(
            "".join(diff) + "\nIf the change is intended: python -m pytest tests/test_golden.py --update-golden",
            pytrace=False,
        )


def test_every_golden_file_belongs_to_a_case(request):
    wanted = {golden_name(example, fmt, lang) for example, fmt, lang in CASES}
    stale = sorted(path.name for path in GOLDEN.iterdir() if path.name not in wanted)
    if request.config.getoption("--update-golden"):
        for name in stale:
            (GOLDEN / name).unlink()
        return
    assert stale == [], "golden files of no case: remove them (--update-golden does)"


def test_the_cases_cover_every_example_format_and_language():
    assert len(EXAMPLES) >= 5 and {"text", "markdown", "json", "citizen"} <= set(FORMATS)
    assert set(LANGUAGES) == {"da", "en"}
    assert len({golden_name(*case) for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("example", "lang"), [(example, lang) for example in EXAMPLES for lang in LANGUAGES])
def test_the_text_report_names_every_piece_of_evidence_in_words(example, lang):
    """A caseworker reads the evidence as words: no fact id, and no raw field names of a structured value."""
    data = json.loads(report(example, "json", lang))
    keys = {key for flag in data["flags"] for key in flag["evidence"]}
    keys |= set((data["phase"] or {}).get("evidence") or {})
    text = report(example, "text", lang)
    shown = sorted(key for key in keys if re.search(rf"(?:^|[;:]\s+|\s{{2,}}){re.escape(key)} =", text, re.M))
    assert shown == [], f"the {lang} text report shows fact ids: {shown}"
    for field in ("pattern:", "sentence:", "words:"):
        assert field not in text, f"the {lang} text report shows the field name {field!r}"
