"""Sign-in through a real OpenID Connect provider (npm's oidc-provider, started by the tests).

A real `bip serve --oidc FILE` and a real provider, both on 127.0.0.1: the tests play the browser
with httpx (cookies kept for both sides) and drive the provider's login form. The error cases (a
state that is not this browser's, the provider down, a missing claim, a role that maps to nothing)
go through the server; the ID token's checks (a tampered token, another client's token, an expired
one, a wrong nonce) are run on real tokens the provider issued, with the same function the server
uses. Every expected text is the catalogue's, in the page's language.
"""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bip_engine import messages
from bip_engine.service import oidc
from tests.conftest import AS_OF, months_before, record
from tests.oidc_provider import RunningProvider, drive_sign_in, start_provider
from tests.service_server import RunningServer, free_port, start_server

pytestmark = [pytest.mark.service, pytest.mark.slow]

SECRET = "bip-test-client-secret"
USERS = {
    "alice": {"name": "Alice", "preferred_username": "cw-1", "roles": ["bip-sagsbehandler"], "team": "nord"},
    "tina": {
        "name": "Tina",
        "preferred_username": "tl-1",
        "roles": ["bip-teamleder", "bip-sagsbehandler"],
        "team": "nord",
    },
    "nora": {"name": "Nora", "roles": ["bip-sagsbehandler"], "team": "nord"},
    "uma": {"name": "Uma", "preferred_username": "u-1", "roles": ["kantine"], "team": "syd"},
}
ROLE_MAP = {"bip-sagsbehandler": "caseworker", "bip-teamleder": "team_lead"}
#: The caseload: each citizen's caseworkers (the last one is the caseworker now) and their teams.
CASELOAD = {
    "B-ALICE": [
        {"id": "cw-2", "from": months_before(30), "team": "syd"},
        {"id": "cw-1", "from": months_before(3), "team": "nord"},
    ],
    "B-NORD": [
        {"id": "cw-1", "from": months_before(30), "team": "nord"},
        {"id": "cw-7", "from": months_before(2), "team": "nord"},
    ],
    "B-SYD": [{"id": "cw-9", "from": months_before(12), "team": "syd"}],
    "B-NOBODY": [],
}


def write_caseload(folder: Path) -> Path:
    """The caseload as record files (JSON), one per citizen."""
    folder.mkdir(parents=True, exist_ok=True)
    for citizen, caseworkers in CASELOAD.items():
        data = record([3, 3, 4], id=citizen, caseworkers=caseworkers)
        (folder / f"{citizen}.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def expected_caseload(user: str, team: str) -> set[str]:
    """Whose citizens `user` sees, from the domain's rule: the caseworker now is the last entry."""
    return {
        citizen
        for citizen, caseworkers in CASELOAD.items()
        if caseworkers and (caseworkers[-1]["id"] == user or (team and caseworkers[-1]["team"] == team))
    }


def bip_config(folder: Path, issuer: str, bip_url: str, client_id: str = "bip") -> Path:
    """The provider settings file `bip serve --oidc` reads, with the client secret in a file beside it."""
    (folder / "client-secret").write_text(SECRET + "\n", encoding="utf-8")
    lines = [
        f"issuer: {issuer}",
        f"client_id: {client_id}",
        "client_secret_file: client-secret",
        f"redirect_url: {bip_url}/auth/callback",
        "scopes: [openid, profile, bip]",
        "user_claim: preferred_username",
        "team_claim: team",
        "role_claim: roles",
        "roles:",
        *(f"  {value}: {role}" for value, role in ROLE_MAP.items()),
    ]
    path = folder / "oidc.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def client_entry(client_id: str, bip_url: str) -> dict:
    """A client of the provider, as the municipality registers bip there."""
    return {
        "client_id": client_id,
        "client_secret": SECRET,
        "redirect_uris": [f"{bip_url}/auth/callback"],
        "post_logout_redirect_uris": [f"{bip_url}/"],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningProvider, RunningServer]]:
    """The provider (clients `bip` and `other`) and a bip server signing in through it."""
    folder = tmp_path_factory.mktemp("oidc")
    port = free_port()
    bip_url = f"http://127.0.0.1:{port}"
    provider = start_provider(
        folder / "provider", [client_entry("bip", bip_url), client_entry("other", bip_url)], USERS
    )
    (folder / "bip").mkdir()
    config = bip_config(folder / "bip", provider.issuer, bip_url)
    try:
        caseload = write_caseload(folder / "caseload")
        server = start_server(folder / "bip", "--engine", "python", "--oidc", config, "--caseload", caseload, port=port)
    except BaseException:
        provider.stop()
        raise
    yield provider, server
    server.stop()
    provider.stop()


