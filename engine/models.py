"""The engine's data classes: stdlib dataclasses validated and written by pydantic-core.

The record, the report and the rulebook's catalogue entries are `dataclasses` declared with
`@data_class(...)` from this module, with `DataModel` mixed in, which gives them the part of pydantic's
model interface the engine uses (`model_validate`, `model_dump`, `model_dump_json`,
`model_json_schema`, `model_copy`). Their annotations are strings (`from __future__ import
annotations`) whose constraints are written with `Field`, `BeforeValidator` and `Strict` from this
module: nothing of pydantic is evaluated when a module defines its classes.

The validator and serializer of a class are pydantic-core's, made from the core schema that
pydantic's `TypeAdapter` generates for it. A process that loads pydantic anyway (the authoring
tools, the service) has them made on first use; a `bip check` gets them from the cache
(`bip_engine.rulebook_cache.load_built_models`), and so never imports `pydantic.main`, whose
import alone costs more than the rest of a cold check.

`@data_class` is `@dataclass` for the engine's value classes (with `Data` as a base), minus the methods
the stdlib compiles for each class when the class is defined: `__repr__`, `__eq__`, `__hash__` and
the frozen `__setattr__`/`__delattr__` are written once in `Data`. A class's first constructions go
through one shared `__init__` that fills the fields as the stdlib's would; from its
`COMPILE_AFTER`-th construction on, a class has the stdlib's own `__init__`, compiled for its fields.
A `bip check` defines some sixty such classes, constructs about twenty of them a few times each and
so compiles none; a service or a batch compiles those it constructs often. (The rulebook comes from a
pickle and the record from pydantic-core, neither of which calls `__init__`.)
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform

if TYPE_CHECKING:
    from pydantic_core import SchemaSerializer, SchemaValidator

M = TypeVar("M", bound="DataModel")
T = TypeVar("T", bound=type)

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


def _core(cls: type) -> tuple[SchemaValidator, SchemaSerializer]:
    built = _BUILT.get(cls)
    if built is None:
        install(cls, core_schema(cls))
        built = _BUILT[cls]
    return built


def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def data_class(*, frozen: bool = False, kw_only: bool = False) -> Callable[[T], T]:
    """`@dataclass(frozen=..., kw_only=...)` for a subclass of `Data`: the same class, its methods shared.

    The fields are the dataclass's (`dataclasses.fields`, `dataclasses.replace` and pydantic read
    them as usual); `__repr__`, `__eq__` and `__hash__` come from `Data`, a frozen class's
    `__setattr__` and `__delattr__` too, and `__init__` is made by the stdlib on first use.
    """

    def make(cls: T) -> T:
        if not issubclass(cls, Data):
            raise TypeError(f"@data_class is for subclasses of Data, not {cls.__qualname__}")
        made = dataclasses.dataclass(cls, init=False, repr=False, eq=False, kw_only=kw_only)
        made.is_frozen = frozen
        if "__init__" not in vars(made):
            made.__init__ = _shared_init  # type: ignore[method-assign]
        if frozen:
            made.__setattr__ = _frozen_setattr  # type: ignore[method-assign]
            made.__delattr__ = _frozen_delattr  # type: ignore[method-assign]
        return cls

    return make


#: How many times a class is constructed through the shared `__init__` before it gets its own.
COMPILE_AFTER = 16


class _InitPlan:
    """What the shared `__init__` needs of a class: its parameters and fields, and a count of uses."""

    __slots__ = ("fields", "frozen", "parameters", "positional", "post_init", "uses")

    def __init__(self, cls: Any):
        items = dataclasses.fields(cls)
        self.positional = tuple(item.name for item in items if item.init and not item.kw_only)
        self.parameters = frozenset(item.name for item in items if item.init)
        #: name, init, default, default factory
        self.fields = tuple((item.name, item.init, item.default, item.default_factory) for item in items)
        self.frozen: bool = getattr(cls, "is_frozen", False)
        self.post_init = hasattr(cls, "__post_init__")
        self.uses = 0


#: The plan of each class constructed so far (None: the class always gets the stdlib's `__init__`).
_PLANS: dict[type, _InitPlan | None] = {}


def _plan(cls: Any) -> _InitPlan | None:
    if len(dataclasses.fields(cls)) != len(cls.__dataclass_fields__):  # an InitVar: only the stdlib passes it on
        return None
    return _InitPlan(cls)


def _shared_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """The `__init__` of a `@data_class` class until it has its own: the fields set as the stdlib's would.

    Arguments the stdlib's `__init__` would refuse, and the `COMPILE_AFTER`-th construction, give the
    class the stdlib's own `__init__` (`made_init`), which then runs (and raises its usual error).
    """
    cls: Any = type(self)
    plan = _PLANS[cls] if cls in _PLANS else _PLANS.setdefault(cls, _plan(cls))
    if plan is not None and plan.uses < COMPILE_AFTER:
        plan.uses += 1
        if _fill(self, plan, args, kwargs):
            return
    init = made_init(cls)
    cls.__init__ = init
    init(self, *args, **kwargs)


def _fill(self: Any, plan: _InitPlan, args: tuple, kwargs: dict[str, Any]) -> bool:
    """Set the fields of `self` from the arguments, defaults and factories; False if the arguments do not fit."""
    if len(args) > len(plan.positional) or not plan.parameters.issuperset(kwargs):
        return False
    given = dict(zip(plan.positional, args, strict=False))
    if not given.keys().isdisjoint(kwargs):
        return False
    given.update(kwargs)
    assign = object.__setattr__ if plan.frozen else setattr
    for name, init, default, factory in plan.fields:
        if name in given:
            value = given[name]
        elif factory is not dataclasses.MISSING:
            value = factory()
        elif not init:
            continue  # an init-less field with a plain default keeps the class's
        elif default is not dataclasses.MISSING:
            value = default
        else:
            return False
        assign(self, name, value)
    if plan.post_init:
        self.__post_init__()
    return True


def made_init(cls: type) -> Callable[..., None]:
    """The `__init__` that `@dataclass` writes for the fields and frozenness of `cls` (a `@data_class` class).

    Made by the stdlib on a twin with the same fields (defaults, factories, `init=False`, keyword-only)
    and the same `__post_init__`, which the method calls on `self` as a dataclass's does.
    """
    fields = [
        (
            item.name,
            Any,  # the annotation of the parameter only: a string one would be parsed again, for nothing
            dataclasses.field(
                default=item.default, default_factory=item.default_factory, init=item.init, kw_only=item.kw_only
            ),
        )
        for item in dataclasses.fields(cls)
    ]
    namespace: dict[str, Any] = {"__doc__": cls.__doc__}  # a twin without one would have inspect write it
    if hasattr(cls, "__post_init__"):
        namespace["__post_init__"] = cls.__post_init__
    frozen = getattr(cls, "is_frozen", False)
    twin = dataclasses.make_dataclass(
        cls.__qualname__, fields, namespace=namespace, frozen=frozen, repr=False, eq=False
    )
    init: Callable[..., None] = vars(twin)["__init__"]
    return init


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    """A frozen class's `__setattr__`: every assignment is refused, as the stdlib's refuses it."""
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    """A frozen class's `__delattr__`: every deletion is refused."""
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


class Data:
    """The methods a dataclass writes per class, written once for every `@data_class` class.

    `__repr__`, `__eq__` and `__hash__` answer as the stdlib's would for the class's fields and
    frozenness (tests/test_models.py compares each class with a plain twin): equal only to an
    instance of the same class, hashable only when frozen.
    """

    #: Whether `@data_class(frozen=True)` declared the class (its `__dataclass_params__` says not frozen,
    #: since the frozen methods are this class's).
    is_frozen: ClassVar[bool] = False

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
        if not type(self).is_frozen:
            raise TypeError(f"unhashable type: {type(self).__name__!r}")
        hashed = (item for item in _fields(type(self)) if (item.compare if item.hash is None else item.hash))
        return hash(tuple(getattr(self, item.name) for item in hashed))


class DataModel(Data):
    """The model interface of a `@data_class` class: validation, dumps, JSON Schema and copies.

    Unknown fields are refused (`extra="forbid"`); a subclass may widen `__pydantic_config__`.
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

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
