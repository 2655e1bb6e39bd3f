"""The caseworker's page over plain HTTP against a real `bip serve`: sessions, CSRF, roles, caseload, headers.

The browser tests (test_page_browser.py) drive the page as a user would; these check what a
browser hides: cookie attributes, refusals, the security headers and the HTML itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bip_engine.log.decisions import count_decisions, find_decision
from bip_engine.log.store import Store
from bip_engine.service import sessions
from bip_engine.service.page_chart import ChartInput, build_chart
from tests.conftest import record, scores
from tests.service_server import start_server

pytestmark = pytest.mark.service  # most tests here start a server; the few that do not are quick

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caseload")
    for index, levels in enumerate(([3, 3, 3], [4, 3, 2], [2])):
        citizen = f"H-{index}"
        (folder / f"{citizen}.json").write_text(json.dumps(record(levels, id=citizen)), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, caseload):
    running = start_server(tmp_path_factory.mktemp("page-http"), "--engine", "python", "--caseload", caseload)
    yield running
    running.stop()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(server, role: str = "caseworker") -> tuple[httpx.Client, str]:
    """A client with a signed-in session, and the session's CSRF token."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    login = client.get("/")
    response = client.post("/login", data={"csrf": csrf_of(login.text), "token": server.tokens[role]})
    assert response.status_code == 303, response.text
    home = client.get("/")
    assert 'id="open-form"' in home.text
    return client, csrf_of(home.text)


def count(server) -> int:
    store = Store.open(server.database)
    try:
        return count_decisions(store)
    finally:
        store.close()


def test_the_session_cookie_is_httponly_strict_signed_and_expiring(server):
    with httpx.Client(base_url=server.base_url) as client:
        first = client.get("/")
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        assert "Secure" not in cookie and "Max-Age=" in cookie
        assert first.headers["content-security-policy"].count("unsafe-inline") == 0
        assert 'lang="da"' in first.text and 'id="login-form"' in first.text


def test_a_forged_or_altered_cookie_is_ignored(server):
    client, _ = signed_in(server)
    value = client.cookies[sessions.COOKIE_NAME]
    body, signature = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["role"] = "system"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + signature
    with httpx.Client(base_url=server.base_url, cookies={sessions.COOKIE_NAME: forged}) as other:
        assert 'id="login-form"' in other.get("/").text


def test_a_wrong_token_is_refused_and_a_role_without_check_cannot_sign_in(server):
    with httpx.Client(base_url=server.base_url) as client:
        csrf = csrf_of(client.get("/").text)
        wrong = client.post("/login", data={"csrf": csrf, "token": "bip_nope"})
        assert wrong.status_code == 401 and 'id="login-error"' in wrong.text
        auditor = client.post("/login", data={"csrf": csrf, "token": server.tokens["auditor"]})
        assert auditor.status_code == 403


@pytest.mark.parametrize("path", ["/login", "/logout", "/open", "/what-if", "/assess", "/citizen"])
def test_every_post_without_the_csrf_token_is_refused(server, path):
    client, csrf = signed_in(server)
    before = count(server)
    fields = {"source": "caseload", "citizen": "H-0", "purpose": "x", "as_of": AS_OF, "token": "x"}
    assert client.post(path, data=fields).status_code == 403
    assert client.post(path, data={**fields, "csrf": csrf + "x"}).status_code == 403
    assert count(server) == before
    assert 'id="open-form"' in client.get("/").text  # still signed in


def test_opening_logs_the_lookup_with_its_purpose_and_a_purpose_is_required(server):
    client, csrf = signed_in(server)
    before = count(server)
    missing = client.post(
        "/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-1", "purpose": " ", "as_of": AS_OF}
    )
    assert missing.status_code == 422 and 'id="purpose-error"' in missing.text
    assert count(server) == before
    purpose = f"Forberedelse {time.time_ns()}"
    opened = client.post(
        "/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-1", "purpose": purpose, "as_of": AS_OF}
    )
    assert opened.status_code == 200
    decision_id = re.search(r'id="decision-id">([0-9a-f]+)<', opened.text).group(1)
    store = Store.open(server.database)
    try:
        logged = find_decision(store, decision_id)
    finally:
        store.close()
    assert logged["purpose"] == purpose and logged["user"] == "caseworker" and logged["as_of"] == AS_OF
    assert logged["citizen"] != "H-1"  # pseudonymised
    unknown = client.post("/open", data={"csrf": csrf, "source": "caseload", "citizen": "NOPE", "purpose": "x"})
    assert unknown.status_code == 404 and count(server) == before + 1


