"""Sorting a stream that may not fit in memory: sorted runs spilled to disk, then merged.

Used to put a whole caseload in triage order while keeping memory flat: at most `run_size`
items are held at once; each full run is sorted and written to a temporary file, and the runs
are merged lazily with `heapq.merge`.
"""

from __future__ import annotations

import heapq
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any


def external_sort(items: Iterable[dict], key: Callable[[dict], Any], run_size: int = 20000) -> Iterator[dict]:
    """Yield JSON-serialisable `items` sorted by `key` (stable), holding at most `run_size` in memory."""
    runs: list = []
    buffer: list[tuple[Any, int, dict]] = []
    for index, item in enumerate(items):
        buffer.append((key(item), index, item))
        if len(buffer) >= run_size:
            runs.append(_spill(buffer))
            buffer = []
    buffer.sort(key=lambda entry: entry[:2])
    if not runs:
        yield from (item for *_, item in buffer)
        return
    streams = [_read_run(run) for run in runs] + [iter(buffer)]
    try:
        for *_, item in heapq.merge(*streams, key=lambda entry: entry[:2]):
            yield item
    finally:
        for run in runs:
            run.close()


def _spill(buffer: list) -> Any:
    buffer.sort(key=lambda entry: entry[:2])
    run = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 - the merge closes it
    for sort_key, index, item in buffer:
        run.write(json.dumps([sort_key, index, item], ensure_ascii=False) + "\n")
    run.seek(0)
    return run


def _read_run(run: IO[str]) -> Iterator[tuple]:
    for line in run:
        sort_key, index, item = json.loads(line)
        yield _tuple(sort_key), index, item


def _tuple(value: Any) -> Any:
    """JSON turns tuples into lists; turn them back so keys compare like the originals."""
    return tuple(_tuple(part) for part in value) if isinstance(value, list) else value
