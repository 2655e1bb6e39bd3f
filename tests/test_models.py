"""`bip_engine.models.DataModel` writes `__repr__`, `__eq__` and `__hash__` once for every data class.

Each must behave as the method the stdlib's dataclass would have written for that class: the
expectations come from a plain dataclass made with the same fields and the same `frozen`.
"""

from __future__ import annotations

import dataclasses

import pytest

from bip_engine import catalogue, record, report
from bip_engine.models import DataModel

CLASSES = [
    value
    for module in (record, report, catalogue)
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, DataModel) and value.__module__ == module.__name__
]


def _plain_twin(cls: type) -> type:
    """A stdlib dataclass with the fields, name and frozenness of `cls`, writing its own methods."""
    fields = [(item.name, object, dataclasses.field(default=None)) for item in dataclasses.fields(cls)]
    twin = dataclasses.make_dataclass(cls.__name__, fields, frozen=cls.__dataclass_params__.frozen, kw_only=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _values(cls: type, seed: int) -> dict:
    return {item.name: f"{item.name}-{seed}" for item in dataclasses.fields(cls)}


def _made(cls: type, values: dict):
    instance = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return instance


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_the_shared_methods_answer_as_the_dataclass_would(cls):
    assert "__eq__" not in vars(cls) and "__repr__" not in vars(cls)  # the shared ones are used
    twin = _plain_twin(cls)
    one, same, other = _values(cls, 1), _values(cls, 1), _values(cls, 2)
    assert repr(_made(cls, one)) == repr(twin(**one))
    assert (_made(cls, one) == _made(cls, same)) == (twin(**one) == twin(**same)) is True
    assert (_made(cls, one) == _made(cls, other)) == (twin(**one) == twin(**other))
    assert _made(cls, one) != twin(**one)  # another class is never equal
    if cls.__dataclass_params__.frozen:
        assert hash(_made(cls, one)) == hash(twin(**one))
        with pytest.raises(dataclasses.FrozenInstanceError):
            _made(cls, one).__setattr__(dataclasses.fields(cls)[0].name, "changed")
    else:
        with pytest.raises(TypeError, match="unhashable"):
            hash(_made(cls, one))
        with pytest.raises(TypeError, match="unhashable"):
            hash(twin(**one))


def test_every_model_module_is_listed():
    assert len(CLASSES) >= 35  # the record's, the report's and the catalogue's classes