def browser() -> httpx.Client:
    """A client that keeps cookies and does not follow redirects (the tests follow them)."""
    return httpx.Client(follow_redirects=False, timeout=30)


def sign_in(server: RunningServer, client: httpx.Client, login: str) -> httpx.Response:
    """Sign in at bip through the provider as `login`; bip's answer to the provider's redirect."""
    back = drive_sign_in(client, f"{server.base_url}/auth/login", login, f"{server.base_url}/auth/callback")
    return client.get(back.headers["location"])


def shown(key: str, lang: str = "da", **values: str) -> str:
    """A page text as the page shows it (HTML-escaped like Jinja's autoescape)."""
    from markupsafe import escape

    return str(escape(messages.text(f"page.{key}", lang, **values)))


def test_sign_in_through_the_provider_reaches_the_page(setup: tuple[RunningProvider, RunningServer]) -> None:
    provider, server = setup
    with browser() as client:
        start = client.get(f"{server.base_url}/auth/login")
        assert start.status_code == 303
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert start.headers["location"].startswith(f"{provider.issuer}/")
        assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
        assert query["state"][0] and query["nonce"][0] and query["code_challenge"][0]
        client.cookies.clear()
        answer = sign_in(server, client, "alice")
        assert answer.status_code == 200, answer.text  # bip's own page moves on to "/" (SameSite=Strict)
        assert '<meta http-equiv="refresh" content="0;url=/">' in answer.text
        home = client.get(f"{server.base_url}/")
        assert home.status_code == 200
        assert USERS["alice"]["preferred_username"] in home.text
        assert 'name="purpose"' in home.text  # the signed-in home page, not the sign-in page


def test_a_team_lead_gets_the_team_lead_role_and_the_team(setup: tuple[RunningProvider, RunningServer]) -> None:
    _, server = setup
    with browser() as client:
        assert sign_in(server, client, "tina").status_code == 200
        home = client.get(f"{server.base_url}/")
        assert "tl-1" in home.text and f"({shown('role_team_lead')})" in home.text


def test_a_state_that_is_not_this_browsers_is_refused(setup: tuple[RunningProvider, RunningServer]) -> None:
    _, server = setup
    with browser() as client:
        back = drive_sign_in(client, f"{server.base_url}/auth/login", "alice", f"{server.base_url}/auth/callback")
        url = back.headers["location"]
        state = parse_qs(urlsplit(url).query)["state"][0]
        forged = client.get(url.replace(f"state={state}", "state=forged"))
        assert forged.status_code == 400
        assert shown("oidc_bad_state") in forged.text
        assert "bip_session" not in forged.headers.get("set-cookie", "") or "tl-1" not in forged.text
    with browser() as other_browser:  # the same answer in a browser that did not start the sign-in
        answer = other_browser.get(url)
        assert answer.status_code == 400 and shown("oidc_bad_state") in answer.text
        assert "Traceback" not in answer.text
        assert 'name="purpose"' not in other_browser.get(f"{server.base_url}/").text


