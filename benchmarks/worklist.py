"""The caseworker's worklist at 1,000 and 10,000 citizens, through a real `bip serve`. Prints a Markdown table.

    python benchmarks/worklist.py [--sizes 1000 10000] [--repeat 20]

For each size a synthetic cohort (seed 42, as of today) is written as JSON Lines and served with
`bip serve --caseload`. The table gives the time the background thread takes to read the caseload
and build the worklist (off the request path: the first page waits for it once, at start), then
the median and the slowest of `--repeat` requests of a signed-in caseworker for: the first page
(triage order), a filter (one phase and one flag), the next page of that filter, a search by id,
and another order. Then the export is changed (one citizen appended) and the same first page is
timed while the worklist is rebuilt (in a child process), with `/healthz` beside it and, for
comparison, `/healthz` while nothing is being read: neither waits for the rebuild.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service_server import start_server


def cohort(folder: Path, size: int) -> Path:
    """`size` synthetic citizens as of today, as a JSON Lines export."""
    from bip_engine.caseload.simulate import generate_cohort

    path = folder / f"cohort-{size}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for item in generate_cohort(size, seed=42, as_of=dt.date.today()):
            out.write(json.dumps(item) + "\n")
    return path


def signed_in(base_url: str, token: str) -> httpx.Client:
    """A client with a signed-in page session."""
    client = httpx.Client(base_url=base_url, timeout=300)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    client.post("/login", data={"csrf": csrf, "token": token})
    return client


def timed(client: httpx.Client, path: str, params: dict, repeat: int) -> tuple[float, float, str]:
    """Median and slowest time of `repeat` GETs in ms, and the last answer's text."""
    times, text = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text[:300]
        text = answer.text
    return statistics.median(times), max(times), text


def run(size: int, repeat: int) -> list[str]:
    """The table rows for one cohort size."""
    folder = Path(tempfile.mkdtemp(prefix="bip-bench-worklist-"))
    path = cohort(folder, size)
    server = start_server(folder / "server", "--engine", "python", "--caseload", str(path))
    rows = []
    try:
        client = signed_in(server.base_url, server.tokens["caseworker"])
        started = time.perf_counter()
        first = client.get("/")  # waits (up to a minute) for the first reading and worklist, then says it is coming
        while 'id="worklist-count"' not in first.text:
            time.sleep(0.5)
            first = client.get("/")
        build = time.perf_counter() - started
        count = re.search(r'id="worklist-count" role="status">([^<·]+)', first.text).group(1).strip()
        rows.append(
            f"| {size:,} | read and build the worklist (background, once) | {build * 1000:,.0f} ms | | {count} |"
        )
        phase = re.search(r'class="phase-tag phase-([a-z]+)"', first.text).group(1)
        flag = re.search(r'<option value="([a-z_0-9]+)">', first.text.split('id="f-flag"')[1]).group(1)
        asks = [
            ("first page (triage order)", {}),
            ("a filter (phase and flag)", {"phase": phase, "flag": flag}),
            ("the filter's next page", {"phase": phase, "flag": flag, "page": 2}),
            ("search by id", {"q": "SIM-0000"}),
            ("another order (months without an intervention)", {"sort": "intervention"}),
        ]
        for name, params in asks:
            median, slowest, text = timed(client, "/", params, repeat)
            found = re.search(r'id="worklist-count" role="status">([^<·]+)', text).group(1).strip()
            rows.append(f"| {size:,} | {name} | {median:.1f} ms | {slowest:.1f} ms | {found} |")
        quiet = []
        probe = httpx.Client(base_url=server.base_url, timeout=60)  # one connection, as a load balancer keeps
        for _ in range(repeat):  # /healthz while nothing is being read, to compare with below
            started = time.perf_counter()
            probe.get("/healthz")
            quiet.append((time.perf_counter() - started) * 1000)
        rows.append(
            f"| {size:,} | `/healthz`, nothing being read | {statistics.median(quiet):.1f} ms | {max(quiet):.1f} ms | |"
        )
        with path.open("a", encoding="utf-8") as out:  # the export changes: one more citizen
            newcomer = json.loads(path.open(encoding="utf-8").readline())
            out.write(json.dumps({**newcomer, "id": "SIM-NEW"}) + "\n")
        times, health = [], []
        changed = time.perf_counter()
        while True:
            started = time.perf_counter()
            page = client.get("/", params={"q": "SIM-NEW"})
            times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            probe.get("/healthz")
            health.append((time.perf_counter() - started) * 1000)
            if 'data-citizen="SIM-NEW"' in page.text or time.perf_counter() - changed > 300:
                break
            time.sleep(0.05)
        swapped = time.perf_counter() - changed
        rows.append(
            f"| {size:,} | first page while the changed export is read ({len(times)} requests) | "
            f"{statistics.median(times):.1f} ms | {max(times):.1f} ms | new citizen listed after {swapped:.1f} s |"
        )
        rows.append(
            f"| {size:,} | `/healthz` meanwhile | {statistics.median(health):.1f} ms | {max(health):.1f} ms | |"
        )
    finally:
        server.stop()
    return rows


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    print(f"Load average before: {' '.join(f'{value:.1f}' for value in os.getloadavg())} ({os.cpu_count()} cores)\n")
    print("| citizens | request | median | slowest | answer |")
    print("|---:|---|---:|---:|---|")
    for size in arguments.sizes:
        for row in run(size, arguments.repeat):
            print(row, flush=True)


if __name__ == "__main__":
    main()
