"""Reading the release store: approved, immutable, content-addressed rulebooks.

A release is a folder `<store>/<hash>/` (default store `./bip-releases`), written once by
`bip rules release` (`bip_engine.authoring.release`) and read-only afterwards:

    release.json            name, version, hash, authors, approver, self_approved, time, note, ...
    rules/0-<base name>/    every layer of the combined rulebook, base first; each `extends`
    rules/1-<local name>/   points at the layer below it inside the release
    guidance/0/, 1/ ...     the guidance templates (0: the bundled ones, 1...: the `--guidance` folders
                            in the order given; as on the command line, the first holding a
                            template wins, and 0 comes last)
    features/<n>/...        the Gherkin scenarios the release was tested with (`bip rules test`)

The hash is a SHA-256 over the paths and bytes of every file under `rules/`, `guidance/` and
`features/`, so the same content always gets the same name.

`latest` is the newest release, unless the store's pointer `latest.json` names another: a new
release points `latest` at itself, and a rollback (`bip rules rollback REF --by NAME --reason TEXT`,
or `bip rules release --point-latest` of content released before) points it back at an earlier one.
Every move of the pointer is also appended to `latest-history.jsonl` with who, why and when. `load_release` gives the folder that `load_rulebook`
reads; a rulebook loaded from there knows its release (`Rulebook.release`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BipError, problem

DEFAULT_STORE = Path("bip-releases")
MANIFEST = "release.json"
LATEST = "latest"
POINTER = "latest.json"
HISTORY = "latest-history.jsonl"


class ReleaseError(BipError):
    """A release that cannot be found, is ambiguous, or may not be written."""

    exit_code = 2


@dataclass(frozen=True)
class Release:
    """One release in the store."""

    hash: str
    name: str
    version: str
    time: str
    approver: str
    authors: list[str]
    self_approved: bool
    note: str | None
    rulebook_hash: str  # the content hash of the rulebook as loaded from the release
    source_hash: str  # the content hash of the rulebook it was made from
    folder: Path
    layers: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def rules(self) -> Path:
        """The folder `load_rulebook` reads: the top layer."""
        return self.folder / "rules" / self.layers[-1]

    @property
    def guidance(self) -> list[Path]:
        """The guidance folders as a search path: the first folder holding a template wins.

        That is the order `Guidance`, `Checker` and `validate` take their folders in, so a check, a
        service and a replay from a release all render the municipality's templates (`guidance/1`, 2, ...,
        in the order of `--guidance`) over the bundled copy (`guidance/0`), which comes last.
        """
        root = self.folder / "guidance"
        folders = (
            sorted((path for path in root.iterdir() if path.is_dir()), key=lambda path: int(path.name))
            if root.is_dir()
            else []
        )
        return [*folders[1:], *folders[:1]]

    def matches(self, rulebook_hash: str) -> bool:
        """Whether a logged rulebook hash was made by this release (or by the folder it came from)."""
        return rulebook_hash in (self.rulebook_hash, self.source_hash)


def content_hash(files: dict[str, bytes]) -> str:
    """The release hash of a set of files (relative path -> bytes)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def read_release(folder: Path) -> Release:
    """The release in `folder`; ReleaseError when its manifest cannot be read."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return Release(
            hash=data["hash"],
            name=data["name"],
            version=data["version"],
            time=data["time"],
            approver=data["approver"],
            authors=list(data.get("authors") or []),
            self_approved=bool(data.get("self_approved")),
            note=data.get("note"),
            rulebook_hash=data["rulebook_hash"],
            source_hash=data.get("source_hash", ""),
            folder=folder,
            layers=list(data["layers"]),
            manifest=data,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReleaseError(problem("L001.unreadable", str(folder / MANIFEST), reason=str(exc))) from None


def list_releases(store: str | Path = DEFAULT_STORE) -> list[Release]:
    """Every release in the store, oldest first (an absent store has none)."""
    root = Path(store)
    if not root.is_dir():
        return []
    releases = [read_release(path) for path in root.iterdir() if (path / MANIFEST).is_file()]
    return sorted(releases, key=lambda release: (release.time, release.hash))


def open_release(store: str | Path, ref: str) -> Release:
    """The release named by a full hash, a unique prefix of one, or `latest`."""
    releases = list_releases(store)
    if not releases:
        raise ReleaseError(problem("L001.empty", str(store)))
    if ref == LATEST:
        pointer = latest_pointer(store)
        chosen = [release for release in releases if pointer and release.hash == pointer.get("hash")]
        return chosen[0] if chosen else releases[-1]
    found = [release for release in releases if release.hash.startswith(ref.strip().lower())] if ref.strip() else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise ReleaseError(problem("L001.unknown", str(store), ref=ref))
    raise ReleaseError(problem("L001.ambiguous", str(store), ref=ref, count=len(found)))


def latest_pointer(store: str | Path) -> dict[str, Any] | None:
    """The store's `latest` pointer (hash, by, reason, time, previous), or None when `latest` is the newest."""
    path = Path(store) / POINTER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ReleaseError(problem("L001.unreadable", str(path), reason=str(exc))) from None
    return data if isinstance(data, dict) else None


def point_latest(
    store: str | Path, ref: str, by: str, reason: str, now: dt.datetime | None = None
) -> tuple[Release, Release | None]:
    """Point `latest` at the release `ref`, recording who and why; (the release, the one `latest` was before)."""
    if not by.strip() or not reason.strip():
        raise ReleaseError(problem("L007.who_why", str(store)))
    release = open_release(store, ref)
    try:
        before: Release | None = open_release(store, LATEST)
    except ReleaseError:
        before = None
    entry = {
        "hash": release.hash,
        "by": by.strip(),
        "reason": reason.strip(),
        "time": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "previous": before.hash if before else None,
    }
    root = Path(store)
    staging = root / f".{POINTER}.{os.getpid()}"
    staging.write_text(json.dumps(entry, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(staging, root / POINTER)  # atomic: a reloading service sees the old or the new pointer
    with (root / HISTORY).open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return release, before


def release_side(side: str, store: str | Path = DEFAULT_STORE) -> str:
    """A side of `bip rules diff` (`REF[@DATE]`): a release's rules folder for a release ref, else unchanged.

    A side whose part before `@` is an existing folder stays a folder; otherwise a hash, a unique
    prefix of one or `latest` names a release of `store` (ReleaseError when none matches).
    """
    folder, at, day = str(side).rpartition("@") if "@" in str(side) else (str(side), "", "")
    if Path(folder).exists() or not folder:
        return str(side)
    looks_like_ref = folder == LATEST or all(char in "0123456789abcdef" for char in folder.lower())
    if not looks_like_ref:
        return str(side)
    return f"{open_release(store, folder).rules}{at}{day}"


def load_release(store: str | Path, ref: str) -> Path:
    """The rulebook folder of a release (hash, unique prefix or `latest`), for `load_rulebook`."""
    return open_release(store, ref).rules


def resolve(store: str | Path | None, ref: str | None) -> Release | None:
    """The release a service should run now: `ref` looked up again (so `latest` follows new releases).

    None when no release was asked for. Meant for `bip serve`'s reload: call it on SIGHUP and load
    `release.rules` with `release.guidance` when its hash differs from the one in use.
    """
    if not ref:
        return None
    return open_release(store or DEFAULT_STORE, ref)


def find_by_rulebook_hash(store: str | Path, rulebook_hash: str) -> Release | None:
    """The newest release whose rulebook (or source rulebook) has this content hash."""
    matches = [release for release in list_releases(store) if release.matches(rulebook_hash)]
    return matches[-1] if matches else None
