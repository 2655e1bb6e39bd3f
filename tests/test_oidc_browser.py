"""Signing in through the identity provider in a real browser: Chromium (Playwright), a real `bip serve`
and npm's oidc-provider.

bip is reached as http://localhost:PORT and the provider as http://127.0.0.1:PORT: two different
sites, as a municipality's identity provider is to bip, so the browser's SameSite rules apply to
the redirects as they do in production. The caseworker clicks the sign-in button, fills in the
provider's login form and lands on bip's page signed in, with only their own citizens offered.

Without /usr/bin/chromium (or Playwright) the tests are skipped locally, and fail when CI is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oidc_provider import start_provider
from tests.service_server import free_port, start_server
from tests.test_oidc import CASELOAD, USERS, bip_config, client_entry, expected_caseload, write_caseload

pytestmark = [pytest.mark.service, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/work/helpers/screenshots")

try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - playwright is a test dependency
    sync_playwright = None

if sync_playwright is None or not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("the browser tests need playwright and /usr/bin/chromium (CI is set)", pytrace=False)
    pytest.skip("playwright or /usr/bin/chromium is not available", allow_module_level=True)


@pytest.fixture(scope="module")
def bip_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """bip (at localhost) signing in through the provider (at 127.0.0.1), with a caseload."""
    folder = tmp_path_factory.mktemp("oidc-browser")
    port = free_port()
    url = f"http://localhost:{port}"
    provider = start_provider(folder / "provider", [client_entry("bip", url)], USERS)
    (folder / "bip").mkdir()
    try:
        server = start_server(
            folder / "bip",
            "--engine",
            "python",
            "--oidc",
            bip_config(folder / "bip", provider.issuer, url),
            "--caseload",
            write_caseload(folder / "caseload"),
            port=port,
        )
    except BaseException:
        provider.stop()
        raise
    yield url
    server.stop()
    provider.stop()


@pytest.fixture
def page() -> Iterator[Page]:
    """A fresh Chromium page (no cookies)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def test_a_caseworker_signs_in_through_the_provider_and_sees_their_caseload(
    page: Page, bip_url: str, tmp_path: Path
) -> None:
    page.goto(f"{bip_url}/")
    page.click("#oidc-sign-in")
    page.wait_for_selector("input[name=login]")
    assert page.url.startswith("http://127.0.0.1:")  # at the provider
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_url(f"{bip_url}/", timeout=15000)
    page.wait_for_selector("#worklist-table", timeout=60000)  # signed in: the worklist
    assert page.url.startswith(bip_url)
    user = USERS["alice"]["preferred_username"]
    assert user in page.inner_text("header")
    offered = set(page.eval_on_selector_all("#worklist-table tbody tr", "rows => rows.map(row => row.dataset.citizen)"))
    assert offered == expected_caseload(user, "") and offered != set(CASELOAD)
    page.screenshot(path=str(tmp_path / "signed-in.png"), full_page=True)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / "oidc-signed-in.png"), full_page=True)
    page.click("header button[type=submit]")  # sign out: at the provider too
    page.wait_for_url("http://127.0.0.1:*/**", timeout=15000)
    page.goto(f"{bip_url}/")
    assert page.locator("#oidc-sign-in").count() == 1  # signed out at bip


def test_a_person_without_a_bip_role_gets_a_clear_danish_page(page: Page, bip_url: str, tmp_path: Path) -> None:
    from bip_engine import messages

    page.goto(f"{bip_url}/")
    page.screenshot(path=str(tmp_path / "sign-in.png"), full_page=True)
    page.click("#oidc-sign-in")
    page.fill("input[name=login]", "uma")
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_selector("#signin-failed-message", timeout=15000)
    expected = messages.text("page.oidc_unknown_role", "da", claim="roles", values=", ".join(USERS["uma"]["roles"]))
    assert page.inner_text("#signin-failed-message") == expected
    assert page.locator("a[href='/auth/login']").count() == 1  # a way to try again
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / "oidc-refused.png"), full_page=True)
