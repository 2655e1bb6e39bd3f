"""Template blocks rendered again for an equal context are answered from the memo, and only then.

A block's text depends on the parts of the context the template reads; `Guidance.blocks` keeps
the text under those parts (the facts it asks for by name, the whole of anything else it reads),
so a report does not re-render the same flag or phase guidance for every citizen. A template that
reads a context value in a way that cannot be followed keys on the whole value; one that could
give a different text each time (`lipsum`, `random`) is never kept.
"""

from __future__ import annotations

import pytest

from bip_engine.errors import RulebookError
from bip_engine.render import Guidance


def _guidance(tmp_path, templates: dict[str, str]) -> tuple[Guidance, list]:
    """A Guidance over `templates` (in da/), with a `tick` filter counting how often a template runs."""
    for name, source in templates.items():
        path = tmp_path / "g" / "da" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    guidance = Guidance("da", [tmp_path / "g"])
    ticks: list = []

    def tick(value):
        ticks.append(value)
        return value

    guidance.env.filters["tick"] = tick
    return guidance, ticks


FLAG = '{% block title %}T{{ facts.get("a")|tick }}{% endblock %}{% block message %}{{ flag.id }}:{{ facts["c"] }}{% endblock %}'


def test_blocks_are_not_rendered_again_when_only_unread_facts_change(tmp_path):
    guidance, ticks = _guidance(tmp_path, {"flags/x.j2": FLAG})
    texts = []
    for other in range(5):
        context = {"facts": {"a": 1, "b": other, "c": "z"}, "flag": {"id": "x", "unused": other}, "lang": "da"}
        texts.append(guidance.blocks("flags/x.j2", ("title", "message"), context))
    assert texts == [{"title": "T1", "message": "x:z"}] * 5
    assert len(ticks) < 5  # the fifth, at the latest, came from the memo


def test_a_change_in_a_read_value_renders_again(tmp_path):
    guidance, _ = _guidance(tmp_path, {"flags/x.j2": FLAG})
    for a in (1, 2, 1.0, True, "1", None, [1], (1,)):
        for _ in range(3):
            context = {"facts": {"a": a, "c": "z"}, "flag": {"id": "x"}, "lang": "da"}
            assert guidance.blocks("flags/x.j2", ("title",), context) == {"title": f"T{a}"}
    for flag_id in ("x", "y", "x"):
        context = {"facts": {"a": 1, "c": "z"}, "flag": {"id": flag_id}, "lang": "da"}
        assert guidance.blocks("flags/x.j2", ("message",), context) == {"message": f"{flag_id}:z"}
    for c in ("z", "w"):
        context = {"facts": {"a": 1, "c": c}, "flag": {"id": "x"}, "lang": "da"}
        assert guidance.blocks("flags/x.j2", ("message",), context) == {"message": f"x:{c}"}


def test_a_missing_fact_read_by_item_is_still_an_error(tmp_path):
    guidance, _ = _guidance(tmp_path, {"flags/x.j2": FLAG})
    for _ in range(3):
        guidance.blocks("flags/x.j2", ("message",), {"facts": {"c": None}, "flag": {"id": "x"}})
    with pytest.raises(RulebookError) as caught:
        guidance.blocks("flags/x.j2", ("message",), {"facts": {}, "flag": {"id": "x"}})
    assert caught.value.problems[0].code == "T001"


def test_a_value_read_whole_keys_on_all_of_it(tmp_path):
    source = "{% block title %}{% for k, v in facts|dictsort %}{{ k }}={{ v|tick }};{% endfor %}{% endblock %}"
    guidance, _ = _guidance(tmp_path, {"flags/x.j2": source})
    for b in (1, 2, 2, 3, 1):
        assert guidance.blocks("flags/x.j2", ("title",), {"facts": {"a": 0, "b": b}}) == {"title": f"a=0;b={b};"}


@pytest.mark.parametrize("source", ["{{ lipsum(1)|tick }}", "{{ [1, 2, 3]|random|tick }}"])
def test_templates_that_are_not_pure_are_never_kept(tmp_path, source):
    guidance, ticks = _guidance(tmp_path, {"flags/x.j2": "{% block title %}" + source + "{% endblock %}"})
    for _ in range(4):
        guidance.blocks("flags/x.j2", ("title",), {"facts": {}})
    assert len(ticks) == 4


def test_a_test_for_none_tells_apart_none_and_a_value(tmp_path):
    source = "{% block title %}{% if phase is none %}-{% else %}{{ phase.id|tick }}{% endif %}{% endblock %}"
    guidance, ticks = _guidance(tmp_path, {"flags/x.j2": source})
    for phase in (None, {"id": "a", "evidence": 1}, None, {"id": "a", "evidence": 2}, {"id": "b"}, None):
        expected = "-" if phase is None else phase["id"]
        assert guidance.blocks("flags/x.j2", ("title",), {"phase": phase}) == {"title": expected}
    assert ticks == ["a", "b"]  # the phase's other keys are not read: the second "a" comes from the memo


def test_reports_from_the_memo_are_the_reports_a_fresh_render_gives(python_checker):
    """A cohort's reports, made by one checker (its guidance memo filling up and answering), equal
    the reports of a fresh `Guidance` for each citizen (every template rendered on its first use)."""
    import datetime as dt

    from bip_engine.assemble import ReportBuilder
    from bip_engine.caseload.simulate import generate_cohort

    rulebook = python_checker.rulebook
    as_of = dt.date(2026, 11, 22)
    cohort = list(generate_cohort(150, seed=5))
    for lang in ("da", "en"):
        kept = python_checker.guidance(lang)
        for citizen in cohort:
            evaluation = python_checker.evaluate(python_checker.parse_record(citizen), as_of)
            fresh = ReportBuilder(rulebook, Guidance(lang), lang).build(evaluation)
            assert ReportBuilder(rulebook, kept, lang).build(evaluation) == fresh
        assert len(kept._memo) > 0  # the memo was used
