"""`bip_engine.models.Data` writes `__repr__`, `__eq__`, `__hash__` and the frozen methods once for every
`@data_class`, and one shared `__init__` builds a class until the stdlib has written its own for it.

Each must behave as the method the stdlib's dataclass would have written for that class: the
expectations come from a plain dataclass made with the same fields and the same `frozen`, or from
the class's declared fields (what a dataclass's `__init__` does with them).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from bip_engine import (
    catalogue,
    check,
    errors,
    evaluation,
    expr,
    facts,
    models,
    normal_form,
    parameters,
    periods,
    record,
    report,
    rulebook,
    staircase,
)
from bip_engine.executors import outcome, python_exec
from bip_engine.models import Data, DataModel, data_class

#: The modules whose classes are `@data_class`es: the models, and the value classes a check defines.
MODULES = (record, report, catalogue, rulebook, check, errors, evaluation, expr, facts, normal_form, outcome)
MODULES += (parameters, periods, python_exec, staircase)

CLASSES = [
    value
    for module in MODULES
    for value in vars(module).values()
    if isinstance(value, type) and issubclass(value, Data) and value.__module__ == module.__name__
]


def _plain_twin(cls: type) -> type:
    """A stdlib dataclass with the fields, name and frozenness of `cls`, writing its own methods."""
    fields = [
        (item.name, object, dataclasses.field(default=None, repr=item.repr, compare=item.compare, hash=item.hash))
        for item in dataclasses.fields(cls)
    ]
    twin = dataclasses.make_dataclass(cls.__name__, fields, frozen=cls.is_frozen, kw_only=True)
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
    if cls.is_frozen:
        assert hash(_made(cls, one)) == hash(twin(**one))
        name = dataclasses.fields(cls)[0].name
        for instance in (_made(cls, one), twin(**one)):
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{name}'"):
                setattr(instance, name, "changed")
            with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{name}'"):
                delattr(instance, name)
    else:
        with pytest.raises(TypeError, match="unhashable"):
            hash(_made(cls, one))
        with pytest.raises(TypeError, match="unhashable"):
            hash(twin(**one))


def _required(cls: type) -> list[dataclasses.Field]:
    return [
        item
        for item in dataclasses.fields(cls)
        if item.init and item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
    ]


def _picklable(value) -> bool:
    try:
        pickle.dumps(value)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_the_init_made_on_first_use_sets_the_fields_as_a_dataclass_would(cls):
    given = {item.name: f"{item.name}-given" for item in _required(cls)}
    instance = cls(**given)
    for item in dataclasses.fields(cls):
        if item.init and item.name in given:
            assert getattr(instance, item.name) == given[item.name]
        elif item.default_factory is not dataclasses.MISSING:  # a new value of the factory's type
            assert type(getattr(instance, item.name)) is type(item.default_factory())
        else:
            assert getattr(instance, item.name) == item.default
    assert set(vars(instance)) == {item.name for item in dataclasses.fields(cls)}
    assert "__init__" in vars(cls)  # made once, kept on the class
    if _required(cls):
        with pytest.raises(TypeError, match=r"missing 1 required (keyword-only|positional) argument"):
            cls(**dict(list(given.items())[1:]))
    with pytest.raises(TypeError, match="unexpected keyword argument 'not_a_field'"):
        cls(**given, not_a_field=1)
    first = dataclasses.fields(cls)[0]
    replaced = dataclasses.replace(instance, **{first.name: "replaced"})
    assert getattr(replaced, first.name) == "replaced" and type(replaced) is cls
    assert copy.copy(instance) == instance
    if all(_picklable(value) for value in vars(instance).values()):  # not a check's lock
        assert pickle.loads(pickle.dumps(instance)) == instance
    if issubclass(cls, DataModel):
        assert getattr(instance.model_copy(update={first.name: "copied"}), first.name) == "copied"


def _shared(cls: type, *args, **kwargs):
    """An instance of `cls` filled by the shared `__init__` (whether or not `cls` has its own by now)."""
    instance = object.__new__(cls)
    assert models._fill(instance, models._InitPlan(cls), args, kwargs)
    return instance


def _compiled(cls: type, *args, **kwargs):
    """An instance of `cls` made by the `__init__` the stdlib writes for it."""
    instance = object.__new__(cls)
    models.made_init(cls)(instance, *args, **kwargs)
    return instance


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_the_shared_init_sets_what_the_stdlib_init_sets(cls):
    given = {item.name: f"{item.name}-given" for item in _required(cls)}
    assert _comparable(_shared(cls, **given)) == _comparable(_compiled(cls, **given))
    positional = [item.name for item in dataclasses.fields(cls) if item.init and not item.kw_only]
    if positional:  # the same values given by position, the keyword-only ones by name
        args = [given.get(name, f"{name}-by-position") for name in positional]
        named = {name: value for name, value in given.items() if name not in positional}
        assert _comparable(_shared(cls, *args, **named)) == _comparable(_compiled(cls, *args, **named))
    everything = {item.name: f"{item.name}-all" for item in dataclasses.fields(cls) if item.init}
    assert _comparable(_shared(cls, **everything)) == _comparable(_compiled(cls, **everything))


def _comparable(instance) -> dict:
    """The fields an `__init__` set, a fresh lock (which equals no other) by its type."""
    return {name: type(value) if "lock" in type(value).__name__ else value for name, value in vars(instance).items()}


def test_the_shared_init_hands_arguments_it_cannot_place_to_the_stdlib_one():
    @data_class(kw_only=True)
    class Plain(Data):
        """A keyword-only class."""

        name: str
        size: int = 1

    plan = models._InitPlan(Plain)
    for args, kwargs in [((), {}), (("a",), {}), ((), {"name": "a", "other": 1})]:
        assert not models._fill(object.__new__(Plain), plan, args, kwargs)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'name'"):
        Plain()
    assert vars(Plain)["__init__"].__name__ == "__init__"  # the refused call gave the class the stdlib's


def test_a_class_constructed_often_gets_the_stdlib_init():
    @data_class(frozen=True)
    class Point(Data):
        """A positional frozen class."""

        x: int
        y: int = 0

    points = [Point(n) for n in range(models.COMPILE_AFTER)]
    assert vars(Point)["__init__"] is models._shared_init
    points.append(Point(99, y=1))
    assert vars(Point)["__init__"].__name__ == "__init__"  # the stdlib's, written for Point
    assert [vars(point) for point in points[:2]] == [{"x": 0, "y": 0}, {"x": 1, "y": 0}]
    assert points[-1] == Point(99, 1) and hash(points[-1]) == hash(Point(99, 1))


def test_a_data_class_constructs_as_a_dataclass_with_defaults_post_init_and_a_subclass():
    @data_class(frozen=True)
    class Base(Data):
        """A positional frozen class with a default, a factory and an init-less field."""

        name: str
        size: int = 3
        tags: list = dataclasses.field(default_factory=list)
        total: int = dataclasses.field(default=0, init=False)

        def __post_init__(self):
            object.__setattr__(self, "total", self.size * 2)

    @data_class(frozen=True)
    class Child(Base):
        """A subclass adding a field: its own `__init__`, not its parent's."""

        extra: str = "x"

    assert vars(Base("a")) == {"name": "a", "size": 3, "tags": [], "total": 6}  # the parent first
    assert vars(Child("b", 4, extra="y")) == {"name": "b", "size": 4, "tags": [], "total": 8, "extra": "y"}
    assert Base("a").tags is not Base("a").tags  # a fresh list each time
    assert Base("a", 5) == Base("a", 5) != Base("a", 6)
    assert (
        repr(Child("b"))
        == "test_a_data_class_constructs_as_a_dataclass_with_defaults_post_init_and_a_subclass.<locals>.Child(name='b', size=3, tags=[], total=6, extra='x')"
    )
    assert Base.__match_args__ == ("name", "size", "tags")  # the init fields
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Base()
    with pytest.raises(dataclasses.FrozenInstanceError):
        Base("a").name = "b"  # type: ignore[misc]


def test_data_class_refuses_a_class_without_the_shared_methods():
    with pytest.raises(TypeError, match="subclasses of Data"):

        @data_class()
        class Plain:
            """No `Data` base: it would get neither `__eq__` nor `__repr__`."""

            name: str


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_each_class_has_its_own_docstring(cls):
    """Without one the stdlib writes `Name(fields)` when the class is defined, with `inspect.signature`
    (whose first use compiles the tokenizer's expressions: milliseconds of every cold check)."""
    assert cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(")


def test_every_model_module_is_listed():
    assert len(CLASSES) >= 66  # the record's, the report's and the catalogue's classes, and the value classes
