"""Plain-Python stand-ins for the report models, for the cold command-line check.

The pydantic models in `bip_engine.report` are the schema of a report (`bip schema output`) and what
the library returns. Loading pydantic and building those models costs more than the rest of a
`bip check` together, so the command line builds the same report from *light* models: plain
classes made from a description of the pydantic models' fields (`describe_models`, written once
into the on-disk cache by `bip_engine.fastpath`), which take the same keyword arguments and give the
same `model_dump(mode="json")`, field for field and in the same order.

Only what the report needs is copied: defaults and default factories, a float field turns an int
into a float, and the JSON form of plain values (a tuple becomes a list, a date its ISO form, an
infinite or NaN float `null`). A value of any other kind raises `TypeError`, and the caller then
falls back to the pydantic models, so the output never differs.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

#: One field: (name, default, default factory or None, whether it is a float field). `REQUIRED` as
#: the default means the field must be given.
REQUIRED = "<required>"
FieldSpec = tuple[str, Any, Any, bool]


class LightModel:
    """A report part with the fields of its pydantic model; see the module docstring."""

    _fields: tuple[FieldSpec, ...] = ()
    _names: frozenset[str] = frozenset()
    _floats: frozenset[str] = frozenset()

    def __init__(self, **values: Any):
        unknown = values.keys() - self._names
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(unknown)}")
        fields = self.__dict__
        for name, default, factory, is_float in self._fields:
            if name in values:
                value = values[name]
                fields[name] = float(value) if is_float and type(value) is int else value
            elif factory is not None:
                fields[name] = factory()
            elif default is REQUIRED:
                raise TypeError(f"{type(self).__name__}: field {name!r} is required")
            else:
                fields[name] = default

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        """The JSON form, as `pydantic.BaseModel.model_dump(mode="json")` gives it."""
        floats = self._floats
        return {
            name: (_float(value) if name in floats and type(value) is int else jsonable(value))
            for name, value in self.__dict__.items()
        }

    def model_copy(self, update: dict[str, Any] | None = None) -> LightModel:
        """A copy with `update` applied, unvalidated (as pydantic's `model_copy`)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(update or {})
        return copy

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _float(value: Any) -> Any:
    return float(value)


def jsonable(value: Any) -> Any:
    """`value` in its JSON form, as pydantic writes a value of type `Any` in JSON mode."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"a key of type {type(key).__name__}")
            result[key] = jsonable(item)
        return result
    if kind is list or kind is tuple:
        return [jsonable(item) for item in value]
    if isinstance(value, LightModel):
        return value.model_dump()
    if kind is dt.date:
        return value.isoformat()
    raise TypeError(f"a value of type {kind.__name__}")


class Models:
    """A namespace of light model classes by name, used where `bip_engine.report` is used otherwise."""

    def __init__(self, described: dict[str, tuple[FieldSpec, ...]]):
        for name, fields in described.items():
            attributes = {
                "_fields": fields,
                "_names": frozenset(field[0] for field in fields),
                "_floats": frozenset(field[0] for field in fields if field[3]),
                "__slots__": (),
            }
            setattr(self, name, type(name, (LightModel,), attributes))


def describe_models() -> dict[str, tuple[FieldSpec, ...]]:
    """The fields of every model of `bip_engine.report`, as `Models` needs them (imports pydantic)."""
    import typing

    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    from . import report

    described: dict[str, tuple[FieldSpec, ...]] = {}
    for name in dir(report):
        model = getattr(report, name)
        if not (isinstance(model, type) and issubclass(model, BaseModel) and model.__module__ == report.__name__):
            continue
        fields = []
        for field_name, info in model.model_fields.items():
            annotation = info.annotation
            is_float = annotation is float or (
                float in typing.get_args(annotation) and int not in typing.get_args(annotation)
            )
            default = REQUIRED if info.default is PydanticUndefined else info.default
            if info.default_factory is not None and info.default_factory not in (list, dict):
                raise TypeError(f"{name}.{field_name}: a default factory other than list or dict")
            fields.append((field_name, default, info.default_factory, is_float))
        described[name] = tuple(fields)
    return described
