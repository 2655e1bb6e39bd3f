"""The markers of tests that start something: conftest refuses a test that uses the shared server or
PostgreSQL fixture without its marker."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.conftest import unmarked


@dataclass
class FakeItem:
    """What `unmarked` reads of a collected test."""

    nodeid: str
    fixturenames: list[str]
    markers: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str):
        return getattr(pytest.mark, name) if name in self.markers else None


def test_a_test_using_a_server_or_postgres_without_its_marker_is_named():
    items = [
        FakeItem("a::plain", ["tmp_path"]),
        FakeItem("a::server", ["service"]),
        FakeItem("a::server_marked", ["service"], {"service"}),
        FakeItem("a::factory", ["bip_server", "postgres_url"], {"service"}),
    ]
    assert unmarked(items) == ["a::server (service)", "a::factory (postgres)"]
