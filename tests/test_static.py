"""The page's own assets are served by Starlette's StaticFiles: the files there, and nothing else.

Hostile names (a NUL byte, a very long name, a path out of the folder, a line break) are a plain 404,
never a server error, and the asset keeps its type and cache header.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bip_engine.service.app import create_app
from bip_engine.service.page import STATIC
from bip_engine.service.settings import ServiceSettings


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    database = f"sqlite:///{tmp_path_factory.mktemp('static') / 'log.sqlite'}"
    with TestClient(create_app(ServiceSettings(database=database, engine="python"))) as client:
        yield client


@pytest.mark.parametrize("name", sorted(path.name for path in STATIC.iterdir()))
def test_every_asset_is_served_with_its_type_and_a_cache_header(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200 and response.content == (STATIC / name).read_bytes()
    expected = {"css": "text/css", "js": "text/javascript"}[name.rsplit(".", 1)[1]]
    assert response.headers["content-type"].startswith(expected)
    assert response.headers["cache-control"] == "public, max-age=3600"


@pytest.mark.parametrize(
    "path",
    [
        "/static/page.css%00.png",
        "/static/" + "a" * 5000,
        "/static/..%2Fpage.py",
        "/static/%2e%2e/page.py",
        "/static/x%0a2026-01-01 INFO forged",
        "/static/nothing.css",
        "/static/",
    ],
)
def test_hostile_or_unknown_names_are_a_plain_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert "Traceback" not in response.text
