"""`bip rules docs`: conditions in plain words, and the rulebook document generated from the rule files."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from markupsafe import escape

from bip_engine import cli, load_rulebook
from bip_engine.authoring.describe import (
    base_fact_labels,
    describe,
    fact_description,
    fact_labels,
    format_value,
    value_labels,
)
from bip_engine.authoring.docs import neutral_facts, required_phase, rulebook_document
from bip_engine.expr import Compare, parse_condition
from bip_engine.render import Guidance
from tests.conftest import ROOT

LANGS = ("da", "en")
FORMATS = ("markdown", "html")


@pytest.fixture(scope="module")
def documents(rulebook):
    """The default rulebook's document in both languages and both formats."""
    return {(lang, fmt): rulebook_document(rulebook, Guidance(lang), lang, fmt) for lang in LANGS for fmt in FORMATS}


def replace(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def section(document: str, rule_id: str) -> str:
    """The Markdown section of one rule: from its heading to the next heading."""
    match = re.search(rf"^### `{rule_id}`\n(.*?)(?=^##)", document, re.S | re.M)
    assert match, f"no section for {rule_id}"
    return match.group(1)


# --- describe -------------------------------------------------------------------------------------


def words(rulebook, text, lang, with_values=True):
    condition = parse_condition(text, rulebook.facts)
    return describe(
        condition,
        rulebook.facts,
        lang,
        labels=fact_labels(rulebook.catalogue),
        values=value_labels(rulebook, lang) if with_values else None,
    )


@pytest.mark.parametrize(
    "text, da, en",
    [
        ("change <= -0.4", "gennemsnitlig ændring ≤ −0,4", "mean change ≤ −0.4"),
        ("level >= 3.5", "gennemsnitligt niveau ≥ 3,5", "mean level ≥ 3.5"),
        ("job_oriented_active == true", "en jobrettet indsats er i gang", "a job-oriented intervention is under way"),
        ("job_oriented_active", "en jobrettet indsats er i gang", "a job-oriented intervention is under way"),
        ("not job_oriented_active", "ingen jobrettet indsats er i gang", "no job-oriented intervention is under way"),
        (
            '"no_intervention_3m" in flags',
            "flaget »no_intervention_3m« er rejst",
            "the flag “no_intervention_3m” is raised",
        ),
        (
            'not "no_intervention_3m" in flags',
            "flaget »no_intervention_3m« er ikke rejst",
            "the flag “no_intervention_3m” is not raised",
        ),
        ('phase == "standstill"', "fasen er Stilstand", "the phase is Standstill"),
        ('phase != "progress"', "fasen er ikke Fremgang", "the phase is not Progress"),
        (
            'phase in ["standstill", "regress"]',
            "fasen er Stilstand eller Tilbagegang",
            "the phase is Standstill or Regress",
        ),
        ("change is none", "gennemsnitlig ændring er ukendt", "mean change is unknown"),
        (
            "change_prev is not none",
            "gennemsnitlig ændring i perioden før er kendt",
            "mean change in the interval before is known",
        ),
        ("score_cooperation <= 2", "seneste score for Samarbejdsevne ≤ 2", "latest score for Ability to cooperate ≤ 2"),
        (
            '"social" in active_types',
            "typer af igangværende indsatser omfatter Social",
            "types of current interventions include Social",
        ),
        (
            "level >= 3.5 and job_oriented_active and (change >= 0 or measurement_count == 1)",
            "gennemsnitligt niveau ≥ 3,5 og en jobrettet indsats er i gang og "
            "(gennemsnitlig ændring ≥ 0 eller antal målinger = 1)",
            "mean level ≥ 3.5 and a job-oriented intervention is under way and "
            "(mean change ≥ 0 or number of measurements = 1)",
        ),
        (
            "(level < 2 and change < 0) or change <= -1.0",
            "(gennemsnitligt niveau < 2 og gennemsnitlig ændring < 0) eller gennemsnitlig ændring ≤ −1,0",
            "(mean level < 2 and mean change < 0) or mean change ≤ −1.0",
        ),
        ("change > -0.4 and change < 0.4", "−0,4 < gennemsnitlig ændring < 0,4", "−0.4 < mean change < 0.4"),
        ("true", "altid", "always"),
    ],
)
def test_describe_in_both_languages(rulebook, text, da, en):
    assert words(rulebook, text, "da") == da
    assert words(rulebook, text, "en") == en


def test_describe_without_value_labels_quotes_the_raw_value(rulebook):
    assert words(rulebook, 'phase == "standstill"', "da", with_values=False) == "fasen er »standstill«"
    assert words(rulebook, 'phase == "standstill"', "en", with_values=False) == "the phase is “standstill”"


def test_describe_uses_the_default_labels_and_falls_back_to_the_fact_name(rulebook):
    condition = parse_condition("change <= -0.4 or score_cooperation <= 1", rulebook.facts)
    expected = "gennemsnitlig ændring ≤ −0,4 eller score_cooperation ≤ 1"
    assert describe(condition, rulebook.facts, "da") == expected
    assert describe(Compare("mystery", ">=", 2.5), {}, "da") == "mystery ≥ 2,5"


def test_numbers_are_written_the_danish_way():
    assert format_value(-1.25, "da") == "−1,25"
    assert format_value(-1.25, "en") == "−1.25"
    assert format_value(0.4, "da") == "0,4"
    assert format_value(3, "da") == "3"
    assert format_value(True, "da") == "ja"


def test_every_fact_of_the_default_rulebook_has_a_label_in_both_languages(rulebook):
    labels = fact_labels(rulebook.catalogue)
    missing = [
        (name, lang)
        for name in rulebook.facts
        for lang in LANGS
        if not labels.get(name, {}).get(lang) or labels[name][lang] == name
    ]
    assert missing == []
    fixed = [name for name in rulebook.facts if not name.startswith("score_")]
    assert set(fixed) <= set(base_fact_labels())
    assert labels["score_cooperation"] == {
        "da": "seneste score for Samarbejdsevne",
        "en": "latest score for Ability to cooperate",
    }


def test_every_fact_has_a_description_in_both_languages(rulebook):
    for lang in ("da", "en"):
        assert [
            name for name, spec in rulebook.facts.items() if not fact_description(spec, lang, rulebook.catalogue)
        ] == []
    spec = rulebook.facts["score_caseworker_belief"]
    assert "vurderet af sagsbehandleren" in fact_description(spec, "da", rulebook.catalogue)
    assert "rated by the caseworker" in fact_description(spec, "en", rulebook.catalogue)


# --- the document -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_document_names_every_rule_phase_flag_and_checklist_point(documents, rulebook, lang, fmt):
    document = documents[(lang, fmt)]
    shown = (lambda text: str(escape(text))) if fmt == "html" else (lambda text: text)
    assert rulebook.name in document and rulebook.version in document and rulebook.content_hash in document
    for rule in rulebook.all_rules():
        assert rule.id in document
        assert shown(rule.reason.get(lang)) in document
    for phase in rulebook.phases.values():
        assert shown(phase.label.get(lang)) in document
    for flag_id in rulebook.flag_ids:
        assert flag_id in document
    assert len(rulebook.catalogue.checklist) == 10
    for point in rulebook.catalogue.checklist.values():
        assert shown(point.title.get(lang)) in document
    for name in rulebook.facts:
        assert name in document
    for finding in rulebook.catalogue.findings.values():
        assert shown(finding.title.get(lang)) in document
    for intervention in rulebook.catalogue.interventions.values():
        assert shown(intervention.label.get(lang)) in document


@pytest.mark.parametrize(
    "lang, headings",
    [
        (
            "da",
            [
                "## Sådan virker reglerne",
                "## Faseregler",
                "## Flagregler",
                "## Tjeklisteregler",
                "## Fakta",
                "## Tjeklisten",
                "## Forskningsresultater",
                "## Indikatorer",
                "## Indsatser",
            ],
        ),
        (
            "en",
            [
                "## How the rules work",
                "## Phase rules",
                "## Flag rules",
                "## Checklist rules",
                "## Facts",
                "## The checklist",
                "## Research findings",
                "## Indicators",
                "## Interventions",
            ],
        ),
    ],
)
def test_markdown_headings_are_in_the_document_language(documents, lang, headings):
    document = documents[(lang, "markdown")]
    positions = [document.index(f"\n{heading}\n") for heading in headings]
    assert positions == sorted(positions)


def test_a_phase_rule_shows_its_condition_source_location_and_guidance(documents, rulebook):
    regress = section(documents[("da", "markdown")], "regress_fall")
    assert "**Konklusion:** Fase: Tilbagegang" in regress
    assert "**Prioritet:** 20" in regress
    assert "gennemsnitlig ændring ≤ −0,4" in regress
    assert "`change <= -0.4`" in regress
    assert "Fire faser i ledighedsforløb" in regress and "Danneris" in regress
    assert re.search(r"`phases\.yaml:\d+`", regress)
    for block in ("*Kendetegn*", "*Mening*", "*Sammenhæng*", "*Fremdrift*"):
        assert block in regress
    assert "genfinde meningen" in regress  # from guidance/da/phases/regress.j2
    english = section(documents[("en", "markdown")], "regress_fall")
    assert "mean change ≤ −0.4" in english and "*Coherence*" in english


def test_rules_with_the_same_guidance_point_to_the_first(documents):
    assert "Samme vejledning som reglen `derailment_low_level`." in section(
        documents[("da", "markdown")], "derailment_steep_fall"
    )


def test_every_flag_rule_shows_its_title_and_an_example_message(documents, rulebook):
    document = documents[("da", "markdown")]
    for rule in rulebook.rules["flag"]:
        text = section(document, rule.id)
        assert "**Flagets overskrift:**" in text
        assert "**Eksempel på flagets besked:** Opdigtet borger SIM-" in text, rule.id
    standstill = section(document, "caseworker_change_in_standstill")
    assert "**Flagets overskrift:** Sagsbehandlerskift i en fase med stilstand" in standstill
    assert "I stilstand er et skift særligt kritisk" in standstill  # the message this rule leads to
    assert "(alvorlighed: høj)" in standstill
    plain = section(document, "caseworker_change")
    assert "**Flagets overskrift:** Nyligt skift af sagsbehandler" in plain
    assert "(alvorlighed: middel)" in plain


def test_the_document_is_the_same_every_time(rulebook, documents):
    assert rulebook_document(rulebook, Guidance("da"), "da", "markdown") == documents[("da", "markdown")]


def test_no_drift_a_changed_rule_file_changes_the_document(rules_copy, documents, rulebook):
    replace(rules_copy / "phases.yaml", "when: change <= -0.4", "when: change <= -0.55")
    flags = rules_copy / "flags.yaml"
    replace(flags, "  - id: fifth_internship\n    severity: medium", "  - id: fifth_internship\n    severity: high")
    changed = load_rulebook(rules_copy)
    assert changed.content_hash != rulebook.content_hash
    for lang, old, new in (("da", "≤ −0,4", "≤ −0,55"), ("en", "≤ −0.4", "≤ −0.55")):
        before = documents[(lang, "markdown")]
        after = rulebook_document(changed, Guidance(lang), lang, "markdown")
        regress_before, regress_after = section(before, "regress_fall"), section(after, "regress_fall")
        assert old in regress_before and "`change <= -0.4`" in regress_before
        assert new in regress_after and "`change <= -0.55`" in regress_after
        assert old not in regress_after and "-0.4`" not in regress_after
        severity = {"da": ("(middel)", "(høj)"), "en": ("(medium)", "(high)")}[lang]
        assert f"fifth_internship {severity[0]}" in section(before, "fifth_internship")
        assert f"fifth_internship {severity[1]}" in section(after, "fifth_internship")
        assert changed.content_hash in after and rulebook.content_hash not in after
        assert rulebook.content_hash in before
        assert str(rules_copy) not in after  # locations are relative to the rulebook folder
        assert "`phases.yaml:" in after
    html = rulebook_document(changed, Guidance("da"), "da", "html")
    assert "change &lt;= -0.55" in html and "≤ −0,55" in html and changed.content_hash in html


def test_html_escapes_conditions_and_texts(rules_copy):
    checklist = rules_copy / "checklist_rules.yaml"
    checklist.write_text(
        checklist.read_text(encoding="utf-8")
        + (
            "\n  - id: focus_very_low_level\n"
            "    point: 10\n"
            "    when: level < 2\n"
            "    reason: {da: 'Meget lavt niveau <b>nu</b> & senere', en: 'A very low level <b>now</b> & later'}\n"
            "    source: danneris_phases\n"
        ),
        encoding="utf-8",
    )
    changed = load_rulebook(rules_copy)
    html = rulebook_document(changed, Guidance("da"), "da", "html")
    assert "<code>level &lt; 2</code>" in html and "gennemsnitligt niveau &lt; 2" in html
    assert "level < 2" not in html
    assert "Meget lavt niveau &lt;b&gt;nu&lt;/b&gt; &amp; senere" in html and "<b>nu</b>" not in html
    assert "change &lt; 0.4" in html
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html and "<script" not in html
    markdown = rulebook_document(changed, Guidance("en"), "en", "markdown")
    assert "`level < 2`" in markdown and "mean level < 2" in markdown


def test_a_flag_without_an_example_says_so(rules_copy):
    flags = rules_copy / "flags.yaml"
    flags.write_text(
        flags.read_text(encoding="utf-8")
        + (
            "\n  - id: hundredth_internship\n"
            "    flag: fifth_internship\n"
            "    severity: low\n"
            "    when: internship_count >= 100\n"
            "    reason: {da: Hundrede praktikker., en: A hundred internships.}\n"
            "    source: vaeksthuset_repeated_internships\n"
        ),
        encoding="utf-8",
    )
    changed = load_rulebook(rules_copy)
    document = rulebook_document(changed, Guidance("da"), "da", "markdown", example_limit=150)
    assert "Ingen af de første 150 borgere" in section(document, "hundredth_internship")
    assert "Opdigtet borger SIM-" in section(document, "fifth_internship")
    english = rulebook_document(changed, Guidance("en"), "en", "markdown", examples=False)
    assert "Examples are turned off." in section(english, "fifth_internship")


def test_the_document_renders_the_guidance_it_is_given(tmp_path, rulebook):
    (tmp_path / "da" / "phases").mkdir(parents=True)
    original = (ROOT / "guidance" / "da" / "phases" / "standstill.j2").read_text(encoding="utf-8")
    (tmp_path / "da" / "phases" / "standstill.j2").write_text(
        original.replace("Forklar borgeren, hvorfor der ventes", "KOMMUNENS EGEN TEKST: forklar ventetiden"),
        encoding="utf-8",
    )
    document = rulebook_document(rulebook, Guidance("da", [tmp_path]), "da", "markdown", examples=False)
    assert "KOMMUNENS EGEN TEKST" in section(document, "standstill_flat")


def test_unknown_format_or_language_is_refused(rulebook):
    with pytest.raises(ValueError):
        rulebook_document(rulebook, Guidance("da"), "da", "pdf")
    with pytest.raises(ValueError):
        rulebook_document(rulebook, Guidance("da"), "de", "markdown")


def test_neutral_facts_and_required_phase(rulebook):
    facts = neutral_facts(rulebook)
    assert facts["change"] is None and facts["active_count"] == 0 and facts["job_oriented_active"] is False
    assert facts["active_types"] == [] and facts["flags"] == [] and facts["phase"] is None
    by_id = {rule.id: rule for rule in rulebook.rules["flag"]}
    assert required_phase(by_id["caseworker_change_in_standstill"].condition) == "standstill"
    assert required_phase(by_id["caseworker_change"].condition) is None


def test_docs_show_parameter_values_with_dates_unique_ids_and_flag_periods(tmp_path):
    """Dated rules in the document: each rule's parameter values and periods, −0,4 not -0.4, one id per variant."""
    import collections

    from tests.test_dated import dated_rulebook

    folder = dated_rulebook(tmp_path)
    texts_dir = folder.parent / "tekster"
    html = (
        CliRunner()
        .invoke(
            cli.main, ["rules", "docs", str(folder), "--format", "html", "--no-examples", "--guidance", str(texts_dir)]
        )
        .output
    )
    ids = collections.Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    assert 'href="#parameters"' in html and 'id="parameters"' in html
    markdown = (
        CliRunner()
        .invoke(cli.main, ["rules", "docs", str(folder), "--no-examples", "--guidance", str(texts_dir)])
        .output
    )
    values = load_rulebook(folder).parameters.items["regress_threshold"].values
    shown = "; ".join(
        "\u2212"
        + f"{abs(item.value):g}".replace(".", ",")
        + f" ({item.period.start or '…'} – {item.period.end or '…'})"
        for item in values
    )
    assert f"`regress_threshold` = {shown}" in markdown, markdown
    overview = next(line for line in markdown.splitlines() if line.startswith("| `measurement_overdue`"))
    assert "… – 2026-12-31" in overview and "2027-01-01 – …" in overview
