"""Rulebook layers: a local rulebook that extends another, merged before validation.

A municipality's rules folder may say `extends: default` (the bundled rulebook) or
`extends: ../other-folder` in its `rulebook.yaml`. Its files are then laid over the base:
- a rule with the id of a base rule overrides the fields it gives (a threshold, a severity, a text)
  and keeps the rest; a rule with a new id is added;
- `disable: [rule ids]` in `rulebook.yaml` switches base rules off;
- catalogue entries (indicators, interventions, findings, checklist points) with a known id replace
  the base entry, new ones are added; staircase patterns and word-table lines are added to the base lists,
  word sets replaced by name;
- `parameters.yaml` replaces base parameters by name (see `bip_engine.parameters`).
Dated variants (several entries of one id with `valid_from` / `valid_to`): an override addresses
the base variant with the same `valid_from` (no `valid_from` on both sides is the same); when the
base has a single variant, an override without `valid_from` addresses it whatever its dates. An
override whose `valid_from` matches no base variant adds a new variant, taking the fields it does
not give from the base variant that starts last before it (never its dates).
Every merged value remembers the file and line it came from, so problems point at the right file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ProblemList
from .expr import closest
from .paths import default_rules
from .periods import as_date
from .yamlio import LineDict, LineList, parse_yaml, read_text

#: The lists of each catalogue file that a layer merges, with the key that identifies an entry (None: by value).
CATALOGUE_KEYS: dict[str, dict[str, str | None]] = {
    "indicators.yaml": {"indicators": "id"},
    "interventions.yaml": {"types": "id", "interventions": "id"},
    "findings.yaml": {"findings": "id"},
    "checklist.yaml": {"points": "number"},
    "staircase.yaml": {"phrases": None, "words": None, "sets": "name"},
}
META_FILE = "rulebook.yaml"
PARAMETERS_FILE = "parameters.yaml"
RELEASE_FILE = "release.json"


@dataclass
class Layer:
    """One rulebook folder and its loaded YAML files."""

    folder: Path
    files: dict[str, tuple[Path, Any]] = field(default_factory=dict)

    @property
    def meta(self) -> Any:
        """The loaded rulebook.yaml (or None)."""
        return self.files.get(META_FILE, (None, None))[1]

    @property
    def name(self) -> str:
        """The layer's rulebook name, or its folder name."""
        meta = self.meta
        return str(meta.get("name")) if isinstance(meta, dict) and meta.get("name") else self.folder.name


@dataclass
class RuleEntry:
    """A rule as merged from the layers, before validation."""

    stage: Any
    data: LineDict
    origin: str
    layer: int
    overrides: str | None = None
    first_layer: int = -1  # the layer that first defined this variant (-1: this entry's own layer)

    def __post_init__(self) -> None:
        if self.first_layer < 0:
            self.first_layer = self.layer


def read_layers(folder: Path, problems: ProblemList, _chain: tuple[Path, ...] = ()) -> list[Layer]:
    """The layers of the rulebook in `folder`, base first, following `extends`."""
    folder = folder.resolve()
    if folder in _chain:
        problems.add("S010.loop", str(folder / META_FILE))
        return []
    layer = Layer(folder)
    for path in sorted(folder.glob("*.yaml")):
        text, problem = read_text(path)
        data, problem = parse_yaml(text, str(path)) if text is not None else (None, problem)
        if problem:
            problems.items.append(problem)
        else:
            layer.files[path.name] = (path, data)
    meta = layer.meta
    base = meta.get("extends") if isinstance(meta, dict) else None
    if base is None:
        return [layer]
    base_folder = default_rules() if base == "default" else (folder / str(base))
    if not base_folder.is_dir():
        problems.add(
            "S010.no_base", str(folder / META_FILE), meta.line_of("extends"), base=str(base), folder=str(base_folder)
        )
        return [layer]
    return [*read_layers(base_folder, problems, (*_chain, folder)), layer]


