"""`value_class`: a frozen dataclass made without generating code, for classes a cold check imports.

`@dataclass(frozen=True)` writes the source of six methods per class and compiles it when the module
is imported: about half a millisecond a class, and the rule language alone has eight. `value_class`
gives small value classes the same behaviour with shared methods instead: `__init__` by position or
keyword with defaults, `__repr__`, `__eq__` and `__hash__` over the fields in order, and assignment
refused with `dataclasses.FrozenInstanceError`. It supports no `field()`, no mutable defaults, no
inheritance of fields, and the `dataclasses` functions (`fields`, `replace`, `asdict`) do not apply.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T", bound=type)
_MISSING = object()


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    names = type(self).__value_fields__
    if len(args) > len(names):
        raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments but {len(args)} were given")
    values = dict(zip(names, args, strict=False))
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{name}'")
        if name in values:
            raise TypeError(f"{type(self).__name__}() got multiple values for argument '{name}'")
        values[name] = value
    defaults = type(self).__value_defaults__
    fields = self.__dict__
    for name in names:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            value = defaults.get(name, _MISSING)
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__}() missing 1 required argument: '{name}'")
        fields[name] = value


def _values(self: Any) -> tuple:
    fields = self.__dict__
    return tuple(fields[name] for name in type(self).__value_fields__)


def _repr(self: Any) -> str:
    fields = self.__dict__
    shown = ", ".join(f"{name}={fields[name]!r}" for name in type(self).__value_fields__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return _values(self) == _values(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(_values(self))


def _setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field '{name}'")


def _delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field '{name}'")


@dataclass_transform(frozen_default=True)
def value_class(cls: T) -> T:
    """Make `cls` a frozen value class over its annotated fields (see the module docstring)."""
    names = tuple(inspect.get_annotations(cls))
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}  # kept on the class too
    for name, value in (
        ("__value_fields__", names),
        ("__value_defaults__", defaults),
        ("__match_args__", names),
        ("__init__", _init),
        ("__repr__", _repr),
        ("__eq__", _eq),
        ("__hash__", _hash),
        ("__setattr__", _setattr),
        ("__delattr__", _delattr),
    ):
        setattr(cls, name, value)
    return cls
