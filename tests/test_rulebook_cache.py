"""The on-disk cache of compiled rulebooks: used when nothing changed, never when something did."""

import pickle

import pytest

from bip_engine import RulebookError
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
