"""The on-disk cache of compiled rulebooks: used when nothing changed, never when something did."""

import pickle

import pytest

from bip_engine import RulebookError
from bip_engine.rulebook import load_rulebook
from bip_engine.rulebook_cache import load_rulebook_cached
from tests.conftest import replace_in


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("BIP_CACHE_DIR", str(folder))
    return folder / "rulebooks"


def test_second_load_comes_from_the_cache_and_equals_the_first(rules_copy, cache):
    first = load_rulebook_cached(rules_copy)
    entries = list(cache.glob("*.pickle"))
    assert len(entries) == 1
    second = load_rulebook_cached(rules_copy)
    assert second.content_hash == first.content_hash
    assert [rule.condition for rule in second.all_rules()] == [rule.condition for rule in first.all_rules()]
    with entries[0].open("rb") as stream:
        assert pickle.load(stream).content_hash == first.content_hash


def test_the_cached_rulebook_holds_each_stretch_s_view_and_its_staircase_patterns(rules_copy, cache):
    """What a check makes on first use (the rules in force on a day, the compiled staircase patterns)
    is made before the rulebook is pickled, and a rulebook from the cache answers as a fresh one."""
    fresh = load_rulebook(rules_copy)
    load_rulebook_cached(rules_copy)  # a miss: loaded, made ahead, pickled
    (entry,) = cache.glob("*.pickle")
    with entry.open("rb") as stream:
        kept = pickle.load(stream)
    timeline = kept.timeline
    notes = "Afventer afklaring af helbred. Borgeren har brug for ro, før vi drøfter praktik. Skal være mødestabil."
    for index, stretch in enumerate(timeline.stretches()):
        day = timeline.representative(stretch)
        view = kept._views[index]  # made ahead, not on this call
        assert kept.at(day) is view
        assert view.catalogue._matcher is not None
        made_now = fresh.at(day)
        assert [rule.condition for rule in view.all_rules()] == [rule.condition for rule in made_now.all_rules()]
        found = view.catalogue.staircase_matcher().find(notes)
        assert found and found == made_now.catalogue.staircase_matcher().find(notes)


def test_a_changed_rule_file_is_never_served_from_the_cache(rules_copy, cache):
    load_rulebook_cached(rules_copy)
    replace_in(rules_copy / "phases.yaml", "when: change <= -0.4", "when: change <= -0.5")
    changed = load_rulebook_cached(rules_copy)
    assert next(rule for rule in changed.all_rules() if rule.id == "regress_fall").when == "change <= -0.5"
    assert len(list(cache.glob("*.pickle"))) == 2


def test_an_invalid_rulebook_is_reported_and_not_cached(rules_copy, cache):
    replace_in(rules_copy / "phases.yaml", "when: change <= -0.4", "when: chnage <= -0.4")
    with pytest.raises(RulebookError):
        load_rulebook_cached(rules_copy)
    assert list(cache.glob("*.pickle")) == []


def test_a_change_in_the_base_of_a_local_rulebook_gives_a_new_key(tmp_path, rules_copy, cache):
    local = tmp_path / "local"
    local.mkdir()
    (local / "rulebook.yaml").write_text("name: local\nversion: '1'\nextends: ../rules\n", encoding="utf-8")
    assert load_rulebook_cached(local).name == "local"
    replace_in(rules_copy / "flags.yaml", "when: belief_gap >= 2", "when: belief_gap >= 3")
    rebuilt = load_rulebook_cached(local)
    assert next(rule for rule in rebuilt.all_rules() if rule.id == "belief_gap").when == "belief_gap >= 3"


def test_no_cache_when_switched_off(rules_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("BIP_CACHE_DIR", "")
    assert load_rulebook_cached(rules_copy).name == "bip-standard"
