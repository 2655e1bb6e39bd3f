"""Reloading the rulebook of a running `bip serve`: SIGHUP under load, and `--watch`."""

from __future__ import annotations

import json
import re
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import record
from tests.service_server import wait_for

pytestmark = [pytest.mark.service, pytest.mark.slow]

VALID = 'name: bip-standard\nversion: "{version}"\n'
INVALID = "name: [unclosed\n"


def reload_count(server, result: str) -> int:
    text = httpx.get(server.base_url + "/metrics", headers=server.headers("system")).text
    return int(re.search(rf'^bip_reloads_total\{{result="{result}"\}} (\d+)', text, re.MULTILINE).group(1))


class ClientLoop:
    """Threads that post checks until stopped, keeping every status and every transport error."""

    def __init__(self, server, threads: int = 2):
        self.server, self.stop_event = server, threading.Event()
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self.versions: set[str] = set()
        self.threads = [threading.Thread(target=self._run, args=(index,)) for index in range(threads)]

    def _run(self, index: int) -> None:
        body = json.dumps(record([3, 4, 2], id=f"LOAD-{index}"))
        with self.server.client("caseworker") as client:
            while not self.stop_event.is_set():
                try:
                    response = client.post(
                        "/v1/check",
                        params={"purpose": "belastning"},
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                    self.statuses.append(response.status_code)
                    if response.status_code == 200:
                        self.versions.add(response.json()["rulebook"]["version"])
                except httpx.HTTPError as error:
                    self.errors.append(repr(error))

    def __enter__(self) -> ClientLoop:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(30)


def test_twenty_sighup_reloads_half_invalid_under_load_fail_no_request(bip_server, rules_copy):
    server = bip_server("--engine", "python", "--rules", str(rules_copy))
    header = rules_copy / "rulebook.yaml"
    original = header.read_text(encoding="utf-8")
    with ClientLoop(server) as loop:
        for index in range(20):
            invalid = index % 2 == 0
            result = "failed" if invalid else "ok"
            before = reload_count(server, result)
            header.write_text(
                INVALID if invalid else original.replace('"2026.1"', f'"2026.1-r{index}"'), encoding="utf-8"
            )
            server.signal(signal.SIGHUP)
            wait_for(
                lambda result=result, before=before: reload_count(server, result) == before + 1, what=f"reload {index}"
            )
            if not invalid:  # the old worker finishes its requests while the new one already serves
                wait_for(
                    lambda index=index: (
                        httpx.get(server.base_url + "/readyz").json()["rulebook"]["version"] == f"2026.1-r{index}"
                    ),
                    what=f"the new worker of reload {index}",
                )
            ready = httpx.get(server.base_url + "/readyz").json()
            assert ready["ready"] is True
            if invalid:
                assert ready["last_reload_error"]["problems"][0]["path"].endswith("rulebook.yaml")
                assert ready["rulebook"]["version"] == ("2026.1" if index == 0 else f"2026.1-r{index - 1}")
            else:
                assert ready["last_reload_error"] is None and ready["rulebook"]["version"] == f"2026.1-r{index}"
            time.sleep(0.1)
    assert loop.errors == [] and set(loop.statuses) == {200}, (loop.errors[:3], set(loop.statuses))
    assert len(loop.statuses) > 40
    assert "2026.1-r19" in loop.versions and len(loop.versions) > 2
    assert reload_count(server, "failed") == 10 and reload_count(server, "ok") == 10
    assert "reload failed" in server.log()


def test_watch_reloads_when_a_rule_file_changes_and_keeps_the_rules_when_it_breaks(bip_server, rules_copy):
    server = bip_server("--engine", "python", "--rules", str(rules_copy), "--watch")
    header = rules_copy / "rulebook.yaml"
    original = header.read_text(encoding="utf-8")

    def version() -> str:
        return httpx.get(server.base_url + "/v1/rulebook", headers=server.headers("policy")).json()["version"]

    header.write_text(original.replace('"2026.1"', '"2026.2"'), encoding="utf-8")
    wait_for(lambda: version() == "2026.2", what="the watcher to load 2026.2")
    (rules_copy / "phases.yaml").write_text("stage: phase\nrules:\n  - id: [\n", encoding="utf-8")
    wait_for(
        lambda: httpx.get(server.base_url + "/readyz").json()["last_reload_error"] is not None,
        what="the failed reload to show",
    )
    assert version() == "2026.2"
    answer = httpx.post(
        server.base_url + "/v1/check",
        params={"purpose": "x"},
        content=json.dumps(record([3])),
        headers=server.headers("caseworker", **{"Content-Type": "application/json"}),
    )
    assert answer.status_code == 200 and answer.json()["rulebook"]["version"] == "2026.2"


def test_with_two_workers_twenty_sighup_reloads_half_invalid_fail_no_request(bip_server, rules_copy):
    """SIGHUP makes the master load the files; a good rulebook replaces the workers gracefully, a bad one
    changes nothing: no request fails either way."""
    server = bip_server("--engine", "python", "--rules", str(rules_copy), "--workers", "2")
    header = rules_copy / "rulebook.yaml"
    original = header.read_text(encoding="utf-8")

    def outcomes() -> tuple[int, int]:
        log = server.log()
        return log.count("reloaded rulebook"), log.count("reload failed")

    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    with ClientLoop(server, threads=3) as loop:
        for index in range(20):
            invalid = index % 2 == 0
            ok, failed = outcomes()
            header.write_text(
                INVALID if invalid else original.replace('"2026.1"', f'"2026.1-r{index}"'), encoding="utf-8"
            )
            server.signal(signal.SIGHUP)
            wanted = (ok, failed + 1) if invalid else (ok + 1, failed)
            wait_for(lambda wanted=wanted: outcomes() == wanted, what=f"the master to finish reload {index}")
            if not invalid:
                wait_for(
                    lambda index=index: (
                        httpx.get(server.base_url + "/readyz").json()["rulebook"]["version"] == f"2026.1-r{index}"
                    ),
                    what=f"the new workers of reload {index}",
                )
            time.sleep(0.1)
    assert loop.errors == [] and set(loop.statuses) == {200}, (loop.errors[:3], set(loop.statuses))
    assert len(loop.statuses) > 40 and "2026.1-r19" in loop.versions
    assert outcomes() == (10, 10)
    versions = set()
    for _ in range(20):  # a new connection each time: every worker answers with the last good rules
        answer = httpx.get(server.base_url + "/v1/rulebook", headers=server.headers("policy"))
        versions.add(answer.json()["version"])
    assert versions == {"2026.1-r19"}
    assert server.process.poll() is None
    server.stop()
    assert server.process.returncode == 0


def test_a_worker_that_dies_is_started_again_and_the_other_keeps_answering(bip_server):
    import os
    from pathlib import Path

    server = bip_server("--engine", "python", "--workers", "2")
    wait_for(lambda: server.log().count("serving rulebook") == 2, what="both workers to start")
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    assert len(children) == 2
    os.kill(int(children[0]), signal.SIGKILL)
    body = json.dumps(record([3, 4]))
    headers = server.headers("caseworker", **{"Content-Type": "application/json"})
    for _ in range(10):  # the surviving worker answers meanwhile
        answer = httpx.post(server.base_url + "/v1/check", params={"purpose": "x"}, content=body, headers=headers)
        assert answer.status_code == 200
    wait_for(lambda: server.log().count("serving rulebook") == 3, what="the dead worker to be started again")
    assert "SIGKILL" in server.log()
    assert server.process.poll() is None


def test_sighup_follows_the_latest_release_with_its_rules_and_templates(bip_server, tmp_path):
    """`bip serve --release latest` switches to a newly approved release on SIGHUP, templates included."""
    from bip_engine.authoring.release import make_release
    from tests.test_dated import dated_rulebook, falling_record, write

    rules = dated_rulebook(tmp_path / "src")
    texts = [rules.parent / "tekster"]
    store = tmp_path / "store"
    first = make_release(rules, "Jens", None, store, texts).release
    server = bip_server("--engine", "python", "--release", "latest", "--store", str(store))

    def answer() -> dict:
        response = httpx.post(
            server.base_url + "/v1/check",
            params={"purpose": "x", "as_of": "2026-11-22"},
            content=json.dumps(falling_record()),
            headers=server.headers("caseworker", **{"Content-Type": "application/json"}),
        )
        assert response.status_code == 200, response.text
        return response.json()["rulebook"]

    assert answer()["release"] == first.hash
    write(rules, "rulebook.yaml", 'name: kommune\nversion: "2027.2"\nextends: default\nauthor: Mette\n')
    second = make_release(rules, "Jens", "ny version", store, texts).release
    assert second.hash != first.hash
    assert answer()["release"] == first.hash  # nothing changes before the signal
    server.signal(signal.SIGHUP)
    wait_for(lambda: answer()["release"] == second.hash, what="the service to follow the new release")
    assert answer()["version"] == "2027.2"
    assert httpx.get(server.base_url + "/readyz").json()["last_reload_error"] is None
