"""The HTTP API reference and the operations guide match the service: its OpenAPI document, permissions and options."""

from __future__ import annotations

import re

from bip_engine.service.access import ROLE_PERMISSIONS
from bip_engine.service.app import create_app
from bip_engine.service.services import services
from bip_engine.service.settings import ServiceSettings
from tests.conftest import ROOT

API = (ROOT / "docs" / "reference" / "http-api.md").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def test_every_operation_is_in_the_api_reference_table_and_every_row_is_an_operation(tmp_path):
    app = create_app(ServiceSettings(database=f"sqlite:///{tmp_path / 'log.sqlite'}", engine="python"))
    document = app.openapi()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    rows = set(re.findall(r"^\| `((?:GET|POST|PUT|DELETE|PATCH) /[^`]*)` \|", API, flags=re.MULTILINE))
    assert rows == operations | {"GET /openapi.json"}
    services(app).store.close()


def test_role_table_matches_the_permissions():
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", API.split("## Roles")[1], flags=re.MULTILINE))
    words = {
        "check": "check",
        "explain": "explain",
        "batch": "batch",
        "rulebook": "rulebook",
        "log": "log",
        "metrics": "metrics",
    }
    assert set(rows) == set(ROLE_PERMISSIONS)
    for role, permissions in ROLE_PERMISSIONS.items():
        named = {action for action, word in words.items() if word in rows[role]}
        assert named == set(permissions) - {"api"}, role


def test_every_serve_option_is_documented():
    from click.testing import CliRunner

    from bip_engine import cli

    help_text = CliRunner().invoke(cli.main, ["serve", "--help"]).output
    options = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help", "--no-access-log"}
    missing = [option for option in options if option not in OPERATIONS]
    assert missing == []


def test_the_curl_examples_send_urls_an_http_server_accepts():
    """Raw non-ASCII in a request line is refused by the HTTP parser (400): the examples percent-encode."""
    urls = re.findall(r'curl [^\n]*?"?(http://[^"\s]+)', API + OPERATIONS)
    assert len(urls) >= 5
    assert [url for url in urls if not url.isascii()] == []


def test_the_metrics_named_in_the_docs_are_the_ones_the_service_writes():
    """Every `bip_...` metric the pages name is in a scrape of /metrics, and every one in a scrape is named."""
    from bip_engine.service.metrics import Metrics

    metrics = Metrics()
    metrics.observe_request("/v1/check", "POST", 200, 0.01)
    metrics.observe_check("check", "stilstand")
    metrics.observe_rejected()
    metrics.observe_reload(ok=False)
    scrape = metrics.render(("bip-default", "1", "abc"))
    scraped = set(re.findall(r"^(bip_[a-z_]+?)(?:_bucket|_count|_sum)?(?:\{| )", scrape, flags=re.M))
    assert {"bip_http_request_duration_seconds", "bip_http_requests_total"} <= scraped
    for name, text in (("operations.md", OPERATIONS), ("reference/http-api.md", API)):
        named = set(re.findall(r"`(bip_[a-z_]+)(?![.\w])", text))
        assert named == scraped, name
