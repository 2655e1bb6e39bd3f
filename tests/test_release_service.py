"""`bip serve --release latest`: the release hash in /readyz and the server log, and a rollback followed on SIGHUP."""

from __future__ import annotations

import signal

import httpx
import pytest
from click.testing import CliRunner

from bip_engine import cli
from bip_engine.authoring.release import make_release
from tests.service_server import wait_for
from tests.test_dated import dated_rulebook, write

pytestmark = [pytest.mark.service, pytest.mark.slow]


def test_readyz_and_the_log_name_the_release_and_a_rollback_is_followed(bip_server, tmp_path):
    rules = dated_rulebook(tmp_path / "src")
    texts = [rules.parent / "tekster"]
    store = tmp_path / "store"
    first = make_release(rules, "Jens", None, store, texts).release
    write(rules, "rulebook.yaml", 'name: kommune\nversion: "2027.2"\nextends: default\nauthor: Mette\n')
    second = make_release(rules, "Jens", "ny version", store, texts).release
    server = bip_server("--engine", "python", "--release", "latest", "--store", str(store))

    def ready() -> dict:
        return httpx.get(server.base_url + "/readyz").json()

    assert ready()["rulebook"]["release"] == second.hash
    assert f"release {second.hash[:12]}" in server.log()
    listed = CliRunner().invoke(cli.main, ["rules", "releases", "--store", str(store)]).output
    assert second.hash[:12] in listed  # the same hash as `bip rules releases` lists
    rollback = [
        "rules",
        "rollback",
        first.hash[:12],
        "--by",
        "Karen",
        "--reason",
        "2027.2 fejler",
        "--store",
        str(store),
    ]
    assert CliRunner().invoke(cli.main, rollback).exit_code == 0
    server.signal(signal.SIGHUP)
    wait_for(lambda: ready()["rulebook"].get("release") == first.hash, what="the service to follow the rollback")
    assert ready()["last_reload"]["release"] == first.hash
    wait_for(lambda: f"release {first.hash[:12]}" in server.log(), what="the reload in the server log")