def content_hash(layers: list[Layer]) -> str:
    """A SHA-256 over the names and bytes of every YAML file of every layer."""
    digest = hashlib.sha256()
    for index, layer in enumerate(layers):
        for name, (path, _) in sorted(layer.files.items()):
            digest.update(f"{index}/{name}".encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def merged_catalogue(layers: list[Layer], name: str) -> tuple[Path | None, Any]:
    """A catalogue file merged over the layers: entries replaced or added by id."""
    path, merged = None, None
    for layer in layers:
        if name not in layer.files:
            continue
        layer_path, data = layer.files[name]
        if merged is None or not isinstance(data, LineDict) or not isinstance(merged, LineDict):
            path, merged = layer_path, data
            continue
        combined = _copy(merged)
        for key, id_key in CATALOGUE_KEYS[name].items():
            if isinstance(data.get(key), list):
                combined[key] = _merge_list(merged.get(key), data[key], id_key)
                combined.key_lines[key], combined.key_paths[key] = data.line_of(key), str(layer_path)
        path, merged = layer_path, combined
    return path, merged


def _start(item: Any) -> Any:
    value = item.get("valid_from") if isinstance(item, dict) else None
    return as_date(value) or value


def addressed(base: list, item: Any, data_of: Any = lambda entry: entry) -> int | None:
    """The position in `base` of the variant that the override `item` addresses, or None (a new variant)."""
    for position, entry in enumerate(base):
        if _start(data_of(entry)) == _start(item):
            return position
    if len(base) == 1 and _start(item) is None:
        return 0
    return None


def _inherit_from(base: list[RuleEntry], item: Any) -> RuleEntry:
    """The base variant a new dated variant takes its other fields from: the last to start before it."""
    start = as_date(item.get("valid_from"))
    earlier = [entry for entry in base if start is None or (as_date(entry.data.get("valid_from")) or start) <= start]
    return (earlier or base)[-1]


def merged_rules(layers: list[Layer], problems: ProblemList) -> tuple[list[RuleEntry], list[RuleEntry], list]:
    """Rule entries over the layers (overrides applied), the disabled ones, and the phase lists."""
    entries: dict[str, list[RuleEntry]] = {}
    disabled: list[RuleEntry] = []
    anonymous: list[RuleEntry] = []
    phase_lists: list[tuple[Path, Any]] = []
    for number, layer in enumerate(layers):
        for name, (path, data) in layer.files.items():
            if name in CATALOGUE_KEYS or name in (META_FILE, PARAMETERS_FILE) or not isinstance(data, LineDict):
                continue
            stage = data.get("stage")
            if isinstance(data.get("phases"), list):
                phase_lists.append((path, data))
            for item in data.get("rules") or [] if isinstance(data.get("rules"), list) else []:
                if not isinstance(item, LineDict) or not isinstance(item.get("id"), str):
                    anonymous.append(RuleEntry(stage, item, layer.name, number))
                    continue
                variants = entries.setdefault(item["id"], [])
                base = [entry for entry in variants if entry.first_layer < number]
                if not base:
                    variants.append(RuleEntry(stage, item, layer.name, number))
                    continue
                if base[0].stage != stage:
                    problems.add(
                        "S008.stage", str(path), item.line, rule=item["id"], base_stage=base[0].stage, stage=stage
                    )
                    continue
                position = addressed(base, item, lambda entry: entry.data)
                if position is None:
                    template = _inherit_from(base, item)
                    undated = _without_dates(template.data)
                    variants.append(
                        RuleEntry(
                            stage,
                            _overlay(undated, item),
                            layer.name,
                            number,
                            # a new variant overrides nothing; it names the base variant it takes fields from
                            f"{template.data.path}:{template.data.line}" if template.layer < number else None,
                        )
                    )
                    continue
                target = base[position]
                if target.layer == number:
                    problems.add(
                        "S004.rule_twice",
                        str(path),
                        item.line,
                        rule=item["id"],
                        place=f"{target.data.path}:{target.data.line}",
                    )
                    continue
                variants[variants.index(target)] = RuleEntry(
                    stage,
                    _overlay(target.data, item),
                    layer.name,
                    number,
                    f"{target.data.path}:{target.data.line}",
                    target.first_layer,
                )
        disabled += _disable(layer, number, entries, problems)
    return [entry for variants in entries.values() for entry in variants] + anonymous, disabled, phase_lists


def _without_dates(data: LineDict) -> LineDict:
    copy = _copy(data)
    for key in ("valid_from", "valid_to"):
        copy.pop(key, None)
    return copy


def _disable(layer: Layer, number: int, entries: dict[str, list[RuleEntry]], problems: ProblemList) -> list[RuleEntry]:
    meta = layer.meta
    disabled = meta.get("disable") if isinstance(meta, dict) else None
    if not isinstance(disabled, LineList):
        return []
    removed = []
    for index, rule_id in enumerate(disabled):
        if entries.get(rule_id) and any(entry.first_layer < number for entry in entries[rule_id]):
            removed.extend(entries.pop(rule_id))
        else:
            problems.add(
                "S009.disable",
                str(layer.files[META_FILE][0]),
                disabled.item_lines[index],
                rule=str(rule_id),
                hint_name=closest(str(rule_id), [key for key, value in entries.items() if value]),
            )
    return removed


def _copy(data: LineDict) -> LineDict:
    copy = LineDict(data)
    copy.line, copy.path = data.line, data.path
    copy.key_lines = dict(getattr(data, "key_lines", {}))
    copy.key_paths = {key: data.path_of(key) for key in data}
    return copy


def _overlay(base: LineDict, override: LineDict) -> LineDict:
    """The base entry with the override's fields laid over it."""
    merged = _copy(base)
    merged.path, merged.line = override.path, override.line
    for key, value in override.items():
        merged[key] = value
        merged.key_lines[key], merged.key_paths[key] = override.line_of(key), override.path
    return merged


def _merge_list(base: Any, extra: LineList, id_key: str | None) -> LineList:
    result = LineList(base if isinstance(base, list) else [])
    result.item_lines = list(getattr(base, "item_lines", [None] * len(result)))
    result.line, result.path = extra.line, extra.path
    for item, line in zip(extra, extra.item_lines, strict=False):
        if id_key is None:
            if item not in result:
                result.append(item)
                result.item_lines.append(line)
            continue
        key = item.get(id_key) if isinstance(item, dict) else None
        same = [i for i, old in enumerate(result) if isinstance(old, dict) and old.get(id_key) == key]
        chosen = addressed([result[i] for i in same], item) if same else None
        position = same[chosen] if chosen is not None else None
        if position is None or key is None:
            result.append(item)
            result.item_lines.append(line)
        else:
            result[position], result.item_lines[position] = item, line
    return result
