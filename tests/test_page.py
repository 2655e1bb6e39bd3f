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

from bip_engine import clock
from bip_engine.log.decisions import count_decisions, find_decision
from bip_engine.log.store import Store
from bip_engine.service import sessions
from bip_engine.service.page_chart import ChartInput, build_chart
from tests.conftest import record, scores
from tests.service_server import start_server, wait_for

pytestmark = pytest.mark.service  # most tests here start a server; the few that do not are quick

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    folder = tmp_path_factory.mktemp("caseload")
    for index, levels in enumerate(([3, 3, 3], [4, 3, 2], [2], [4, 4, 2])):
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
    assert 'id="worklist-form"' in home.text
    return client, csrf_of(home.text)


def with_purpose(client: httpx.Client, csrf: str, purpose: str = "Forberedelse af samtale") -> None:
    """Give the session's purpose (asked once per session)."""
    answer = client.post("/purpose", data={"csrf": csrf, "purpose": purpose, "next": "/"})
    assert answer.status_code == 303, answer.text


def open_check(client: httpx.Client, citizen: str, as_of: str = AS_OF) -> tuple[httpx.Response, str]:
    """Open a citizen by its address: the lookup is logged and the page redirects to the logged decision."""
    first = client.get(f"/citizens/{citizen}", params={"as_of": as_of})
    assert first.status_code == 303, first.text[:500]
    shown = client.get(first.headers["location"])
    assert shown.status_code == 200, shown.text[:500]
    return shown, re.search(r"decision=([0-9a-f]+)", first.headers["location"]).group(1)


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


@pytest.mark.parametrize("path", ["/login", "/logout", "/open", "/what-if", "/assess", "/citizen", "/purpose"])
def test_every_post_without_the_csrf_token_is_refused(server, path):
    client, csrf = signed_in(server)
    before = count(server)
    fields = {"source": "caseload", "citizen": "H-0", "purpose": "x", "as_of": AS_OF, "token": "x"}
    assert client.post(path, data=fields).status_code == 403
    assert client.post(path, data={**fields, "csrf": csrf + "x"}).status_code == 403
    assert count(server) == before
    assert 'id="worklist-form"' in client.get("/").text  # still signed in


def test_opening_asks_the_purpose_once_logs_the_lookup_and_reload_logs_nothing(server):
    client, csrf = signed_in(server)
    before = count(server)
    asked = client.get("/citizens/H-1", params={"as_of": AS_OF})
    assert asked.status_code == 200 and 'id="purpose-ask-form"' in asked.text and count(server) == before
    missing = client.post("/purpose", data={"csrf": csrf, "purpose": " ", "next": f"/citizens/H-1?as_of={AS_OF}"})
    assert missing.status_code == 422 and 'id="purpose-error"' in missing.text
    purpose = f"Forberedelse {time.time_ns()}"
    given = client.post("/purpose", data={"csrf": csrf, "purpose": purpose, "next": f"/citizens/H-1?as_of={AS_OF}"})
    assert given.status_code == 303 and given.headers["location"] == f"/citizens/H-1?as_of={AS_OF}"
    shown, decision_id = open_check(client, "H-1")
    assert count(server) == before + 1
    assert f'id="decision-id">{decision_id}<' in shown.text
    store = Store.open(server.database)
    try:
        logged = find_decision(store, decision_id)
    finally:
        store.close()
    assert logged["purpose"] == purpose and logged["user"] == "caseworker" and logged["as_of"] == AS_OF
    assert logged["citizen"] != "H-1"  # pseudonymised
    for _ in range(2):  # Reload (and Back to) the logged check's address: shown again, not logged again
        again = client.get(f"/citizens/H-1?as_of={AS_OF}&decision={decision_id}")
        assert again.status_code == 200 and f'id="decision-id">{decision_id}<' in again.text
    assert count(server) == before + 1
    other_day = client.get(f"/citizens/H-1?as_of=2026-10-01&decision={decision_id}")  # another date: a new lookup
    assert other_day.status_code == 303 and count(server) == before + 2
    assert client.get("/citizens/NOPE", params={"as_of": AS_OF}).status_code == 404
    assert count(server) == before + 2
    unknown = client.post("/open", data={"csrf": csrf, "source": "caseload", "citizen": "H-0", "purpose": "x"})
    assert unknown.status_code == 303 and unknown.headers["location"].startswith("/citizens/H-0?as_of=")


