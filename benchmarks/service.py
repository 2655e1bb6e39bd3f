"""`bip serve` under load from wrk: checks per second, latency, errors, memory and reloads. Prints Markdown.

    python benchmarks/service.py [--engine python] [--workers 1 2] [--duration 15] [--requests 100000] [--rates 500 750]

It needs wrk, the HTTP load generator (Debian: `apt-get install wrk`); the tests do not.

For each number of worker processes it starts `bip serve` (decision log on SQLite in a temporary
folder, no access log) and drives `POST /v1/check` with /usr/bin/wrk and a Lua script that sends
`--records` different synthetic citizens in turn (default 2,000: a check is rarely a repeat)
with a caseworker's token:
- at 1, 8 and 32 connections for `--duration` seconds each, every connection sending its next check
  as soon as it has the answer (the most the server can do): checks/s, p50 and p99 latency,
  errors (non-2xx answers and socket errors);
- 32 connections that together offer `--rates` checks a second (default 500, the target, and 750)
  at random moments, as independent systems would: the same columns, and how the connections
  are spread over the workers 3 s into the row and 3 s before its end (wrk opens all 32 at once). A server at its limit makes
  every client wait for all the others (32 clients at 1,000 checks/s wait 32 ms on average, by
  Little's law), so these rows show the latency at a given load;
- the resident memory of the server (all its processes) before, during and after `--requests`
  more checks at 32 connections;
- 20 reloads while 8 connections keep checking, every other one with an invalid rulebook (SIGHUP:
  the master loads the files, and replaces the workers gracefully only when they load);
- three bursts, 8 s apart, of 2,000 bare TCP connections (no request) held 1 s and closed; then
  whether the server still answers a check and whether any worker was replaced.
The load average of the machine is printed with each row (wrk and the server share the 2 cores,
and anything else running shows in the numbers), and so is the time of one check in the benchmark's
own process just before the row (`Yardstick`): the machine's speed drifts, and rows are
comparable through it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.service_server import connection_split, start_server

WRK = shutil.which("wrk") or "/usr/bin/wrk"
AS_OF = "2026-11-22"
ROWS = ("1", "8", "32", "offered", "memory", "reloads", "bursts")


def lua_script(folder: Path, token: str, records: int = 2000, rate: float | None = None, threads: int = 2) -> Path:
    """A wrk script that POSTs `records` different synthetic records in turn, with the token.

    With `rate`, the `threads` threads of wrk together start checks at about `rate` a second, at
    random moments (a Poisson process: each thread draws exponential gaps from the monotonic
    clock), as many independent systems calling the service would; a connection that has its
    answer waits for the next moment. Without it, every connection sends its next check as soon
    as it has the answer (the most the server can do).
    """
    from bip_engine.caseload.simulate import generate_cohort

    bodies = [json.dumps(record, ensure_ascii=False, default=str) for record in generate_cohort(records, seed=7)]
    name = "check.lua" if rate is None else f"check-{rate:g}.lua"
    path = folder / name
    path.write_text(
        "bodies = {\n"
        + "".join(f"[==[{body}]==],\n" for body in bodies)
        + "}\n"
        + f'headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}\n'
        + "local next_body = 0\n"
        + "request = function()\n"
        + "  next_body = next_body % #bodies + 1\n"
        + '  return wrk.format("POST", nil, headers, bodies[next_body])\n'
        + "end\n"
        + ("" if rate is None else _PACED.replace("GAP_MS", f"{threads * 1000 / rate:.6f}")),
        encoding="utf-8",
    )
    return path


_PACED = """
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bip_timespec; int clock_gettime(int, bip_timespec *); ]]
local clock = ffi.new("bip_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local next_at = nil
init = function(args)
  math.randomseed(tonumber(tostring(now_ms()):reverse():sub(1, 6)) or 1)
end
delay = function()
  local now = now_ms()
  next_at = math.max(next_at or now, now - 1000) - GAP_MS * math.log(1 - math.random())
  return math.max(0, next_at - now)
end
"""


def wrk(url: str, script: Path, connections: int, duration: float) -> dict:
    """Run wrk; return requests, checks/s, p50, p99 (ms) and errors."""
    threads = min(connections, 2)
    result = subprocess.run(
        [
            WRK,
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{int(duration)}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.MULTILINE))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    return {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50": _ms(percentiles["50"]),
        "p99": _ms(percentiles["99"]),
        "errors": errors,
    }


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return total / 1024


def reloads_under_load(server, script: Path, rules: Path, gap: float = 1.5) -> dict:
    """20 SIGHUPs, `gap` seconds apart (every other one with an invalid rulebook), while wrk runs 8 connections."""
    header = rules / "rulebook.yaml"
    original = header.read_text(encoding="utf-8")
    load = subprocess.Popen(
        [
            WRK,
            "-t",
            "2",
            "-c",
            "8",
            "-d",
            f"{int(20 * gap + 5)}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            server.base_url + f"/v1/check?purpose=benchmark&as_of={AS_OF}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    for index in range(20):
        header.write_text(
            "name: [unclosed\n" if index % 2 == 0 else original.replace('"2026.1"', f'"2026.1-r{index}"'),
            encoding="utf-8",
        )
        server.signal(signal.SIGHUP)
        time.sleep(gap)
    header.write_text(original, encoding="utf-8")
    text = load.communicate()[0]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", text))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    return {"requests": int(re.search(r"(\d+) requests in", text).group(1)), "errors": errors}


def bursts(server, count: int = 3, size: int = 2000, gap: float = 8.0) -> dict:
    """`count` bursts of `size` bare connections held 1 s; whether a check answers after, and the workers kept."""
    import socket

    import httpx

    from tests.conftest import record

    port = int(server.base_url.rsplit(":", 1)[1])
    pid = server.process.pid
    before = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for index in range(count):
        held = []
        for _ in range(size):
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        time.sleep(1)
        for connection in held:
            connection.close()
        if index < count - 1:
            time.sleep(gap)
    alive = server.process.poll() is None
    answered = False
    if alive:
        answer = httpx.post(
            server.base_url + "/v1/check",
            params={"purpose": "benchmark", "as_of": AS_OF},
            content=json.dumps(record([3, 4], id="BURST")),
            headers=server.headers("caseworker", **{"Content-Type": "application/json"}),
            timeout=30,
        )
        answered = answer.status_code == 200
    after = Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if alive else []
    return {"alive": alive, "answered": answered, "workers_kept": sorted(before) == sorted(after)}


def _sample_splits(server, duration: float, into: list[str]) -> None:
    """The workers' connections 3 s into a row and 3 s before its end, as "18/14" each, into `into`."""
    for wait in (3.0, max(duration - 6.0, 0.0)):
        time.sleep(wait)
        try:
            into.append("/".join(str(count) for count in connection_split(server)))
        except OSError:
            return


def load_average() -> str:
    """The 1-minute load average of the machine, as text."""
    return f"{os.getloadavg()[0]:.2f}"


class Yardstick:
    """How fast the machine is just before a row: the time of one check and its JSON in this process
    (best of 3 rounds of 200 synthetic citizens), while the server is idle. This machine's speed
    drifts by a third within minutes (it shares its host); rows are comparable through this column."""

    def __init__(self, engine: str):
        from bip_engine.caseload.simulate import generate_cohort
        from bip_engine.check import Checker

        self.checker = Checker(engine=engine)
        self.records = [self.checker.parse_record(data) for data in generate_cohort(200, seed=3)]

    def __call__(self) -> str:
        import datetime as dt

        from bip_engine.check import report_json

        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for record in self.records:
                report_json(self.checker.check(record, as_of=dt.date(2026, 11, 22)))
            best = min(best, (time.perf_counter() - started) / len(self.records))
        return f"{best * 1000:.2f} ms"


def run(
    engine: str,
    workers: int,
    duration: float,
    requests: int,
    records: int = 2000,
    rates: tuple[float, ...] = (500, 750),
    only: tuple[str, ...] = ROWS,
) -> Iterator[str]:
    """The measurements `only` names for one server configuration, as Markdown table rows (each as soon as it is measured)."""
    yardstick = Yardstick(engine)
    folder = Path(tempfile.mkdtemp(prefix="bip-bench-service-"))
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    server = start_server(folder / "server", "--engine", engine, "--workers", str(workers), "--rules", str(rules))
    try:
        script = lua_script(folder, server.tokens["caseworker"], records)
        url = server.base_url + f"/v1/check?purpose=benchmark&as_of={AS_OF}"
        wrk(url, script, 8, 3)  # warm up
        for connections in (1, 8, 32):
            if str(connections) not in only:
                continue
            load, speed = load_average(), yardstick()
            result = wrk(url, script, connections, duration)
            yield (
                f"| {engine} | {workers} | {connections} | {result['rate']:,.0f} | {result['p50']:.1f} ms | "
                f"{result['p99']:.1f} ms | {result['errors']} | {result['requests']:,} | {load} | {speed} |"
            )
        for rate in rates if "offered" in only else ():
            paced = lua_script(folder, server.tokens["caseworker"], records, rate=rate)
            load, speed = load_average(), yardstick()
            splits: list[str] = []
            sampler = threading.Thread(target=_sample_splits, args=(server, duration, splits), daemon=True)
            sampler.start()
            result = wrk(url, paced, 32, duration)
            sampler.join()
            split = f" (workers' connections: {' → '.join(splits)})" if workers > 1 and splits else ""
            yield (
                f"| {engine} | {workers} | 32, {rate:g}/s offered{split} | {result['rate']:,.0f} | {result['p50']:.1f} ms | "
                f"{result['p99']:.1f} ms | {result['errors']} | {result['requests']:,} | {load} | {speed} |"
            )
        if "memory" in only:
            yield _memory_row(server, url, script, requests, engine, workers, yardstick)
        if "reloads" in only:
            load = load_average()
            reload = reloads_under_load(server, script, rules)
            yield f"| {engine} | {workers} | 8 + 20 reloads | | | | {reload['errors']} | {reload['requests']:,} | {load} | |"
        if "bursts" in only:
            load = load_average()
            burst = bursts(server)
            yield (
                f"| {engine} | {workers} | 3 × 2,000 bare | serving after: {'yes' if burst['answered'] else 'NO'} | "
                f"workers kept: {'yes' if burst['workers_kept'] else 'no'} | | | | {load} | |"
            )
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _memory_row(server, url: str, script: Path, requests: int, engine: str, workers: int, yardstick: Yardstick) -> str:
    """`requests` more checks at 32 connections in 20-s slices: resident memory before, halfway, after; p99 per slice."""
    load, speed = load_average(), yardstick()
    samples = [rss_mb(server.process.pid)]
    done = errors = 0
    slices: list[float] = []
    started = time.monotonic()
    while done < requests:
        result = wrk(url, script, 32, 20)
        done, errors = done + result["requests"], errors + result["errors"]
        slices.append(result["p99"])
        samples.append(rss_mb(server.process.pid))
    middle = samples[len(samples) // 2]
    return (
        f"| {engine} | {workers} | 32, memory | {done / (time.monotonic() - started):,.0f} | "
        f"RSS {samples[0]:.0f} → {middle:.0f} → {samples[-1]:.0f} MB | p99 of each 20 s: median "
        f"{sorted(slices)[len(slices) // 2]:.1f} ms, worst {max(slices):.1f} ms | {errors} | {done:,} | {load} | {speed} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="python")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=2000, help="different citizens sent in turn")
    parser.add_argument(
        "--rates", type=float, nargs="*", default=[500, 750], help="checks/s offered by 32 clients at random moments"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=ROWS,
        default=list(ROWS),
        help="the rows to measure (default: all): 1, 8, 32 connections, offered, memory, reloads, bursts",
    )
    args = parser.parse_args()
    print("| executor | workers | connections | checks/s | p50 | p99 | errors | requests | load | one check |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for workers in args.workers:
        for row in run(
            args.engine, workers, args.duration, args.requests, args.records, tuple(args.rates), tuple(args.only)
        ):
            print(row, flush=True)
    print(f"\n(Python {sys.version.split()[0]}, {os.cpu_count()} cores; wrk and the server share the machine)")


if __name__ == "__main__":
    main()
