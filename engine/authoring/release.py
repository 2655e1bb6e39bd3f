"""`bip rules release`: validate a rulebook and write it to the release store, approved by a second person.

The combined rulebook (the folder and every rulebook it extends) and its guidance templates (the
bundled ones, then the `--guidance` folders) are validated as `bip rules validate` does; an invalid
rulebook is refused with its problems. The files are then copied into a new folder of the store,
named by the hash of their content (see `bip_engine.releases`), and made read-only. Releasing the same
content again writes nothing and says which release already holds it.

Scenarios: given a folder of `.feature` files (`bip rules release --features DIR`, by default the
bundled scenarios, as `bip rules test` runs them), the files go into the release (`features/`) and
are run against the released rules before the release is written. A failing scenario (or a feature
file with a Gherkin problem) refuses the release (L006) unless `allow_failing` gives a reason; the
result of every scenario, and that reason with the approver, are kept in `release.json`
(`scenarios`).

Four eyes: the approver must not be the last author of the change. The author is the `author:` of
the `rulebook.yaml` of the top-most layer whose files changed since the newest release of the same
name (all layers, for a first release). `--self-approve` lets the author approve anyway; the
release records that it was self-approved.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProblemList, RulebookError, problem
from ..layers import META_FILE, Layer, read_layers
from ..paths import default_guidance
from ..releases import (
    DEFAULT_STORE,
    MANIFEST,
    Release,
    ReleaseError,
    content_hash,
    list_releases,
    point_latest,
    read_release,
)
from ..rulebook import load_rulebook
from ..yamlio import LineDict
from .scenario_runner import ScenarioRun, lint, run_and_collect
from .validate import validate

FEATURES = "features"
_EXTENDS = re.compile(r"^extends:.*$", re.MULTILINE)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ReleaseResult:
    """What `make_release` did: the release, and whether it was new."""

    release: Release
    created: bool
    warnings: list = field(default_factory=list)  # the validation warnings (e.g. V004), shown, not refusing


def _layer_folders(folder: Path) -> tuple[list, list[str]]:
    problems = ProblemList()
    layers = read_layers(Path(folder), problems)
    problems.raise_if_any(RulebookError)
    names = [f"{index}-{_SAFE.sub('_', layer.name)}" for index, layer in enumerate(layers)]
    return layers, names


def release_files(
    folder: str | Path, guidance: list[str | Path] | tuple = (), features: str | Path | None = None
) -> tuple[dict[str, bytes], list, list[str]]:
    """The files of a release (relative path -> bytes), the layers and their folder names in the release."""
    layers, names = _layer_folders(Path(folder))
    files: dict[str, bytes] = {}
    for index, layer in enumerate(layers):
        for name, (path, _) in sorted(layer.files.items()):
            data = path.read_bytes()
            if name == META_FILE and index > 0:
                text = data.decode("utf-8-sig")
                text, count = _EXTENDS.subn(f"extends: ../{names[index - 1]}", text)
                if count != 1:
                    raise ReleaseError(problem("L003.extends", str(path)))
                data = text.encode("utf-8")
            files[f"rules/{names[index]}/{name}"] = data
    for number, root in enumerate([default_guidance(), *[Path(item) for item in guidance]]):
        for path in sorted(root.rglob("*.j2")):
            files[f"guidance/{number}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    if features is not None:
        root = Path(features)
        for path in sorted(root.rglob("*.feature")):
            files[f"{FEATURES}/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    return files, layers, names


def _author(layer: Layer) -> tuple[list[str], str, int | None]:
    meta = layer.meta if isinstance(layer.meta, LineDict) else LineDict()
    author = meta.get("author")
    names = [author] if isinstance(author, str) else [str(item) for item in author or []]
    path = str(layer.files.get(META_FILE, (layer.folder / META_FILE, None))[0])
    return [name.strip() for name in names if str(name).strip()], path, meta.line_of("author") if meta else None


def _changed_layers(files: dict[str, bytes], names: list[str], previous: Release | None) -> list[int]:
    if previous is None:
        return list(range(len(names)))
    changed = []
    for index, name in enumerate(names):
        prefix = f"rules/{name}/"
        old_folder = previous.folder / "rules" / name
        mine = {key[len(prefix) :]: data for key, data in files.items() if key.startswith(prefix)}
        old = {path.name: path.read_bytes() for path in old_folder.glob("*.yaml")} if old_folder.is_dir() else {}
        if mine != old:
            changed.append(index)
    return changed


def make_release(
    folder: str | Path,
    approved_by: str,
    note: str | None = None,
    store: str | Path = DEFAULT_STORE,
    guidance: list[str | Path] | tuple = (),
    self_approve: bool = False,
    now: dt.datetime | None = None,
    features: str | Path | None = None,
    allow_failing: str | None = None,
    engine: str = "python",
) -> ReleaseResult:
    """Validate, test and write a release; raise `RulebookError` (invalid) or `ReleaseError` (refused).

    `features`: the folder of scenarios to carry and run (None: none, recorded as such);
    `allow_failing`: the reason to release although scenarios fail (recorded with the approver).
    """
    approver = approved_by.strip()
    if not approver:
        raise ReleaseError(problem("L002.no_approver"))
    if allow_failing is not None and not allow_failing.strip():
        raise ReleaseError(problem("L006.no_reason"))
    if features is not None:
        lint_problems = lint(features)
        if lint_problems:
            raise ReleaseError(
                [*lint_problems, problem("L006.lint", str(features), features=str(features), count=len(lint_problems))]
            )
    result = validate(folder, list(guidance))
    if not result.ok:
        raise RulebookError(result.errors)
    rulebook = result.rulebook
    assert rulebook is not None, "a rulebook without errors has loaded"
    files, layers, names = release_files(folder, guidance, features)
    digest = content_hash(files)
    store = Path(store)
    target = store / digest
    if (target / MANIFEST).is_file():
        return ReleaseResult(read_release(target), created=False, warnings=result.warnings)

    previous = next((item for item in reversed(list_releases(store)) if item.name == rulebook.name), None)
    changed = _changed_layers(files, names, previous) or [len(names) - 1]  # only templates changed: the top layer
    authors, where, line = _author(layers[changed[-1]])
    if not self_approve:
        if not authors:
            raise ReleaseError(problem("L003.no_author", where, line))
        if approver.casefold() in (name.casefold() for name in authors):
            raise ReleaseError(problem("L002.author", where, line, approver=approver))
    manifest = {
        "hash": digest,
        "name": rulebook.name,
        "version": rulebook.version,
        "time": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "approver": approver,
        "authors": authors,
        "self_approved": self_approve and (not authors or approver.casefold() in (a.casefold() for a in authors)),
        "note": note,
        "source_hash": rulebook.content_hash,
        "layers": names,
        "previous": previous.hash if previous else None,
        "files": {name: content_hash({name: data}) for name, data in sorted(files.items())},
    }
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=store))
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        manifest["rulebook_hash"] = load_rulebook(staging / "rules" / names[-1]).content_hash
        manifest["scenarios"] = _scenarios(staging / "rules" / names[-1], features, engine, approver, allow_failing)
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        _read_only(staging)
        try:
            os.rename(staging, target)
        except OSError:
            if (target / MANIFEST).is_file():  # another process wrote the same release meanwhile
                return ReleaseResult(read_release(target), created=False)
            raise
    finally:
        if staging.exists():
            _writable(staging)
            shutil.rmtree(staging, ignore_errors=True)
    point_latest(store, digest, approver, note or "release", now)  # a new release is `latest`
    return ReleaseResult(read_release(target), created=True, warnings=result.warnings)


def _scenarios(
    rules: Path, features: str | Path | None, engine: str, approver: str, allow_failing: str | None
) -> dict | None:
    """Run the scenarios against the released rules: their results for `release.json`, or L006."""
    if features is None:
        return None
    root = Path(features).resolve()
    run: ScenarioRun = run_and_collect(rules, root, engine)
    results = []
    for item in run.scenarios:
        path = Path(item["feature"]).resolve()
        results.append(
            {
                "feature": f"{FEATURES}/{path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name}",
                "line": item["line"],
                "name": item["name"],
                "outcome": item["outcome"],
                **({"step_line": item["step_line"]} if item["outcome"] != "passed" and item.get("step_line") else {}),
            }
        )
    failed = [item for item in run.scenarios if item["outcome"] != "passed"]
    if (failed or run.exit_code != 0) and allow_failing is None:
        lines = [f"  {item['feature']}:{item.get('step_line') or item['line']}: {item['name']}" for item in failed]
        raise ReleaseError(
            problem(
                "L006.failing",
                str(features),
                count=len(failed) or 1,
                features=str(features),
                failures="\n".join(lines) or run.output.strip()[-2000:],
            )
        )
    return {
        "engine": engine,
        "exit_code": run.exit_code,
        "passed": len(run.scenarios) - len(failed),
        "failed": len(failed),
        "results": results,
        "failing_allowed": {"reason": allow_failing.strip(), "by": approver} if failed and allow_failing else None,
    }


def _read_only(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    root.chmod(0o555)


def _writable(root: Path) -> None:
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
