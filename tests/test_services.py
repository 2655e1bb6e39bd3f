"""The service's parts live in one typed `Services` object, read through `services(app)`; app.state holds nothing else."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from bip_engine.check import Checker
from bip_engine.log.store import Store
from bip_engine.service.app import create_app
from bip_engine.service.services import services
from bip_engine.service.settings import ServiceSettings
from bip_engine.service.token_cache import TokenCache


def test_the_app_holds_its_parts_in_one_services_object(tmp_path):
    settings = ServiceSettings(database=f"sqlite:///{tmp_path / 'log.sqlite'}", engine="python")
    app = create_app(settings)
    parts = services(app)
    try:
        assert list(app.state._state) == ["services"]  # no second, untyped copy of a part
        assert parts.settings is settings
        assert isinstance(parts.checker, Checker) and isinstance(parts.store, Store)
        assert isinstance(parts.token_cache, TokenCache) and parts.writer.store is parts.store
        assert parts.reloader.checker is parts.checker and parts.caseload.path is None
    finally:
        parts.store.close()


def test_an_app_without_services_is_named_as_such():
    app = FastAPI()
    app.state.services = {"store": None}
    with pytest.raises(TypeError, match="no Services"):
        services(app)