def test_open_from_history_or_a_bookmark_goes_to_the_worklist(server):
    client, _ = signed_in(server)
    answer = client.get("/open")
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_no_inline_style_or_script_in_any_view(server):
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    opened, decision = open_check(client, "H-0")
    base = {"decision": decision, "as_of": AS_OF}
    carry = {"csrf": csrf, "decision": decision, "source": "caseload", "citizen": "H-0", "as_of": AS_OF}
    pages = [
        client.get("/"),
        opened,
        client.get("/citizens/H-0/what-if", params={**base, "wi_type": "mentor"}),
        client.get("/citizens/H-0/citizen-version", params=base),
        client.post("/assess", data={**carry, "agree": "no"}),
    ]
    for response in pages:
        assert response.status_code in (200, 422), response.text[:500]
        assert not re.search(r"\sstyle\s*=", response.text)
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", response.text)
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert re.search(r'<html lang="(da|en)">', response.text)
    assert pages[-1].status_code == 422  # another phase without a phase or reason is not stored


def test_a_decision_of_another_citizen_or_user_is_refused(server):
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    _, decision = open_check(client, "H-0")
    answer = client.post(
        "/citizen", data={"csrf": csrf, "decision": decision, "source": "caseload", "citizen": "H-1", "as_of": AS_OF}
    )
    assert answer.status_code == 404
    assert client.get("/citizens/H-1/citizen-version", params={"as_of": AS_OF, "decision": decision}).status_code == 404
    lead, lead_csrf = signed_in(server, "team_lead")
    with_purpose(lead, lead_csrf)
    before = count(server)
    theirs = lead.get(f"/citizens/H-0?as_of={AS_OF}&decision={decision}")  # another user's decision: a new lookup
    assert theirs.status_code == 303 and decision not in theirs.headers["location"] and count(server) == before + 1


def test_an_assessment_is_stored_once_and_reload_stores_nothing(server):
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    shown, decision = open_check(client, "H-1")
    assert 'value="yes" checked' not in shown.text and 'value="no" checked' not in shown.text  # nothing preselected
    store = Store.open(server.database)
    try:
        from bip_engine.log.assessments import assessments_for

        def stored() -> int:
            return len([item for item in assessments_for(store, "H-1") if item["decision_id"] == decision])

        carry = {"csrf": csrf, "decision": decision, "source": "caseload", "citizen": "H-1", "as_of": AS_OF}
        unanswered = client.post("/assess", data={**carry, "reason": "Jeg har skrevet noget"})
        assert unanswered.status_code == 422 and stored() == 0
        assert "Jeg har skrevet noget" in unanswered.text  # the typed text comes back
        saved = client.post("/assess", data={**carry, "agree": "yes", "reason": f"Set {time.time_ns()}"})
        assert saved.status_code == 303 and stored() == 1
        target = saved.headers["location"]
        for _ in range(2):  # Reload of the answer
            answer = client.get(target)
            assert answer.status_code == 200 and 'id="assessment-saved"' in answer.text
        resent = client.post("/assess", data={**carry, "agree": "yes", "reason": saved.request.content.decode()})
        assert resent.status_code == 303 and stored() == 2  # a different reason is a new assessment
        same = client.post("/assess", data=dict(httpx.QueryParams(resent.request.content.decode())))
        assert same.status_code == 303 and same.headers["location"] == resent.headers["location"] and stored() == 2
    finally:
        store.close()


