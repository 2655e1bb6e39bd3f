"""A token that is not cached is read from the log once, however many requests ask for it at that moment.

Through the real application (ASGI, in this process), 32 checks sent together with one token: the
log's token table is read once, each time the cache has run out, not once per request.
"""

from __future__ import annotations

import asyncio
import json

import httpx

from bip_engine.log import tokens
from bip_engine.log.store import Store
from bip_engine.service.app import create_app
from bip_engine.service.services import services
from bip_engine.service.settings import ServiceSettings
from tests.conftest import record


def test_thirty_two_requests_together_read_an_uncached_token_once(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path / 'log.sqlite'}"
    store = Store.open(database)
    token = tokens.create_token(store, "anna", "caseworker")
    store.close()
    reads = []
    real = tokens.authenticate

    def counted(store, presented):
        reads.append(presented)
        return real(store, presented)

    monkeypatch.setattr(tokens, "authenticate", counted)
    app = create_app(ServiceSettings(database=database, engine="python", access_log=False))

    async def together() -> list[int]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bip") as client:

                def check() -> object:
                    return client.post(
                        "/v1/check",
                        params={"purpose": "test", "as_of": "2026-11-22"},
                        content=json.dumps(record([3, 4, 2])),
                        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )

                first = await asyncio.gather(*(check() for _ in range(32)))
                services(app).token_cache._entries.clear()  # the cache runs out
                second = await asyncio.gather(*(check() for _ in range(32)))
                return [answer.status_code for answer in first + second]

    try:
        assert asyncio.run(together()) == [200] * 64
    finally:
        services(app).store.close()
    assert reads == [token, token]  # once before the first answers, once after the cache ran out
