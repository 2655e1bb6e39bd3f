"""Named parameters: the numbers policy staff tune, with dated values, in `parameters.yaml`.

```yaml
regress_threshold:
  description: {da: Fald der tæller som tilbagegang, en: Fall that counts as regress}
  unit: point                      # optional
  source: danneris_phases          # optional: the finding the number rests on
  values:
    - value: -0.4
      valid_to: 2026-12-31
    - value: -0.5
      valid_from: 2027-01-01
```

A condition uses a parameter by its bare name where a value would stand (`change <= regress_threshold`).
The values of one parameter may not overlap in time, and all are of one kind (numbers, true/false
or text). A local rulebook's `parameters.yaml` replaces a base parameter of the same name as a
whole (its whole history), and adds new ones.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import field
from pathlib import Path
from typing import Any

from .catalogue import Text
from .errors import ProblemList
from .messages import part
from .models import Data, data_class
from .periods import Period, overlapping, read_period
from .yamlio import LineDict

FILE = "parameters.yaml"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KNOWN_FIELDS = {"description", "unit", "source", "values"}
VALUE_FIELDS = {"value", "valid_from", "valid_to"}


@data_class(frozen=True)
class ParameterValue(Data):
    """One value of a parameter and the period it is in force."""

    value: Any
    period: Period
    line: int | None = None


@data_class(frozen=True)
class Parameter(Data):
    """A named parameter with its history of values."""

    name: str
    type: str  # number | boolean | text
    description: Text | None
    unit: str | None
    source: str | None
    values: tuple[ParameterValue, ...]
    path: str | None = None
    line: int | None = None
    origin: str = ""
    overrides: str | None = None

    def value_at(self, day: dt.date) -> Any:
        """The value in force on `day`; KeyError when there is none."""
        for item in self.values:
            if item.period.contains(day):
                return item.value
        raise KeyError(f"parameter '{self.name}' has no value on {day.isoformat()}")

    @property
    def candidates(self) -> tuple:
        """Every value the parameter takes, for type-checking the conditions that use it."""
        return tuple(item.value for item in self.values)


@data_class()
class ParameterSet(Data):
    """All parameters of a rulebook, by name."""

    items: dict[str, Parameter] = field(default_factory=dict)

    def values_at(self, day: dt.date) -> dict[str, Any]:
        """The value of every parameter in force on `day` (parameters without one are left out)."""
        result = {}
        for name, parameter in self.items.items():
            try:
                result[name] = parameter.value_at(day)
            except KeyError:
                continue
        return result

    def periods(self) -> list[Period]:
        """Every period of every value."""
        return [item.period for parameter in self.items.values() for item in parameter.values]


def merged_parameters(layers: list, problems: ProblemList) -> ParameterSet:
    """The parameters of every layer, base first; a later layer replaces a parameter by name."""
    result = ParameterSet()
    for layer in layers:
        if FILE not in layer.files:
            continue
        path, data = layer.files[FILE]
        if data is None:
            continue
        if not isinstance(data, LineDict):
            problems.add("S002.parameters_shape", str(path), getattr(data, "line", None))
            continue
        for name, spec in data.items():
            parameter = _parameter(str(name), spec, path, data.line_of(name), problems, layer.name)
            if parameter is None:
                continue
            base = result.items.get(parameter.name)
            if base is not None:
                parameter = Parameter(**{**parameter.__dict__, "overrides": f"{base.path}:{base.line}"})
            result.items[parameter.name] = parameter
    return result


def _parameter(
    name: str, spec: Any, path: Path, line: int | None, problems: ProblemList, origin: str
) -> Parameter | None:
    where = (str(path), line)
    if not NAME.match(name):
        problems.add("S002.param_name", *where, name=name)
        return None
    if not isinstance(spec, LineDict):
        problems.add("S002.param_mapping", *where, name=name)
        return None
    for key in spec:
        if key not in KNOWN_FIELDS:
            problems.add(
                "S002.param_field",
                str(path),
                spec.line_of(key),
                name=name,
                field=key,
                known=", ".join(sorted(KNOWN_FIELDS)),
            )
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        problems.add("S002.param_values", str(path), spec.line_of("values"), name=name)
        return None
    items: list[ParameterValue] = []
    for index, entry in enumerate(values):
        entry_line = values.item_lines[index] if hasattr(values, "item_lines") else line
        if not isinstance(entry, LineDict) or "value" not in entry:
            problems.add("S002.param_value_entry", str(path), entry_line, name=name, index=index)
            continue
        for key in entry:
            if key not in VALUE_FIELDS:
                problems.add("S002.param_value_field", str(path), entry.line_of(key), name=name, index=index, field=key)
        value = entry["value"]
        if value is None or isinstance(value, (list, dict)):
            problems.add("S002.param_value_kind", str(path), entry.line_of("value"), name=name, index=index)
            continue
        items.append(
            ParameterValue(value, read_period(entry, problems, part("label.parameter", name=name)), entry_line)
        )
    kinds = {_kind(item.value) for item in items}
    if len(kinds) > 1:
        problems.add("S002.param_mix", *where, name=name, kinds=" / ".join(sorted(kinds)))
        return None
    for first, second in overlapping([item.period for item in items]):
        problems.add(
            "D003.param_overlap",
            str(path),
            items[second].line,
            name=name,
            first_line=items[first].line,
            first=items[first].period.part(),
            second_line=items[second].line,
            second=items[second].period.part(),
        )
    description = spec.get("description")
    if isinstance(description, str):
        description = {"da": description, "en": description}
    try:
        text = Text.model_validate(description) if description is not None else None
    except ValueError:
        problems.add("S002.param_description", str(path), spec.line_of("description"), name=name)
        text = None
    unit, source = spec.get("unit"), spec.get("source")
    if not items:
        return None
    items.sort(key=lambda item: item.period.start or dt.date.min)
    return Parameter(
        name,
        kinds.pop(),
        text,
        str(unit) if unit is not None else None,
        str(source) if source is not None else None,
        tuple(items),
        str(path),
        line,
        origin,
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "text"