def test_a_missing_claim_and_an_unmapped_role_are_named(setup: tuple[RunningProvider, RunningServer]) -> None:
    _, server = setup
    with browser() as client:
        answer = sign_in(server, client, "nora")
        assert answer.status_code == 403
        assert shown("oidc_missing_claim", claim="preferred_username") in answer.text
    with browser() as client:
        answer = sign_in(server, client, "uma")
        assert answer.status_code == 403
        values = ", ".join(USERS["uma"]["roles"])
        assert shown("oidc_unknown_role", claim="roles", values=values) in answer.text
        assert 'name="purpose"' not in client.get(f"{server.base_url}/").text


def test_logout_ends_the_session_and_goes_to_the_providers_logout(
    setup: tuple[RunningProvider, RunningServer],
) -> None:
    provider, server = setup
    with browser() as client:
        sign_in(server, client, "alice")
        home = client.get(f"{server.base_url}/")
        csrf = home.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        out = client.post(f"{server.base_url}/logout", data={"csrf": csrf})
        assert out.status_code == 200  # a page that moves on to the provider (CSP form-action: no redirect)
        location = out.text.split('http-equiv="refresh" content="0;url=', 1)[1].split('"', 1)[0]
        target = urlsplit(html.unescape(location))
        discovery = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
        assert f"{target.scheme}://{target.netloc}{target.path}" == discovery["end_session_endpoint"]
        assert parse_qs(target.query)["client_id"] == ["bip"]
        assert 'name="purpose"' not in client.get(f"{server.base_url}/").text


def test_the_token_form_is_not_offered_when_the_provider_signs_in(
    setup: tuple[RunningProvider, RunningServer],
) -> None:
    _, server = setup
    with browser() as client:
        page = client.get(f"{server.base_url}/")
        assert 'href="/auth/login"' in page.text and 'name="token"' not in page.text
        cookie = client.cookies["bip_session"].split(".")[0]  # a script posting the old form: a valid CSRF token
        csrf = json.loads(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)))["csrf"]
        answer = client.post(f"{server.base_url}/login", data={"csrf": csrf, "token": server.tokens["caseworker"]})
        assert answer.status_code == 403 and shown("oidc_use_provider") in answer.text
    # tokens stay for systems: the API still takes them
    with server.client("system") as api:
        assert api.get("/v1/rulebook").status_code == 200


def test_the_provider_down_gives_a_clear_page(tmp_path: Path) -> None:
    port = free_port()
    bip_url = f"http://127.0.0.1:{port}"
    config = bip_config(tmp_path, f"http://127.0.0.1:{free_port()}", bip_url)  # nobody listens there
    server = start_server(tmp_path / "bip", "--engine", "python", "--oidc", config, port=port)
    try:
        with browser() as client:
            answer = client.get(f"{server.base_url}/auth/login")
        assert answer.status_code == 502
        assert shown("oidc_unreachable") in answer.text and "Traceback" not in answer.text
    finally:
        server.stop()


