"""A cache of compiled rulebooks on disk, so that a new `bip check` process need not re-validate.

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
from functools import lru_cache
from pathlib import Path

from .paths import default_rules
from .rulebook import Rulebook, load_rulebook

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
    """
    digest = hashlib.sha256()
    core = Path(__file__).resolve().parent
    for path in sorted([*core.glob("*.py"), *(core / "executors").glob("*.py")]):
        digest.update(str(path.relative_to(core)).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _key(folder: Path, seen: tuple = ()) -> str | None:
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
        base_key = _key(base, (*seen, folder))
        if base_key is None:
            return None
        digest.update(base_key.encode())
    return digest.hexdigest()


def load_rulebook_cached(folder: str | Path) -> Rulebook:
    """`load_rulebook`, answered from the cache when the same rulebook was loaded before."""
    folder = Path(folder)
    cache = cache_folder()
    key = _key(folder) if cache else None
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
    try:
        temporary = entry.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as stream:
            pickle.dump(rulebook, stream, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(entry)
    except (OSError, pickle.PicklingError):
        pass
    return rulebook
