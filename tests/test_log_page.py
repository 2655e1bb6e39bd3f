"""The page's sessions and decision ids, bound in the log (issue 16): against a real `bip serve`.

A cookie signed with the session key still needs a session the server recorded, for a user with a
token in that role; signing out ends it on the server. A decision id is usable only by the user who
made it, within `DECISION_WINDOW`; the what-if and the citizen version are logged as such.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

import httpx
import pytest

from bip_engine import Checker
from bip_engine.log.decisions import DECISION_WINDOW, append_decision, decision_entry, decision_of, decisions_for
from bip_engine.log.sessions import session_valid, start_session
from bip_engine.log.store import Store
from bip_engine.log.tokens import Principal, create_token, revoke_token
from bip_engine.service import sessions
from tests.conftest import ROOT
from tests.test_page import caseload, csrf_of, server, signed_in  # noqa: F401  (fixtures and helpers)
from tests.test_store import ANNA, CLEAR_ID, checked

pytestmark = pytest.mark.service
AS_OF = "2026-11-22"


def signed_in_home(client: httpx.Client) -> bool:
    return 'id="login-form"' not in client.get("/").text


def test_a_cookie_signed_with_the_key_but_never_recorded_is_refused(server):  # noqa: F811
    store = Store.open(server.database)
    try:
        key = store.session_key()
    finally:
        store.close()
    three_years = int(time.time()) + 3 * 365 * 24 * 3600
    forged = sessions.Session(user="ghost", role="team_lead", expires=three_years)  # no token, no record
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        client.cookies.set(sessions.COOKIE_NAME, sessions.encode(forged, key))
        assert not signed_in_home(client)
        with_sid = dataclasses.replace(forged, sid="made-up")
        client.cookies.set(sessions.COOKIE_NAME, sessions.encode(with_sid, key))
        assert not signed_in_home(client)


def test_signing_out_ends_the_session_on_the_server(server):  # noqa: F811
    client, csrf = signed_in(server)
    kept = client.cookies.get(sessions.COOKIE_NAME)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    with httpx.Client(base_url=server.base_url, timeout=30) as thief:
        thief.cookies.set(sessions.COOKIE_NAME, kept)
        assert not signed_in_home(thief)  # the copy of the cookie is dead too


def test_a_session_ends_with_its_token(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        create_token(store, "mette", "caseworker")
        sid = start_session(store, "mette", "caseworker", 3600)
        assert session_valid(store, sid, "mette", "caseworker")
        assert not session_valid(store, sid, "mette", "team_lead")  # not another role
        assert not session_valid(store, start_session(store, "nobody", "caseworker", 3600), "nobody", "caseworker")
        assert not session_valid(store, start_session(store, "mette", "caseworker", -1), "mette", "caseworker")
        revoke_token(store, "mette")
        assert not session_valid(store, sid, "mette", "caseworker")
    finally:
        store.close()


def test_a_decision_id_is_only_for_its_user_and_is_logged_when_used(server):  # noqa: F811
    owner, owner_csrf = signed_in(server, "caseworker")
    opened = owner.post(
        "/open",
        data={"csrf": owner_csrf, "source": "caseload", "citizen": "H-2", "purpose": "møde", "as_of": AS_OF},
        follow_redirects=True,  # the worklist's answer is the citizen's link, which logs the lookup once
    )
    decision = re.search(r'name="decision" value="([0-9a-f]+)"', opened.text).group(1)
    other, other_csrf = signed_in(server, "team_lead")
    carry = {"decision": decision, "source": "caseload", "citizen": "H-2", "as_of": AS_OF}
    for path, extra in (("/citizen", {}), ("/what-if", {"wi_type": "mentor"}), ("/assess", {"agree": "yes"})):
        refused = other.post(path, data={**carry, **extra, "csrf": other_csrf})
        assert refused.status_code == 404, (path, refused.text[:300])
    store = Store.open(server.database)
    try:
        assert [item["kind"] for item in decisions_for(store, "H-2")] == ["check"]  # nothing shown, nothing logged
    finally:
        store.close()
    assert owner.post("/what-if", data={**carry, "wi_type": "mentor", "csrf": owner_csrf}).status_code == 200
    assert owner.post("/citizen", data={**carry, "csrf": owner_csrf}).status_code == 200
    store = Store.open(server.database)
    try:
        looks = decisions_for(store, "H-2")
    finally:
        store.close()
    assert [item["kind"] for item in looks] == ["check", "what-if", "view"]
    assert all(item["facts"] == {"based_on": decision} for item in looks[1:])
    assert {item["user"] for item in looks} == {"caseworker"}


def test_a_decision_id_expires(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'log.sqlite'}")
    try:
        parsed, report = checked(Checker(ROOT / "rules", engine="python"))
        fresh = decision_entry(report, parsed, ANNA, "møde", store)
        stale = dataclasses.replace(
            decision_entry(report, parsed, ANNA, "møde", store),
            time=dt.datetime.now(dt.UTC) - DECISION_WINDOW - dt.timedelta(minutes=1),
        )
        for entry in (stale, fresh):
            append_decision(store, entry)
        assert decision_of(store, fresh.decision_id, ANNA, CLEAR_ID) is not None
        assert decision_of(store, stale.decision_id, ANNA, CLEAR_ID) is None
        assert decision_of(store, fresh.decision_id, Principal("anna", "team_lead"), CLEAR_ID) is None
        assert decision_of(store, fresh.decision_id, ANNA, "SOMEONE-ELSE") is None
    finally:
        store.close()


def test_a_nul_in_the_purpose_is_422_not_an_unusable_log(server):  # noqa: F811
    client, csrf = signed_in(server)
    answer = client.post(
        "/open",
        data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "møde\x00", "as_of": AS_OF},
        follow_redirects=True,
    )
    assert answer.status_code == 422, answer.text[:300]
    assert "NUL" in answer.text and "cannot be used now" not in answer.text
    assert signed_in_home(client)  # and the log still takes the next entry
    fine = client.post(
        "/open",
        data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "møde", "as_of": AS_OF},
        follow_redirects=True,
    )
    assert fine.status_code == 200


@pytest.mark.parametrize("written", ["0", "20261122", "2026-W47-7", "1796342400"])
def test_a_page_date_is_written_yyyy_mm_dd(server, written):  # noqa: F811
    client, csrf = signed_in(server)
    answer = client.post(
        "/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "møde", "as_of": written}
    )
    assert answer.status_code == 422