def test_the_caseload_is_read_again_when_it_changes(server, caseload):
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    citizen = f"NEW-{time.time_ns()}"
    assert client.get(f"/citizens/{citizen}", params={"as_of": AS_OF}).status_code == 404
    (caseload / f"{citizen}.json").write_text(json.dumps(record([3, 4], id=citizen)), encoding="utf-8")
    wait_for(lambda: client.get(f"/citizens/{citizen}", params={"as_of": AS_OF}).status_code == 303, what=citizen)


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
        assert re.search(r'id="worklist-count" role="status">([^<]+)<', client.get("/").text).group(1) == "2 borgere"
        with_purpose(client, csrf)
        opened, _ = open_check(client, "C-2")
        assert opened.text.count('class="point ') == 2
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
    count = {
        lang: re.search(r'id="worklist-count" role="status">([^<]+)<', html).group(1) for lang, html in pages.items()
    }
    assert count == {"da": "1 borger", "en": "1 citizen"}
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
            assert 'id="worklist-form"' in home.text and "kim" in home.text
            assert "Secure" not in home.headers["set-cookie"]
            opened = client.post(
                "/open", data={"csrf": csrf_of(home.text), "source": "caseload", "citizen": "H-0", "purpose": "p"}
            )
            assert opened.status_code == 303
            assert client.get(opened.headers["location"]).status_code == 303  # logged, then to the decision
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


# --- the worklist ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort_server(tmp_path_factory):
    """A server over 60 simulated citizens (a JSON Lines export), and the records by id."""
    from bip_engine.caseload.simulate import generate_cohort

    folder = tmp_path_factory.mktemp("cohort")
    records = {item["id"]: item for item in generate_cohort(60, seed=3, as_of=clock.today())}
    path = folder / "caseload.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in records.values()), encoding="utf-8")
    running = start_server(tmp_path_factory.mktemp("cohort-srv"), "--engine", "python", "--caseload", path)
    yield running, records, path
    running.stop()


def triage_rows(records: dict[str, dict]) -> list[dict]:
    """The rows `bip batch --order triage` gives for the records today, in its order."""
    from bip_engine import Checker
    from bip_engine.caseload.batch import check_one, triage_key
    from bip_engine.caseload.readers import RawRecord

    checker = Checker(None, engine="python")
    rows = [check_one(checker, RawRecord(item_id, data), clock.today()).as_dict() for item_id, data in records.items()]
    return sorted(rows, key=triage_key)


def listed(html: str) -> list[str]:
    """The citizen ids of the worklist's rows, top to bottom."""
    return re.findall(r'<tr data-citizen="([^"]+)">', html)


def test_the_worklist_shows_the_caseload_in_triage_order_with_paging(cohort_server):
    server, records, _ = cohort_server
    client, _ = signed_in(server)
    expected = [row["citizen_id"] for row in triage_rows(records)]
    first = client.get("/")
    assert listed(first.text) == expected[:25]
    assert '<datalist id="citizen-ids"' not in first.text  # no list of every citizen
    assert re.search(r'id="worklist-count" role="status">([^<]+)<', first.text).group(1).startswith("60 borgere")
    following = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = client.get(following)
    assert listed(second.text) == expected[25:50]
    last = client.get("/", params={"page": 3})
    assert listed(last.text) == expected[50:] and 'rel="next"' not in last.text
    for citizen in listed(first.text):
        assert f'href="/citizens/{citizen}?as_of={clock.today().isoformat()}"' in first.text