def test_unusable_provider_settings_stop_bip_serve_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "oidc.yaml"
    config.write_text("issuer: http://idp.example\nclient_id: bip\nroles: {}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bip_engine.cli", "serve", "--engine", "python", "--oidc", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert str(config) in done.stderr and "client_secret_file" in done.stderr
    assert "Traceback" not in done.stderr


# --- Caseload scoping ------------------------------------------------------------------------------


def csrf_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def offered(page: str) -> set[str]:
    """The citizen ids the home page's worklist offers to open (one row, with its link, each)."""
    return {citizen for citizen in CASELOAD if f'<tr data-citizen="{citizen}">' in page}


@pytest.mark.parametrize(("login", "team"), [("alice", ""), ("tina", "nord")])
def test_a_signed_in_user_sees_and_opens_only_their_caseload(
    setup: tuple[RunningProvider, RunningServer], login: str, team: str
) -> None:
    _, server = setup
    user = USERS[login]["preferred_username"]
    mine = expected_caseload(user, team)
    assert mine and mine != set(CASELOAD)  # the caseload has citizens on both sides
    with browser() as client:
        sign_in(server, client, login)
        home = client.get(f"{server.base_url}/")
        assert offered(home.text) == mine
        assert re.search(rf'id="worklist-count" role="status">{len(mine)}\b', home.text)  # their part's size only
        for citizen in CASELOAD:
            fields = {"csrf": csrf_of(home.text), "source": "caseload", "citizen": citizen, "purpose": "møde"}
            answer = client.post(  # the worklist answers with the citizen's link, where the scope is checked
                f"{server.base_url}/open", data={**fields, "as_of": AS_OF.isoformat()}, follow_redirects=True
            )
            if citizen in mine:
                assert answer.status_code == 200, answer.text
            else:
                assert answer.status_code == 403, citizen
                assert shown("not_your_caseload") in answer.text
    assert f"refused: {user} asked for citizen" in server.log()


def test_only_users_signed_in_through_the_provider_are_scoped() -> None:
    from bip_engine.service.scoping import scope_of

    assert scope_of("caseworker", "caseworker").everything  # a token's session: via is not "oidc"
    assert not scope_of("caseworker", "cw-1", via="oidc").everything
    assert not scope_of("team_lead", "tl-1", "nord", via="oidc").everything
    assert scope_of("auditor", "a-1", via="oidc").everything


# --- The ID token's checks, on real tokens from the provider ---------------------------------------


def provider_tokens(provider: RunningProvider, server: RunningServer, tmp_path: Path, client_id: str) -> tuple:
    """A real ID token the provider issued to `client_id` for alice, and the nonce it was asked with."""
    config = oidc.load_config(bip_config(tmp_path, provider.issuer, server.base_url, client_id))
    issuer = oidc.Provider(config)
    url, pending = oidc.start(config, issuer)
    with browser() as client:
        back = drive_sign_in(client, url, "alice", f"{server.base_url}/auth/callback")
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    answer = httpx.post(
        issuer.metadata()["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_url,
            "code_verifier": pending.verifier,
        },
        auth=(client_id, SECRET),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"], pending.nonce, issuer


def check(token: str, issuer: oidc.Provider, nonce: str, now: int | None = None, client_id: str = "bip") -> str:
    """The key of the `SignInError` that validating `token` as bip's raises, or "valid"."""
    try:
        oidc.validate_id_token(
            token, issuer, issuer=issuer.metadata()["issuer"], client_id=client_id, nonce=nonce, now=now
        )
    except oidc.SignInError as error:
        return error.key
    return "valid"


def payload(token: str) -> dict:
    """The claims of a JWT, read without checking anything."""
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_a_real_token_is_valid_and_its_checks_refuse_what_is_wrong(
    setup: tuple[RunningProvider, RunningServer], tmp_path: Path
) -> None:
    provider, server = setup
    token, nonce, issuer = provider_tokens(provider, server, tmp_path, "bip")
    assert check(token, issuer, nonce) == "valid"
    # tampered: the same signature over another caseworker id
    head, _, signature = token.split(".")
    claims = {**payload(token), "preferred_username": "cw-2"}
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert check(f"{head}.{forged_body}.{signature}", issuer, nonce) == "oidc_token_invalid"
    # a nonce that is not the one this sign-in asked with
    assert check(token, issuer, "another-nonce") == "oidc_token_invalid"
    # expired: checked an hour after its expiry (beyond the leeway)
    assert check(token, issuer, nonce, now=int(payload(token)["exp"]) + 3600) == "oidc_token_expired"


def test_a_token_issued_to_another_client_is_refused(
    setup: tuple[RunningProvider, RunningServer], tmp_path: Path
) -> None:
    provider, server = setup
    token, nonce, issuer = provider_tokens(provider, server, tmp_path, "other")
    assert payload(token)["aud"] == "other"
    assert check(token, issuer, nonce, client_id="other") == "valid"
    assert check(token, issuer, nonce) == "oidc_wrong_audience"
