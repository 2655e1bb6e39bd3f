"""The citizen version: plain words, the citizen's own ratings, no rule ids, no caseworker scores."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bip_engine.caseload.simulate import generate_cohort
from bip_engine.cli import main
from tests.conftest import AS_OF, ROOT, record, scores

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def forbidden_words(rulebook) -> set[str]:
    """Everything internal: rule, flag and phase ids and labels, and every caseworker-rated indicator."""
    words = {rule.id for rule in rulebook.all_rules()} | set(rulebook.flag_ids) | set(rulebook.phases)
    words |= {label for phase in rulebook.phases.values() for label in (phase.label.da, phase.label.en)}
    for indicator in rulebook.catalogue.indicators.values():
        if indicator.rated_by == "caseworker":
            words |= {indicator.id, indicator.label.da, indicator.label.en}
    return words


def rating_rows(text: str) -> dict[str, list[int]]:
    rows = {}
    for line in text.splitlines():
        found = re.match(r"^  (\S.*?)\s{2,}((?:[1-5–] → )*[1-5–])$", line)
        if found:
            rows[found.group(1)] = [None if s == "–" else int(s) for s in found.group(2).split(" → ")]
    return rows


@pytest.mark.parametrize("lang", ["da", "en"])
def test_no_rule_ids_no_caseworker_scores(checker, lang):
    cohort = list(generate_cohort(25, seed=4, as_of=AS_OF))
    inputs = [checker.read_record(str(path))[0] for path in EXAMPLES] + cohort
    banned = forbidden_words(checker.rulebook)
    own = [item for item in checker.rulebook.catalogue.indicators.values() if item.rated_by == "citizen"]
    for data in inputs:
        report = checker.check(data, AS_OF, lang)
        text = checker.citizen_view(report, lang)
        leaked = sorted(word for word in banned if re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text))
        assert leaked == [], (report.citizen_id, leaked)
        assert all(len(line) <= 78 for line in text.splitlines())
        rows = rating_rows(text)
        expected = {}
        own_series = [s for s in report.trajectory.indicators if s.id in {i.id for i in own}]
        # the dates with at least one of the citizen's own ratings (a caseworker-only measurement is not shown)
        rated = [i for i in range(len(report.trajectory.dates)) if any(s.scores[i] is not None for s in own_series)]
        for indicator in own:
            series = next((s for s in own_series if s.id == indicator.id), None)
            if series:
                expected[indicator.label.get(lang)] = [series.scores[i] for i in rated][-8:]
        assert {label: values for label, values in rows.items()} == {
            label: values for label, values in expected.items() if len(values) <= 8
        }


def test_caseworker_scores_cannot_leak_as_numbers(checker):
    """Citizen scores 1-2, caseworker scores 5: no 5 may appear among the rated rows."""
    data = record(
        levels=[
            scores(1, caseworker_belief=5, goal_directed=5, competence_realism=5),
            scores(2, caseworker_belief=5, goal_directed=5, competence_realism=5),
        ]
    )
    text = checker.citizen_view(checker.check(data, AS_OF, "da"))
    rows = rating_rows(text)
    assert len(rows) == 6 and all(values == [1, 2] for values in rows.values())
    assert "5 →" not in text and "→ 5" not in text


def test_next_steps_and_structured_parts(checker):
    report = checker.check(record(levels=[2, 3]), AS_OF, "da")
    steps = ["Du ringer til praktikstedet senest fredag.", "Vi ses igen den 15. januar."]
    text = checker.citizen_view(report, "da", steps)
    assert "Det aftalte vi:" in text and "1. Du ringer til praktikstedet" in text and "2. Vi ses igen" in text
    blank = checker.citizen_view(report, "da")
    assert len([line for line in blank.splitlines() if line.strip().endswith("____")]) == 3
    parts = checker.citizen_parts(report, "en", steps)
    assert parts.language == "en" and parts.next_steps == steps
    assert parts.now and parts.now in " ".join(checker.citizen_view(report, "en", steps).split())
    assert [rating["id"] for rating in parts.ratings] == checker.rulebook.catalogue.citizen_indicators()
    assert parts.as_dict()["helped"] == parts.helped


def test_cli_format_citizen_danish_by_default():
    runner = CliRunner()
    danish = runner.invoke(
        main,
        [
            "check",
            str(ROOT / "examples" / "tilbagegang.yaml"),
            "--as-of",
            "2026-11-22",
            "--format",
            "citizen",
            "--engine",
            "python",
        ],
    )
    assert danish.exit_code == 0, danish.output
    assert "HVOR ER DU NU" in danish.output and "regress" not in danish.output
    english = runner.invoke(
        main,
        [
            "check",
            str(ROOT / "examples" / "tilbagegang.yaml"),
            "--as-of",
            "2026-11-22",
            "--format",
            "citizen",
            "--lang",
            "en",
            "--engine",
            "python",
        ],
    )
    assert english.exit_code == 0 and "WHERE YOU ARE NOW" in english.output


def test_validate_checks_the_citizen_template(tmp_path):
    for lang in ("da", "en"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "citizen.txt.j2").write_text(
            "{{ report.facts.score_caseworker_belief }}\n", encoding="utf-8"
        )
    result = CliRunner().invoke(main, ["rules", "validate", "--guidance", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 4
    assert "T003 'report' is not given to this template" in result.output