def test_the_worklist_filters_by_phase_and_flag_and_searches_by_id(cohort_server):
    server, records, _ = cohort_server
    client, _ = signed_in(server)
    rows = triage_rows(records)
    phase = rows[0]["phase"]
    by_phase = client.get("/", params={"phase": phase})
    assert listed(by_phase.text) == [row["citizen_id"] for row in rows if row["phase"] == phase][:25]
    flag = rows[-1]["flags"][0] if rows[-1]["flags"] else rows[0]["flags"][0]
    by_flag = client.get("/", params={"flag": flag})
    assert listed(by_flag.text) == [row["citizen_id"] for row in rows if flag in row["flags"]][:25]
    both = client.get("/", params={"flag": flag, "phase": phase})
    assert listed(both.text) == [r["citizen_id"] for r in rows if flag in r["flags"] and r["phase"] == phase][:25]
    found = client.get("/", params={"q": "sim-00001"})
    assert listed(found.text) == [row["citizen_id"] for row in rows if "SIM-00001" in row["citizen_id"]]
    nothing = client.get("/", params={"q": "nobody"})
    assert listed(nothing.text) == [] and 'id="no-matches"' in nothing.text
    by_id = client.get("/", params={"sort": "id"})
    assert listed(by_id.text) == sorted(records)[:25]


def test_a_changed_export_is_read_off_the_request_path(cohort_server):
    server, records, path = cohort_server
    client, _ = signed_in(server)
    client.get("/")
    started = time.monotonic()
    newcomer = dict(next(iter(records.values())), id=f"NEW-{time.time_ns()}")
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(newcomer) + "\n")
    for _ in range(5):  # while the export is read again, the page and /healthz answer at once
        asked = time.monotonic()
        assert client.get("/").status_code == 200 and client.get("/healthz").status_code == 200
        assert time.monotonic() - asked < 2.0
    wait_for(lambda: newcomer["id"] in client.get("/", params={"q": newcomer["id"]}).text, what="the new citizen")
    assert time.monotonic() - started < 30


# --- since the last meeting, what-if forward --------------------------------------------------------


