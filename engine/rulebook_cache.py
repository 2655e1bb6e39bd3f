"""A cache of compiled rulebooks on disk, so that a new `bip check` process need not re-validate.

It also keeps the core schemas of the record's and the report's data classes (`load_built_models`),
under a key of the core's source, so a check validates and writes them with pydantic-core alone.

The key is a hash over the core's source files and every YAML file of the rulebook and of
the rulebooks it extends: any change to either gives a new key, so a stale entry is never used.
A rulebook whose `extends` cannot be followed cheaply is simply not cached. The cache lives next
to the compiled templates (`BIP_CACHE_DIR`, default ~/.cache/bip-engine; empty for none).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .paths import default_rules

if TYPE_CHECKING:  # loaded on a cache miss only: the key is worked out without the rulebook models
    from .rulebook import Rulebook

_EXTENDS = re.compile(r"^extends:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", re.MULTILINE)


def cache_folder() -> Path | None:
    """The folder for cached rulebooks, or None when caching is switched off or impossible."""
    folder = os.environ.get("BIP_CACHE_DIR", str(Path.home() / ".cache" / "bip-engine"))
    if not folder:
        return None
    path = Path(folder) / "rulebooks"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


@lru_cache(maxsize=1)
def _engine_fingerprint() -> bytes:
    """A hash of the core's source (engine/*.py and engine/executors/*.py).

    A compiled rulebook is made by the core only (the core imports no wing), so the wings
    (authoring, caseload, service) are left out: they do not change a cached rulebook, and reading
    them would make every `bip check` slower as they grow.

    Reading and hashing the source costs a cold check about a millisecond, so the hash is kept in
    the cache folder under a stamp of the files' sizes, modification and change times and inodes
    (a file written again gets a new change time, which no tool can set back); a stamp not seen
    before means the source is read and hashed again.
    """
    core = os.path.dirname(os.path.realpath(__file__))
    names = []  # (name relative to the core, full path), in the order of the paths' parts
    for sub in ("", "executors"):
        with os.scandir(os.path.join(core, sub)) as entries:
            names += [(os.path.join(sub, e.name), e.path) for e in entries if e.name.endswith(".py") and e.is_file()]
    names.sort(key=lambda item: item[0].split(os.sep))
    stamp = hashlib.sha256()
    for name, path in names:
        status = os.stat(path)
        stamp.update(
            f"{name}\0{status.st_size}\0{status.st_mtime_ns}\0{status.st_ctime_ns}\0{status.st_ino}\n".encode()
        )
    folder = cache_folder()
    memo = folder / f"source-{stamp.hexdigest()}" if folder else None
    if memo is not None:
        try:
            known = memo.read_bytes()
            if len(known) == 32:
                return known
        except OSError:
            pass
    digest = hashlib.sha256()
    for name, path in names:
        with open(path, "rb") as stream:
            digest.update(name.encode() + b"\0" + stream.read())
    if memo is not None:
        try:
            temporary = memo.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(digest.digest())
            temporary.replace(memo)
        except OSError:
            pass
    return digest.digest()


def cache_key(folder: Path, seen: tuple = ()) -> str | None:
    """The cache key of the rulebook in `folder`, or None when it cannot be worked out cheaply."""
    folder = folder.resolve()
    if folder in seen or not folder.is_dir():
        return None
    digest = hashlib.sha256(_engine_fingerprint())
    meta = ""
    for path in sorted(folder.glob("*.yaml")):
        data = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        if path.name == "rulebook.yaml":
            meta = data.decode("utf-8", errors="replace")
    extends = _EXTENDS.findall(meta)
    if "extends" in meta and len(extends) != 1:
        return None
    if extends:
        base = default_rules() if extends[0].strip() == "default" else folder / extends[0].strip()
        base_key = cache_key(base, (*seen, folder))
        if base_key is None:
            return None
        digest.update(base_key.encode())
    return digest.hexdigest()


def made_ahead(rulebook: Rulebook) -> None:
    """Make in `rulebook` what each check would otherwise make on first use, so that the pickle keeps it.

    That is the rulebook in force in each stretch of days (`Rulebook.at`, with its catalogue) and the
    staircase patterns of each view's catalogue, compiled: a check from the cache then only looks
    them up.
    """
    timeline = rulebook.timeline
    for stretch in timeline.stretches():
        view = rulebook.at(timeline.representative(stretch))
        view.catalogue.staircase_matcher()


def load_rulebook_cached(folder: str | Path) -> Rulebook:
    """`load_rulebook`, answered from the cache when the same rulebook was loaded before."""
    from .rulebook import Rulebook, load_rulebook

    folder = Path(folder)
    cache = cache_folder()
    key = cache_key(folder) if cache else None
    if key is None or cache is None:
        return load_rulebook(folder)
    entry = cache / f"{key}.pickle"
    try:
        with entry.open("rb") as stream:
            rulebook = pickle.load(stream)
        if isinstance(rulebook, Rulebook) and rulebook.path == folder:
            return rulebook
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    rulebook = load_rulebook(folder)  # raises for an invalid rulebook, which is never cached
    made_ahead(rulebook)
    try:
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as stream:
            pickle.dump(rulebook, stream, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(entry)
    except (OSError, pickle.PicklingError):
        pass
    return rulebook


#: Bumped when what `load_built_models` keeps changes shape.
_MODELS_VERSION = 2


def _pydantic_version_file() -> bytes:
    """The text of the installed pydantic's `version.py`, which names its version (its core schemas' maker).

    Read as a file, found without importing pydantic: `import pydantic` would cost a check more than
    everything else this module does. Empty when it cannot be found (the key then still names pydantic-core).
    """
    from importlib.util import find_spec

    spec = find_spec("pydantic")
    if spec is None or spec.origin is None:
        return b""
    try:
        with open(os.path.join(os.path.dirname(spec.origin), "version.py"), "rb") as stream:
            return stream.read()
    except OSError:
        return b""


def load_built_models(modules: Iterable[ModuleType]) -> None:
    """Give the data classes of `modules` (`bip_engine.models.DataModel`) their validators and serializers.

    Generating a class's core schema needs pydantic, whose import alone would cost a new `bip check`
    process about as much as everything else it does. The core schemas can be pickled: the first
    process generates those of every class of `modules` and keeps them all in one entry, keyed by
    the core's source (the classes' one definition), pydantic's `version.py` and pydantic-core's version;
    later processes make the validators and serializers from them with pydantic-core alone.
    Without a cache, or when anything is amiss, a class's are made on first use from pydantic.
    """
    from .models import DataModel, core_schema, install, installed

    classes = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, DataModel) and value.__module__ == module.__name__
    ]
    folder = cache_folder()
    if folder is None or all(installed(cls) for cls in classes):
        return
    from pydantic_core import __version__ as core_version

    versions = f"{_MODELS_VERSION}\0{core_version}\0".encode() + _pydantic_version_file()
    digest = hashlib.sha256(_engine_fingerprint() + versions)
    for cls in classes:
        digest.update(f"{cls.__module__}.{cls.__qualname__}\n".encode())
    entry = folder / f"models-{digest.hexdigest()}.pickle"
    try:
        with entry.open("rb") as stream:
            schemas = pickle.load(stream)
        for cls in classes:
            if not installed(cls):
                install(cls, schemas[cls.__qualname__])
        return
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, KeyError, ValueError):
        pass
    schemas = {}
    for cls in classes:
        schemas[cls.__qualname__] = schema = core_schema(cls)
        if not installed(cls):
            install(cls, schema)
    try:
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as stream:
            pickle.dump(schemas, stream, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(entry)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
