"""The engine's data classes: stdlib dataclasses validated and written by pydantic-core.

The record, the report and the rulebook's catalogue entries are frozen `dataclasses` with
`DataModel` mixed in, which gives them the part of pydantic's model interface the engine uses
(`model_validate`, `model_dump`, `model_dump_json`, `model_json_schema`, `model_copy`). Their
annotations are strings (`from __future__ import annotations`) whose constraints are written with
`Field`, `BeforeValidator` and `Strict` from this module: nothing of pydantic is evaluated when a
module defines its classes.

The validator and serializer of a class are pydantic-core's, made from the core schema that
pydantic's `TypeAdapter` generates for it. A process that loads pydantic anyway (the authoring
tools, the service) has them made on first use; a `bip check` gets them from the cache
(`bip_engine.rulebook_cache.load_built_models`), and so never imports `pydantic.main`, whose
import alone costs more than the rest of a cold check.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from pydantic_core import SchemaSerializer, SchemaValidator

M = TypeVar("M", bound="DataModel")

#: The validator and serializer of each class, once made or installed from the cache.
_BUILT: dict[type, tuple[SchemaValidator, SchemaSerializer]] = {}


def Field(**kwargs: Any) -> Any:
    """pydantic's `Field(...)` for an annotation's metadata, made only when pydantic reads the annotation."""
    from pydantic import Field as field

    return field(**kwargs)


class BeforeValidator:
    """A function run on the input before pydantic-core validates it (pydantic's `BeforeValidator`).

    A plain class, usable in a type alias made at import, that pydantic reads through its
    `__get_pydantic_core_schema__` hook: defining the alias loads nothing of pydantic.
    """

    def __init__(self, function: Any):
        self.function = function

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        """The core schema: `function`, then the validation of `source`."""
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.function, handler(source))


def Strict() -> Any:
    """pydantic's `Strict()` for an annotation's metadata, made only when pydantic reads the annotation."""
    from pydantic import Strict as strict

    return strict()


def core_schema(cls: type) -> Any:
    """The core schema pydantic generates for `cls` (this loads pydantic)."""
    from pydantic import TypeAdapter

    return TypeAdapter(cls).core_schema


def install(cls: type, schema: Any) -> None:
    """Give `cls` the validator and serializer made from its core `schema` (pydantic-core only)."""
    from pydantic_core import SchemaSerializer, SchemaValidator

    _BUILT[cls] = (SchemaValidator(schema), SchemaSerializer(schema))


def installed(cls: type) -> bool:
    """Whether `cls` has its validator and serializer already in this process."""
    return cls in _BUILT


def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)


def _core(cls: type) -> tuple[SchemaValidator, SchemaSerializer]:
    built = _BUILT.get(cls)
    if built is None:
        install(cls, core_schema(cls))
        built = _BUILT[cls]
    return built


class DataModel:
    """The model interface of a frozen dataclass: validation, dumps, JSON Schema and copies.

    Unknown fields are refused (`extra="forbid"`); a subclass may widen `__pydantic_config__`.

    The engine's data classes are declared `@dataclass(..., repr=False, eq=False)` and take
    `__repr__`, `__eq__` and `__hash__` from here: the same as the dataclass would write, once for
    all of them. The stdlib compiles every method it writes for a class when the class is defined,
    and a `bip check` defines some fifty of these classes before it does anything else.
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    def __repr__(self) -> str:
        """`Name(field=value, ...)`, as a dataclass writes it."""
        shown = ", ".join(f"{item.name}={getattr(self, item.name)!r}" for item in _fields(type(self)) if item.repr)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        """Equal to an instance of the same class whose compared fields are equal (a dataclass's `__eq__`)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = [item.name for item in _fields(type(self)) if item.compare]
        return tuple(getattr(self, name) for name in names) == tuple(getattr(other, name) for name in names)

    def __hash__(self) -> int:
        """A frozen class's instances hash by their compared fields; a mutable one's are unhashable."""
        if not type(self).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        hashed = (item for item in _fields(type(self)) if (item.compare if item.hash is None else item.hash))
        return hash(tuple(getattr(self, item.name) for item in hashed))

    @classmethod
    def model_validate(cls: type[M], data: Any) -> M:
        """Validate `data` (a mapping, or an instance) as this class; raise pydantic-core's `ValidationError`."""
        return _core(cls)[0].validate_python(data)

    @classmethod
    def model_validate_json(cls: type[M], data: str | bytes) -> M:
        """Validate a JSON text as this class."""
        return _core(cls)[0].validate_json(data)

    def model_dump(self, *, mode: str = "python", by_alias: bool = False, exclude_none: bool = False) -> dict[str, Any]:
        """The instance as a dict (`mode="json"`: only JSON types)."""
        return _core(type(self))[1].to_python(self, mode=mode, by_alias=by_alias, exclude_none=exclude_none)

    def model_dump_json(self, *, indent: int | None = None, by_alias: bool = False, exclude_none: bool = False) -> str:
        """The instance as JSON text, keys in field order, non-ASCII kept as is."""
        serializer = _core(type(self))[1]
        return serializer.to_json(self, indent=indent, by_alias=by_alias, exclude_none=exclude_none).decode()

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool = True,
        ref_template: str = "#/$defs/{model}",
        mode: str = "validation",
    ) -> dict[str, Any]:
        """The class's JSON Schema, as pydantic generates it (this loads pydantic)."""
        from pydantic import TypeAdapter

        return TypeAdapter(cls).json_schema(by_alias=by_alias, ref_template=ref_template, mode=mode)  # type: ignore[arg-type]

    def model_copy(self: M, *, update: dict[str, Any] | None = None) -> M:
        """A shallow copy with the fields of `update` replaced (not validated, like pydantic's)."""
        new = copy.copy(self)
        for name, value in (update or {}).items():
            object.__setattr__(new, name, value)
        return new

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the class's fields, in order."""
        return tuple(item.name for item in dataclasses.fields(cls))  # type: ignore[arg-type]