def section(html: str, element_id: str) -> str:
    """The HTML of the element with `element_id` up to its first closing </div>."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</div>", start)]


def test_what_changed_is_since_the_last_assessed_check_and_a_new_lookup_does_not_wipe_it(server, caseload):
    from bip_engine import Checker
    from bip_engine.changes import Summary, compare

    checker = Checker(None, engine="python")
    data = json.loads((caseload / "H-3.json").read_text(encoding="utf-8"))
    earlier = dt.date.fromisoformat(data["measurements"][1]["date"]) + dt.timedelta(days=1)
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    _, meeting = open_check(client, "H-3", as_of=earlier.isoformat())
    carry = {"csrf": csrf, "decision": meeting, "source": "caseload", "citizen": "H-3", "as_of": earlier.isoformat()}
    assert client.post("/assess", data={**carry, "agree": "yes"}).status_code == 303
    now = checker.check(data, dt.date.fromisoformat(AS_OF), "da")
    expected = compare(Summary.from_report(checker.check(data, earlier, "da")), Summary.from_report(now))
    assert expected.flags_new or expected.phase_changed or expected.indicators_moved  # something to show
    shown = []
    for _ in range(3):  # three lookups in a row (a colleague's, a reload): the comparison stays
        page, _ = open_check(client, "H-3")
        shown.append(section(page.text, "since-meeting"))
    assert shown[0] == shown[1] == shown[2]
    titles = {flag.id: flag.title for flag in now.flags}
    for flag in expected.flags_new:
        assert titles[flag] in shown[0]
    assert ("Fasen er skiftet" in shown[0]) == expected.phase_changed
    previous = data["measurements"][-2]["date"]
    by_measurement = compare(
        Summary.from_report(checker.check(data, dt.date.fromisoformat(previous), "da")), Summary.from_report(now)
    )
    measured = section(page.text, "since-measurement")
    assert len(re.findall(r"<li>", measured.split('class="moved"')[-1])) == len(by_measurement.indicators_moved) or (
        not by_measurement.indicators_moved and 'class="moved"' not in measured
    )


def test_what_if_with_a_start_after_the_check_date_is_evaluated_on_that_date(server, caseload):
    from bip_engine import Checker
    from bip_engine.whatif import what_if

    checker = Checker(None, engine="python")
    data = json.loads((caseload / "H-2.json").read_text(encoding="utf-8"))
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    _, decision = open_check(client, "H-2")
    start = (dt.date.fromisoformat(AS_OF) + dt.timedelta(days=7)).isoformat()
    answer = client.get(
        "/citizens/H-2/what-if", params={"as_of": AS_OF, "decision": decision, "wi_type": "mentor", "wi_start": start}
    )
    assert answer.status_code == 200
    assert (
        re.search(r'id="whatif-date"[^>]*>[^<]*<strong>([^<]+)</strong>', answer.text).group(1) == "29. november 2026"
    )
    record_ = checker.parse_record(data, "H-2")
    day = dt.date.fromisoformat(start)
    changed = checker.check(what_if(record_, interventions=[{"type": "mentor", "start": start}]), day, "da")
    shown_after = re.findall(
        r'data-flag="([^"]+)"', answer.text.split('class="card side after"')[1].split("</section>")[0]
    )
    assert shown_after == [flag.id for flag in changed.flags]
    same = client.get(
        "/citizens/H-2/what-if",
        params={"as_of": AS_OF, "decision": decision, "wi_caseworker": "cw-same", "wi_caseworker_from": start},
    )
    before, after = (
        checker.check(record_, day, "da"),
        checker.check(what_if(record_, caseworker={"id": "cw-same", "from": start}), day, "da"),
    )
    unchanged = [f.id for f in before.flags] == [f.id for f in after.flags] and before.phase == after.phase
    assert ('id="whatif-no-change"' in same.text) == unchanged
    back = re.search(r'id="back-to-check"', answer.text)
    assert back and f"decision={decision}" in answer.text


def test_the_chart_is_one_small_chart_per_indicator_the_caseworkers_apart(server, caseload):
    from bip_engine import Checker

    checker = Checker(None, engine="python")
    data = json.loads((caseload / "H-1.json").read_text(encoding="utf-8"))
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    page, _ = open_check(client, "H-1")
    indicators = checker.rulebook.catalogue.indicators
    scored = {name for item in data["measurements"] for name in item["scores"]}
    for group, rated_by in (("own", "citizen"), ("caseworker", "caseworker")):
        block = page.text.split(f'id="multiples-{group}"')[1].split("</div>")[0]
        expected = [item.id for item in indicators.values() if item.rated_by == rated_by and item.id in scored]
        assert re.findall(r'<figure class="multiple" data-indicator="([^"]+)">', block) == expected
        for indicator in expected:
            small = block.split(f'data-indicator="{indicator}"')[1].split("</figure>")[0]
            assert small.count('class="small-point') == sum(
                1 for item in data["measurements"] if indicator in item["scores"]
            )
            assert small.count('class="phase-band') == len(data["measurements"])
    overview = page.text.split('class="trajectory-chart"')[1].split("</svg>")[0]
    assert "ind-line" not in overview and "(1–5)" in overview  # the overview: the level only, with its axis named


def test_the_check_opens_with_todays_meeting_phase_the_first_flags_and_what_changed(server, caseload):
    from bip_engine import Checker

    checker = Checker(None, engine="python")
    data = json.loads((caseload / "H-1.json").read_text(encoding="utf-8"))
    expected = checker.check(data, dt.date.fromisoformat(AS_OF), "da")
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    page, _ = open_check(client, "H-1")
    today = page.text.split('id="today"')[1].split("</section>")[0]
    assert page.text.index('id="today"') < page.text.index('id="phase"') < page.text.index('id="developer"')
    assert expected.phase.label in today
    points = re.findall(r"<li>([^<]+)</li>", today.split('id="today-points"')[1].split("</ol>")[0])
    assert points == [flag.title for flag in expected.flags[:3]]
    assert 'id="today-changed"' in today  # H-1 has an earlier measurement to compare with


def test_the_next_meeting_is_the_earliest_booked_after_the_date_and_breaks_triage_ties():
    """Booked meetings (after the worklist's date, not cancelled) are shown, not counted as held."""
    from bip_engine import Checker
    from bip_engine.service.page_records import CaseloadEntry
    from bip_engine.service.page_worklist import build_worklist
    from tests.conftest import AS_OF as DAY

    def on(days: int) -> str:
        return (DAY + dt.timedelta(days=days)).isoformat()

    booked = {
        "late": [{"date": on(-20), "kind": "samtale"}, {"date": on(30), "kind": "samtale"}],
        "soon": [
            {"date": on(21), "kind": "samtale"},
            {"date": on(-3), "kind": "samtale"},
            {"date": on(7), "kind": "x"},
        ],
        "cancelled": [{"date": on(2), "kind": "samtale", "status": "cancelled"}, {"date": on(40), "kind": "samtale"}],
        "none": [{"date": on(-10), "kind": "samtale"}],
    }
    citizens = {
        name: CaseloadEntry(name, record((3, 3, 3), id=name, meetings=meetings)) for name, meetings in booked.items()
    }
    checker = Checker(None, engine="python")
    worklist = build_worklist(checker, citizens, DAY)
    rows = {row.citizen_id: row for row in worklist.rows}
    expected = {
        name: min(
            (dt.date.fromisoformat(m["date"]) for m in meetings if m["date"] > DAY.isoformat() and "status" not in m),
            default=None,
        )
        for name, meetings in booked.items()
    }
    assert {name: row.next_meeting for name, row in rows.items()} == expected
    assert rows["soon"].next_meeting == DAY + dt.timedelta(days=7)  # not the later one, not the past one
    # the same record apart from meetings: same phase and flags, so the sooner meeting comes first
    assert len({(row.phase, row.flags) for row in worklist.rows}) == 1
    assert [row.citizen_id for row in worklist.rows] == ["soon", "late", "cancelled", "none"]
    # a booked meeting is not a held one: the facts see only the past meetings
    evaluation = checker.evaluate(checker.parse_record(citizens["late"].data, "late"), DAY)
    assert evaluation.facts["days_since_held_meeting"] == 20


def test_the_snapshot_from_the_child_costs_the_parent_one_object_per_citizen_not_every_record():
    """The parent unpickles a changed caseload's snapshot while it serves requests (it holds the
    interpreter's lock meanwhile): the records must come across packed, not as their nested lists and dicts."""
    import gc
    import pickle

    from bip_engine.service.page_records import CaseloadEntry, CaseloadSnapshot

    citizens = {
        f"C-{n}": CaseloadEntry(f"caseload.jsonl:{n}", record(tuple(range(1, 6)) * 4, id=f"C-{n}")) for n in range(300)
    }
    nested = sum(1 for _ in gc.get_referents(*[entry.data for entry in citizens.values()]))
    assert nested > 300  # each record holds lists of measurements: the cost the parent must not pay
    sent = pickle.dumps(CaseloadSnapshot(citizens=citizens))
    gc.collect()
    before = len(gc.get_objects())
    received = pickle.loads(sent)
    made = len(gc.get_objects()) - before
    assert made <= 3 * len(citizens) + 20  # the entries (and the dict holding them), not their contents
    assert {key: entry.data for key, entry in received.citizens.items()} == {
        key: entry.data for key, entry in citizens.items()
    }
    assert received.citizens["C-7"].source == "caseload.jsonl:7"


def visible_text(html: str) -> str:
    """The page's own text as a reader sees it: no tags, attributes, code (rule expressions), hidden fields
    or what caseworkers wrote (a quoted reason)."""
    html = re.sub(r"<(script|style|code|blockquote)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("citizen", ["H-0", "H-1", "H-2", "H-3"])
def test_the_margins_say_what_moves_the_phase_in_words_and_the_rules_are_shown_once(server, caseload, citizen):
    from bip_engine import Checker

    checker = Checker(None, engine="python")
    data = json.loads((caseload / f"{citizen}.json").read_text(encoding="utf-8"))
    expected = checker.check(data, dt.date.fromisoformat(AS_OF), "da", margins=True)
    current = expected.phase.id if expected.phase else None
    moving = [margin for margin in expected.phase_margins if margin.result_phase != current]
    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    page, _ = open_check(client, citizen)
    block = page.text.split('<ul class="margins"')[1].split("</ul>")[0] if moving else ""
    lines = [line.strip() for line in re.findall(r"<li>([^<]+)</li>", block)]
    assert len(lines) == len(moving)  # the margins that leave the phase as it is are left out
    for line, margin in zip(lines, moving, strict=True):
        assert "stadig" not in line and not re.search(r"\b(change|level)\b", line)
        if len(margin.changes) == 1 and margin.changes[0].fact in ("change", "level") and margin.changes[0].distance:
            rise = margin.changes[0].distance > 0
            assert line.startswith("Hvis borgerens egne svar i gennemsnit " + ("stiger" if rise else "falder"))
            assert line.endswith(f"bliver fasen {margin.result_label}.")
    text = visible_text(page.text)
    assert text.count("Regler og værdier bag konklusionen") == 1
    assert not re.search(r"(?<![\w–-])-\d", text), "a hyphen-minus before a number"
    iso = re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)
    assert not iso, f"an ISO date among the long dates: {text[iso.start() - 200 : iso.end() + 50]}"


def test_the_typed_assessment_survives_an_expired_session_for_the_same_user_only(server):
    """The session runs out while the caseworker types: the post asks for a new sign-in and keeps the
    text (never in the address); after signing in the same form comes back filled in, nothing stored."""
    import dataclasses

    from bip_engine.log.assessments import assessments_for
    from bip_engine.service import page_kept

    client, csrf = signed_in(server)
    with_purpose(client, csrf)
    _, decision = open_check(client, "H-1")
    store = Store.open(server.database)
    try:
        key = store.session_key()
        before = len(assessments_for(store, "H-1"))
    finally:
        store.close()
    live = sessions.decode(client.cookies[sessions.COOKIE_NAME], key)
    expired = sessions.encode(dataclasses.replace(live, expires=int(time.time()) - 60), key)
    reason = f"Borgeren fortalte længe om sin ryg og om praktikken ({time.time_ns()})"
    form = {
        "csrf": csrf,
        "decision": decision,
        "source": "caseload",
        "citizen": "H-1",
        "as_of": AS_OF,
        "agree": "no",
        "phase": "regress",
        "reason": reason,
    }
    with httpx.Client(base_url=server.base_url, cookies={sessions.COOKIE_NAME: expired}) as other:
        forged = other.post("/assess", data={**form, "csrf": "not-the-token"})
        assert forged.status_code == 403 and page_kept.COOKIE not in forged.cookies  # CSRF still checked
    with httpx.Client(base_url=server.base_url, cookies={sessions.COOKIE_NAME: expired}) as late:
        answer = late.post("/assess", data=form)
        assert answer.status_code == 401 and 'id="login-form"' in answer.text and "location" not in answer.headers
        assert reason not in answer.text  # kept in the signed cookie, not on the page or in an address
        kept = answer.cookies[page_kept.COOKIE]
        assert page_kept.decode(kept, key, "someone-else") is None  # tied to the user
        assert page_kept.decode(kept, key, live.user)["values"]["reason"] == reason
        signed = late.post("/login", data={"csrf": csrf_of(answer.text), "token": server.tokens["caseworker"]})
        assert signed.status_code == 303
        back = signed.headers["location"]
        assert back == f"/citizens/H-1?as_of={AS_OF}&decision={decision}#assessment" and reason not in back
        shown = late.get(back.split("#")[0])
        assert shown.status_code == 200 and 'id="assessment-restored"' in shown.text
        assert f">{reason}</textarea>" in shown.text and 'value="no" checked' in shown.text
        assert page_kept.COOKIE in shown.headers["set-cookie"] and "Max-Age=0" in shown.headers["set-cookie"]
    store = Store.open(server.database)
    try:
        assert len(assessments_for(store, "H-1")) == before  # nothing stored until the form is sent again
    finally:
        store.close()
