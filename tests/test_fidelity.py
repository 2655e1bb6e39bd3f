"""Faithful to the seeds: every guidance text names its finding, and the citizen version never
states a change that its own table of the citizen's answers contradicts."""

from __future__ import annotations

import datetime as dt
import re
from itertools import pairwise

import pytest
import yaml

from bip_engine import Checker
from bip_engine.caseload.simulate import generate_cohort
from tests.conftest import AS_OF, EXECUTORS, ROOT

FINDING = re.compile(r"\A\{#-? finding: ([\w, ]+?) -?#\}")
ENTRY = re.compile(r'^\s+"(\w+)": (.)', re.MULTILINE)
PAIR = re.compile(r'^\s+"(\w+)": \("(\w+)", "', re.MULTILINE)
ROW = re.compile(r"^  (\S.*?)\s{2,}((?:… → )?(?:[1-5–] → )*[1-5–])$")


def rating_rows(text: str) -> list[list[int | None]]:
    """The rows of the citizen's own ratings in the citizen version (the latest eight columns)."""
    rows = []
    for line in text.splitlines():
        found = ROW.match(line)
        if found:
            cells = found.group(2).removeprefix("… → ").split(" → ")
            rows.append([None if cell == "–" else int(cell) for cell in cells])
    return rows


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_flag_and_phase_text_names_the_finding_it_rests_on(rulebook, lang):
    findings = set(rulebook.catalogue.findings)
    sources: dict[str, set[str]] = {}
    for rule in rulebook.all_rules():
        if rule.stage == "flag":
            sources.setdefault(rule.conclusion, set()).add(rule.source)
    folder = ROOT / "guidance" / lang
    for path in sorted([*folder.glob("flags/*.j2"), *folder.glob("phases/*.j2")]):
        marked = FINDING.match(path.read_text(encoding="utf-8"))
        assert marked, f"{path.name} does not start with {{#- finding: ... -#}}"
        named = {name.strip() for name in marked.group(1).split(",")}
        assert named <= findings, (path.name, named - findings)
        if path.parent.name == "flags":
            assert sources[path.stem] <= named, (path.name, sources[path.stem])


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_citizen_text_is_paired_with_a_known_finding(rulebook, lang):
    source = (ROOT / "guidance" / lang / "citizen.txt.j2").read_text(encoding="utf-8")
    entries = ENTRY.findall(source)
    pairs = PAIR.findall(source)
    assert len(entries) >= 16  # the phase texts, the phase advice and the flag advice
    assert [kind for _, kind in entries] == ["("] * len(entries)  # each text is (finding, text)
    assert {finding for _, finding in pairs} <= set(rulebook.catalogue.findings)


def _records():
    """Synthetic citizens (the cohort and the vignettes): every kind of trajectory the simulator makes."""
    yield from generate_cohort(400, seed=17, as_of=AS_OF)
    for path in sorted((ROOT / "tests" / "data" / "vignettes").glob("*.yaml")):
        yield yaml.safe_load(path.read_text(encoding="utf-8"))["record"]


# What the Danish citizen version may say, and what the last two columns of its table must then show
# (the mean change over the rows that have both): a test on the sign, written from the sentences' meaning.
CLAIMS_DA = {
    "Siden sidst er dine svar samlet set gået op.": lambda change: change > 0,
    "Siden sidst er dine svar samlet set gået ned.": lambda change: change < 0,
    "Siden sidst har dine svar samlet set ligget stille.": lambda change: change == 0,
    "du er kommet et stykke nærmere et arbejde siden sidst": lambda change: change > 0,
    "Det er blevet sværere for dig siden sidst.": lambda change: change < 0,
    "Dine svar har ikke ændret sig meget": lambda change: abs(change) < 0.4,
}


def test_the_citizen_version_never_states_a_change_its_own_table_contradicts(checker):
    seen = set()
    for data in _records():
        report = checker.check(data, AS_OF, "da")
        text = checker.citizen_view(report, "da", width=2000)
        prose = " ".join(text.split())
        rows = [row for row in rating_rows(text) if len(row) >= 2]
        last = [(row[-1] - row[-2]) for row in rows if row[-1] is not None and row[-2] is not None]
        for claim, holds in CLAIMS_DA.items():
            if claim in prose:
                seen.add(claim)
                assert last, (report.citizen_id, claim, "but the table has fewer than two columns")
                change = sum(last) / len(last)
                assert holds(change), (report.citizen_id, claim, change)
    assert seen == set(CLAIMS_DA)  # the records reach every claim, so each check above has run


def test_rows_of_the_table_are_in_date_order():
    """The table's columns are the measurements in date order (the claims above compare the last two)."""
    for data in generate_cohort(50, seed=3, as_of=AS_OF):
        days = [m["date"] for m in data["measurements"]]
        assert all(earlier < later for earlier, later in pairwise(days))


LOCAL = ROOT / "examples" / "lokal"


@pytest.mark.parametrize("engine", EXECUTORS)
def test_the_dated_local_flag_about_meetings_starts_on_its_date(engine):
    """examples/lokal: "no meeting held for six weeks" (42 days), a local flag in force from 2027-01-01."""
    checker = Checker(LOCAL / "regler", guidance=[LOCAL / "vejledning"], engine=engine)
    record, _, _ = checker.read_record(str(LOCAL / "borger.yaml"))
    held = max(m.date for m in record.meetings if m.status == "held" and m.date <= dt.date(2027, 1, 14))
    day_42, day_43 = held + dt.timedelta(days=42), held + dt.timedelta(days=43)

    def flags(as_of, rules_as_of=None):
        return {flag.id for flag in checker.check(record, as_of, rules_as_of=rules_as_of).flags}

    assert "no_meeting_6w" not in flags(day_42)
    assert "no_meeting_6w" in flags(day_43)
    assert "no_meeting_6w" not in flags(day_43, rules_as_of=dt.date(2026, 12, 31))  # not yet in force
    report = checker.check(record, day_43, lang="da")
    assert "for 43 dage siden" in " ".join(checker.render(report, "text").split())