def test_no_inline_style_or_script_in_any_view(server):
    client, csrf = signed_in(server)
    opened = client.post(
        "/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "p", "as_of": AS_OF}
    )
    decision = re.search(r'name="decision" value="([0-9a-f]+)"', opened.text).group(1)
    carry = {"csrf": csrf, "decision": decision, "source": "caseload", "citizen": "H-0", "as_of": AS_OF}
    pages = [
        client.get("/"),
        opened,
        client.post("/what-if", data={**carry, "wi_type": "mentor"}),
        client.post("/citizen", data=carry),
        client.post("/assess", data={**carry, "agree": "no"}),
    ]
    for response in pages:
        assert response.status_code in (200, 422), response.text[:500]
        assert not re.search(r"\sstyle\s*=", response.text)
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", response.text)
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert re.search(r'<html lang="(da|en)">', response.text)
    assert pages[-1].status_code == 422  # another phase without a phase or reason is not stored


def test_a_decision_of_another_citizen_is_refused(server):
    client, csrf = signed_in(server)
    opened = client.post("/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "p"})
    decision = re.search(r'name="decision" value="([0-9a-f]+)"', opened.text).group(1)
    answer = client.post(
        "/citizen", data={"csrf": csrf, "decision": decision, "source": "caseload", "citizen": "H-1", "as_of": AS_OF}
    )
    assert answer.status_code == 404


def test_the_caseload_is_read_again_when_it_changes(server, caseload):
    client, csrf = signed_in(server)
    citizen = f"NEW-{time.time_ns()}"
    fields = {"csrf": csrf, "source": "caseload", "citizen": citizen, "purpose": "p", "as_of": AS_OF}
    assert client.post("/open", data=fields).status_code == 404
    (caseload / f"{citizen}.json").write_text(json.dumps(record([3, 4], id=citizen)), encoding="utf-8")
    assert client.post("/open", data=fields).status_code == 200


def test_a_csv_export_folder_is_a_caseload(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = ["citizen_id;date;indicator;score"]
    for citizen in ("C-1", "C-2"):
        for day, level in (("2026-05-01", 3), ("2026-08-01", 4)):
            rows += [f"{citizen};{day};{name};{score}" for name, score in scores(level).items()]
    (folder / "maalinger.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    running = start_server(tmp_path / "srv", "--engine", "python", "--caseload", folder)
    try:
        client, csrf = signed_in(running)
        assert "2 " in re.search(r'id="caseload-count">([^<]+)<', client.get("/").text).group(1)
        opened = client.post(
            "/open", data={"csrf": csrf, "source": "caseload", "citizen": "C-2", "purpose": "p", "as_of": AS_OF}
        )
        assert opened.status_code == 200 and opened.text.count('class="point ') == 2
    finally:
        running.stop()


def test_what_the_caseload_could_not_read_is_listed_with_codes_in_the_sessions_language(tmp_path):
    folder = tmp_path / "caseload"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(record([3, 3], id="D-1")), encoding="utf-8")
    (folder / "b.json").write_text(json.dumps(record([3, 4], id="D-1")), encoding="utf-8")  # the same id again
    (folder / "c.json").write_text('{"measurements": [', encoding="utf-8")  # not JSON
    (folder / "d.json").write_text(json.dumps({"measurements": []}), encoding="utf-8")  # no id
    (folder / "e.json").write_text("[1, 2]", encoding="utf-8")  # not a mapping
    running = start_server(tmp_path / "srv", "--engine", "python", "--caseload", folder)
    try:
        client, _ = signed_in(running)
        pages = {lang: client.get(f"/?lang={lang}").text for lang in ("da", "en")}
        listed = {lang: re.findall(r"<li><code>([^<]+)</code> ([^<]+)</li>", html) for lang, html in pages.items()}
    finally:
        running.stop()
    by_file = {
        lang: {source.split(":")[0].rsplit("/", 1)[-1]: text for source, text in items}
        for lang, items in listed.items()
    }
    assert set(by_file["da"]) == set(by_file["en"]) == {"b.json", "c.json", "d.json", "e.json"}
    count = {lang: re.search(r'id="caseload-count">([^<]+)<', html).group(1) for lang, html in pages.items()}
    assert count == {"da": "1 borger i sagsstammen", "en": "1 citizen in the caseload"}
    assert by_file["da"]["b.json"].startswith("R006 ") and "allerede læst" in by_file["da"]["b.json"]
    assert by_file["en"]["b.json"].startswith("R006 ") and "already read" in by_file["en"]["b.json"]
    assert by_file["da"]["c.json"].startswith("Y001 ") and by_file["en"]["c.json"].startswith("Y001 ")
    assert by_file["da"]["d.json"] == "R002 id: skal udfyldes" and by_file["en"]["d.json"] == "R002 id: is required"
    assert by_file["da"]["e.json"].startswith("R001 en registrering skal være")
    assert by_file["en"]["e.json"].startswith("R001 a record must be")


def test_the_proxy_identity_signs_in_when_trusted_and_secure_cookies_behind_https(tmp_path, caseload):
    running = start_server(
        tmp_path / "srv", "--engine", "python", "--caseload", caseload, "--trust-proxy", "X-Remote-User"
    )
    try:
        headers = {"X-Remote-User": "kim", "X-Remote-User-Role": "caseworker"}
        https = httpx.get(running.base_url + "/", headers={**headers, "X-Forwarded-Proto": "https"})
        assert "Secure" in https.headers["set-cookie"]
        with httpx.Client(base_url=running.base_url, headers=headers) as client:
            home = client.get("/")
            assert 'id="open-form"' in home.text and "kim" in home.text
            assert "Secure" not in home.headers["set-cookie"]
            opened = client.post(
                "/open", data={"csrf": csrf_of(home.text), "source": "caseload", "citizen": "H-0", "purpose": "p"}
            )
            assert opened.status_code == 200
        with httpx.Client(base_url=running.base_url, headers={**headers, "X-Remote-User-Role": "auditor"}) as client:
            assert client.get("/").status_code == 403
    finally:
        running.stop()


def test_static_assets_are_served_and_nothing_outside(server):
    with httpx.Client(base_url=server.base_url) as client:
        css = client.get("/static/page.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert client.get("/static/..%2Fpage.py").status_code == 404
        assert client.get("/static/nothing.css").status_code == 404
        assert "http" not in re.sub(r"http://www\.w3\.org/2000/svg", "", client.get("/").text.split("<main")[0])


# --- sessions and the chart, without a server ----------------------------------------------------


@given(user=st.text(max_size=40), role=st.sampled_from(["caseworker", "team_lead"]), lang=st.sampled_from(["da", "en"]))
@settings(max_examples=50, deadline=None)
def test_a_session_survives_encoding_and_any_change_breaks_it(user, role, lang):
    key = b"k" * 32
    session = sessions.Session(lang=lang).signed_in_as(user, role)
    value = sessions.encode(session, key)
    assert sessions.decode(value, key) == session
    assert sessions.decode(value, b"x" * 32) is None
    assert sessions.decode(value[:-2] + ("AA" if value[-2:] != "AA" else "BB"), key) is None
    assert sessions.decode(value, key, now=session.expires + 1) is None


@given(st.lists(st.integers(1, 5), min_size=1, max_size=16), st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_the_chart_has_one_level_point_per_measurement(levels, changes):
    start = dt.date(2024, 1, 10)
    dates = [start + dt.timedelta(days=91 * index) for index in range(len(levels))]
    data = ChartInput(
        dates=dates,
        scores={"a": list(levels), "b": [None] * len(levels)},
        level=[float(v) for v in levels],
        phases=["standstill"] * len(levels),
        phase_labels={"standstill": "Stilstand"},
        indicator_labels={"a": "A"},
        bands=[("social", "S", start, dates[-1])],
        type_labels={"social": "Social"},
        changes=[(start + dt.timedelta(days=30 * n), f"cw{n}") for n in range(changes)],
        end=dates[-1] + dt.timedelta(days=20),
    )
    chart = build_chart(data, lambda day: day.isoformat())
    assert len(chart.level["points"]) == len(levels)
    assert chart.lines[1]["points"] == []
    xs = [point["x"] for point in chart.level["points"]]
    assert xs == sorted(xs) and all(chart.plot["x1"] <= x <= chart.plot["x2"] for x in xs)
    ys = [point["y"] for point in chart.level["points"]]
    assert all(chart.plot["y1"] <= y <= chart.plot["y2"] for y in ys)


def test_an_uploaded_record_is_checked_and_a_bad_one_shows_its_line(server):
    client, csrf = signed_in(server)
    good = json.dumps(record([2, 3, 4], id="UP-1"), indent=1)
    opened = client.post(
        "/open",
        data={"csrf": csrf, "source": "record", "purpose": "p", "as_of": AS_OF},
        files={"record_file": ("up.json", good.encode(), "application/json")},
    )
    assert opened.status_code == 200 and 'id="citizen-id">UP-1<' in opened.text
    before = count(server)
    bad = good.replace('"id": "UP-1",', '"id": "UP-1"', 1)
    refused = client.post(
        "/open",
        data={"csrf": csrf, "source": "record", "purpose": "p"},
        files={"record_file": ("up.json", bad.encode(), "application/json")},
    )
    assert refused.status_code == 422 and "Y001" in refused.text and "up.json:" in refused.text
    line = next(number for number, text in enumerate(bad.splitlines(), 1) if '"UP-1"' in text) + 1
    assert re.search(rf'id="line-{line}"><code>[^<]*</code><span class="line-problem"><strong>Y001', refused.text)
    assert count(server) == before
