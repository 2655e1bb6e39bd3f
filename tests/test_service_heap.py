"""A serving worker sets its start-up heap aside from the garbage collector (`settle_heap`)."""

from __future__ import annotations

import gc
import weakref

import pytest

pytest.importorskip("gunicorn")

from bip_engine.service.server import settle_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_settle_heap_collects_garbage_then_freezes_what_lives(unfrozen):
    garbage_a, garbage_b = _Node(), _Node()
    garbage_a.other, garbage_b.other = garbage_b, garbage_a  # a cycle only the collector frees
    collected = weakref.ref(garbage_a)
    del garbage_a, garbage_b
    kept = {"rulebook": [_Node() for _ in range(100)]}
    gc.unfreeze()

    settle_heap()

    assert collected() is None  # the garbage was collected first, not frozen for good
    assert gc.get_freeze_count() > len(kept["rulebook"])
    tracked = {id(item) for generation in range(3) for item in gc.get_objects(generation)}
    assert id(kept) not in tracked  # what lived is out of every generation's sight
    made_after = [_Node()]
    assert id(made_after) in {id(item) for item in gc.get_objects(0)}
