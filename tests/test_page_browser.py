"""The caseworker's page in a real browser: Debian's Chromium driven by Playwright against a real `bip serve`.

The server is started by the `tests/service_server.py` fixture with `--caseload` pointing at a
folder of generated records. Every expectation about a citizen (phase, flags, number of
measurements) is computed with the library from the same record, never written down by hand.
Screenshots of the main views go to the test's temporary folder (and a few to
/work/helpers/screenshots when that folder exists) so a person can look at them.

Without /usr/bin/chromium (or Playwright) the tests are skipped locally, and fail when CI is set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from bip_engine import Checker, clock
from bip_engine.log.assessments import assessments_for
from bip_engine.log.decisions import count_decisions
from bip_engine.log.store import Store
from bip_engine.messages import shown_message
from tests.conftest import ROOT, months_before, record, scores
from tests.service_server import start_server

pytestmark = [pytest.mark.service, pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
AS_OF = "2026-11-22"
SHOTS = Path("/work/helpers/screenshots")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - playwright is a test dependency
    sync_playwright = None

if sync_playwright is None or not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("the browser tests need playwright and /usr/bin/chromium (CI is set)", pytrace=False)
    pytest.skip("playwright or /usr/bin/chromium is not available", allow_module_level=True)


def internships(count: int) -> list[dict]:
    """`count` completed external internships, two months each, the last ending eight months ago."""
    items = []
    for index in range(count):
        start = 10 + 3 * (count - 1 - index)
        items.append(
            {
                "type": "ekstern_praktik",
                "start": months_before(start + 8),
                "end": months_before(start + 6),
                "status": "completed",
            }
        )
    return items


def generated_caseload(folder: Path, seed: int = 7) -> dict[str, dict]:
    """A few generated records as files in `folder` (YAML-compatible JSON); returns them by id."""
    rng = random.Random(seed)
    records = {
        # flat scores, a change of caseworker: standstill with flags
        "P-STILL": record(
            [3, 3, 3],
            id="P-STILL",
            caseworkers=[{"id": "cw-1", "from": months_before(30)}, {"id": "cw-2", "from": months_before(2)}],
        ),
        # four internships so far: a fifth one is what the what-if proposes
        "P-FOUR": record([2, scores(3, work_confidence=2), 3, 3], id="P-FOUR", interventions=internships(4)),
        # falling scores
        "P-FALL": record(
            [4, 3, scores(2, job_search=1)],
            id="P-FALL",
            interventions=[{"type": "mentor", "start": months_before(5), "status": "ongoing"}],
        ),
    }
    today = clock.today()  # the worklist's date: meetings after it are booked ones (its next-meeting column)
    for citizen, days in (("P-FALL", 6), ("P-STILL", 13)):
        records[citizen]["meetings"] = [
            {"date": months_before(2), "kind": "samtale"},
            {"date": (today + dt.timedelta(days=days)).isoformat(), "kind": "samtale"},
        ]
    for index in range(3):
        levels = [scores(rng.randint(1, 5), work_confidence=rng.randint(1, 5)) for _ in range(rng.randint(1, 6))]
        citizen = f"P-GEN{index}"
        records[citizen] = record(levels, id=citizen)
    folder.mkdir(parents=True, exist_ok=True)
    for citizen, data in records.items():
        (folder / f"{citizen}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return records


@pytest.fixture(scope="module")
def caseload(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    folder = tmp_path_factory.mktemp("caseload")
    return folder, generated_caseload(folder)


@pytest.fixture(scope="module")
def server(tmp_path_factory, caseload):
    running = start_server(tmp_path_factory.mktemp("page-server"), "--engine", "python", "--caseload", caseload[0])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(ROOT / "rules", engine="python")


@pytest.fixture
def page(browser: Browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def shoot(page: Page, tmp_path: Path, name: str, keep: bool = False) -> Path:
    """A full-page screenshot in the test's folder; `keep` copies it to the helpers' screenshots folder."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if keep and SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)
    return path


def sign_in(page: Page, server, role: str = "caseworker") -> None:
    page.goto(server.base_url + "/")
    page.fill("#token", server.tokens[role])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#worklist-form")


def base_url(page: Page) -> str:
    """The server's address, from the page's own address."""
    return "/".join(page.url.split("/")[:3])


def open_citizen(page: Page, citizen: str, purpose: str = "Forberedelse af samtale", as_of: str = AS_OF) -> None:
    """Open a citizen by its address; the session's purpose is asked the first time only."""
    page.goto(f"{base_url(page)}/citizens/{citizen}?as_of={as_of}")
    if page.locator("#purpose-ask-form").count():
        page.fill("#purpose", purpose)
        page.click("#purpose-ask-form button[type=submit]")
    page.wait_for_selector("#citizen-id")


def decision_count(server, kind: str | None = "check") -> int:
    """The logged lookups (checks) by default; what-ifs and views are logged as kinds of their own."""
    store = Store.open(server.database)
    try:
        return count_decisions(store, kind)
    finally:
        store.close()


def test_sign_in_open_from_the_caseload_and_see_phase_flags_and_chart(page, server, caseload, checker, tmp_path):
    records = caseload[1]
    sign_in(page, server)
    assert page.get_attribute("html", "lang") == "da"
    shoot(page, tmp_path, "page-home", keep=True)
    before = decision_count(server)
    for citizen in ("P-STILL", "P-FALL", "P-GEN0", "P-GEN1"):
        page.goto(server.base_url + "/")
        open_citizen(page, citizen)
        expected = checker.check(records[citizen], dt.date.fromisoformat(AS_OF), "da")
        assert page.inner_text("#citizen-id") == citizen
        assert page.inner_text("#phase-label").strip() == (
            expected.phase.label if expected.phase else page.inner_text("#phase-label").strip()
        )
        shown = page.eval_on_selector_all("#flags li.flag", "items => items.map(item => item.dataset.flag)")
        assert shown == [flag.id for flag in expected.flags]
        for flag in expected.flags:
            assert flag.title in page.inner_text(f"#flags li[data-flag={flag.id}]")
        measured = [m for m in records[citizen]["measurements"] if m["date"] <= AS_OF]
        assert page.locator("svg.trajectory-chart circle.point").count() == len(measured)
        assert page.locator("#trajectory-table thead th.date").count() == len(measured)
        assert "Beslutningsstøtte" in page.inner_text("header.check-head")
    assert decision_count(server) == before + 4
    shoot(page, tmp_path, "page-check", keep=True)


def test_the_trace_opens_to_rules_and_values(page, server, checker, caseload):
    sign_in(page, server)
    open_citizen(page, "P-FALL")
    expected = checker.check(caseload[1]["P-FALL"], dt.date.fromisoformat(AS_OF), "da")
    trace = page.locator("details#rules-values")
    assert trace.count() == 1  # once, not under every conclusion
    assert not trace.locator("ul.trace-rules").first.is_visible()
    trace.locator("summary").click()
    assert trace.locator("ul.trace-rules").first.is_visible()
    assert expected.phase.rule in trace.inner_text()
    assert all(rule in trace.inner_text() for flag in expected.flags for rule in flag.rules)


BAD_RECORDS = [
    "id: BAD-1\nmeasurements:\n  - date: 2026-05-12\n    scores:\n      health_coping: 7\n",
    (
        "id: BAD-2\nmeasurements:\n  - date: 2026-05-12\n    scores: {health_coping: 3}\ninterventions:\n"
        "  - type: ekstern_praktk\n    start: 2026-01-01\n"
    ),
    "id: BAD-3\nmeasurements: [\n",
]


def cli_problems(checker: Checker, text: str):
    """The problems `bip check` reports for a record text (the same readers)."""
    from bip_engine.errors import RecordError
    from bip_engine.yamlio import parse_yaml

    data, problem = parse_yaml(text, "<record>")
    if problem:
        return [problem]
    try:
        checker.parse_record(data, "<record>")
    except RecordError as error:
        return error.problems
    return []


@pytest.mark.parametrize("text", BAD_RECORDS, ids=["score", "intervention", "syntax"])
def test_a_bad_pasted_record_shows_its_problems_next_to_the_lines(page, server, checker, text, tmp_path):
    expected = cli_problems(checker, text)
    assert expected
    sign_in(page, server)
    before = decision_count(server)
    page.click("#paste > summary")  # the paste form is folded under the worklist
    page.fill("#record_text", text)
    page.fill("#purpose2", "Forberedelse")
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#record-problems")
    listed = page.inner_text("#record-problems ul.problems")
    for problem in expected:
        assert problem.code in listed and shown_message(problem, "da") in listed
        if problem.line and problem.line <= len(text.splitlines()):
            assert problem.code in page.inner_text(f"#line-{problem.line}")
    assert page.locator("#citizen-id").count() == 0
    assert page.input_value("#record_text") == text  # kept for correcting
    assert decision_count(server) == before  # nothing stored from a rejected record
    shoot(page, tmp_path, "page-bad-record", keep="intervention" in text or "praktk" in text)


def test_a_pasted_good_record_is_checked(page, server, checker):
    sign_in(page, server)
    text = (ROOT / "examples" / "stilstand.yaml").read_text(encoding="utf-8")
    page.click("#paste > summary")  # the paste form is folded under the worklist
    page.fill("#record_text", text)
    page.fill("#purpose2", "Forberedelse")
    page.fill("#as_of2", AS_OF)
    page.click("#paste-form button[type=submit]")
    page.wait_for_selector("#citizen-id")
    expected = checker.check_file(str(ROOT / "examples" / "stilstand.yaml"), dt.date.fromisoformat(AS_OF), "da")
    assert page.inner_text("#phase-label").strip() == expected.phase.label


def test_what_if_a_fifth_internship_shows_the_flag_and_is_logged_as_a_what_if(page, server, tmp_path):
    sign_in(page, server)
    open_citizen(page, "P-FOUR")
    assert page.locator("#flags li[data-flag=fifth_internship]").count() == 0
    before, before_what_ifs = decision_count(server), decision_count(server, "what-if")
    page.click("#what-if summary")  # the what-if form is folded
    page.select_option("#wi-type", "external_internship")
    page.fill("#wi-start", "2026-12-01")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("section.after")
    assert page.locator("section.before li[data-flag=fifth_internship]").count() == 0
    new_flag = page.locator("section.after li[data-flag=fifth_internship]")
    assert new_flag.count() == 1 and "new" in new_flag.get_attribute("class")
    assert decision_count(server) == before  # no new check ...
    assert decision_count(server, "what-if") == before_what_ifs + 1  # ... but the look is logged, as a what-if
    shoot(page, tmp_path, "page-what-if", keep=True)


def test_an_override_with_a_reason_is_stored_and_shown_next_time(page, server, tmp_path):
    sign_in(page, server)
    open_citizen(page, "P-STILL")
    decision = page.locator("#decision-id").text_content().strip()
    page.check("#agree-no")
    page.select_option("#other-phase", "regress")
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#assessment-errors")  # another phase needs a reason: the form comes back, filled in
    assert page.is_checked("#agree-no") and page.input_value("#other-phase") == "regress"
    reason = f"Borgeren fortalte om et tilbagefald ({random.randint(1000, 9999)})"
    page.fill("#assessment-reason", reason)
    first_flag = page.locator("#assessment-form fieldset.flag-note input[name=flag]").first.get_attribute("value")
    page.click("#assessment-form details.flag-notes-fold summary")  # the notes on the flags are folded
    page.select_option(f"#status-{first_flag}", "acted")
    page.fill(f"#note-{first_flag}", "Aftalt nyt møde")
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#assessment-saved")
    store = Store.open(server.database)
    try:
        stored = [item for item in assessments_for(store, "P-STILL") if item["decision_id"] == decision]
    finally:
        store.close()
    assert len(stored) == 1 and stored[0]["agrees"] is False and stored[0]["phase"] == "regress"
    assert stored[0]["reason"] == reason and stored[0]["flag_notes"][first_flag]["status"] == "acted"
    page.click("#back-to-check")
    page.wait_for_selector("#previous-assessment")
    assert reason in page.inner_text("#previous-assessment")
    assert "Tilbagegang" in page.inner_text("#previous-assessment")
    shoot(page, tmp_path, "page-next-check", keep=True)


def test_the_citizen_version_has_no_rule_ids_or_caseworker_scores(page, server, checker, tmp_path):
    sign_in(page, server)
    open_citizen(page, "P-FALL")
    page.click("#citizen-version summary")  # folded
    page.click("#citizen-form button[type=submit]")
    page.wait_for_selector("#citizen-text")
    text = page.inner_text("#citizen-text")
    assert len(text) > 100
    rule_ids = {rule.id for rules in checker.rulebook.rules.values() for rule in rules}
    assert not [rule for rule in rule_ids if rule in text]
    caseworker_rated = [
        item for item in checker.rulebook.catalogue.indicators.values() if item.rated_by == "caseworker"
    ]
    for indicator in caseworker_rated:
        assert indicator.id not in text and indicator.label.get("da") not in text
    shoot(page, tmp_path, "page-citizen", keep=True)
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()


def test_the_check_works_with_javascript_disabled(browser, server, checker, caseload):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, server)
        open_citizen(page, "P-STILL")
        expected = checker.check(caseload[1]["P-STILL"], dt.date.fromisoformat(AS_OF), "da")
        assert page.inner_text("#phase-label").strip() == expected.phase.label
        assert page.locator("#flags li.flag").count() == len(expected.flags)
        page.locator("details#rules-values summary").click()
        assert page.locator("details#rules-values ul.trace-rules").first.is_visible()
        page.click("#citizen-version summary")  # folded
        page.click("#citizen-form button[type=submit]")
        page.wait_for_selector("#citizen-text")
        assert not page.locator("#print-button").is_visible()  # "Udskriv" does nothing without JavaScript
    finally:
        context.close()


def test_a_post_without_the_csrf_token_is_refused(page, server):
    sign_in(page, server)
    before = decision_count(server)
    response = page.request.post(
        server.base_url + "/open", form={"source": "caseload", "citizen": "P-STILL", "purpose": "x", "as_of": AS_OF}
    )
    assert response.status == 403
    wrong = page.request.post(
        server.base_url + "/open",
        form={"csrf": "not-the-token", "source": "caseload", "citizen": "P-STILL", "purpose": "x"},
    )
    assert wrong.status == 403
    assert decision_count(server) == before


def test_english_by_a_switch_remembered_in_the_session(page, server):
    sign_in(page, server)
    page.click("a.lang-switch")
    assert page.get_attribute("html", "lang") == "en"
    open_citizen(page, "P-STILL")
    assert page.get_attribute("html", "lang") == "en"
    assert "Decision support" in page.inner_text("header.check-head")
    assert page.inner_text("#phase-label").strip() == "Standstill" or page.inner_text("#phase-title") == "Phase"


def test_no_inline_script_or_style_and_the_csp_holds(page, server):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    sign_in(page, server)
    open_citizen(page, "P-FALL")
    assert page.locator("[style]").count() == 0
    assert page.locator("script:not([src])").count() == 0
    assert not violations


# --- the worklist, links, Back and Reload, phone width, accessibility ------------------------------

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def axe_source() -> str | None:
    """axe-core's browser build (npm `axe-core`, installed globally by .ci/run), or None."""
    import subprocess

    roots = [Path("/usr/lib/node_modules"), Path("/usr/local/lib/node_modules")]
    try:
        found = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=20).stdout.strip()
        roots.insert(0, Path(found))
    except (OSError, subprocess.SubprocessError):
        pass
    for root in roots:
        if (root / "axe-core" / "axe.min.js").is_file():
            return (root / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
    return None


@pytest.fixture(scope="module")
def axe() -> str:
    source = axe_source()
    if source is None:
        if os.environ.get("CI"):
            pytest.fail("the accessibility tests need npm's axe-core (CI is set)", pytrace=False)
        pytest.skip("axe-core is not installed (npm install -g axe-core)")
    return source


def axe_violations(page: Page, source: str) -> list[str]:
    """WCAG 2.1 A and AA violations axe-core finds on the page as it is now (rule id and the first target)."""
    page.add_script_tag(content=source)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [f"{item['id']}: {item['nodes'][0]['target']}" for item in result["violations"]]


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_worklist_opens_a_citizen_by_link_and_back_and_reload_never_log_twice(page, server, caseload, checker):
    from bip_engine.caseload.batch import check_one, triage_key
    from bip_engine.caseload.readers import RawRecord

    sign_in(page, server)
    today = clock.today()
    rows = [check_one(checker, RawRecord(key, data), today).as_dict() for key, data in caseload[1].items()]
    expected = [row["citizen_id"] for row in sorted(rows, key=triage_key)]
    shown = page.eval_on_selector_all("#worklist-table tbody tr", "rows => rows.map(row => row.dataset.citizen)")
    assert shown == expected
    page.fill("#q", "P-F")
    page.click("#worklist-form button[type=submit]")
    assert page.eval_on_selector_all("#worklist-table tbody tr", "rows => rows.map(r => r.dataset.citizen)") == [
        citizen for citizen in expected if "P-F" in citizen
    ]
    before = decision_count(server)
    page.click("#worklist-table a[href^='/citizens/P-FOUR']")
    if page.locator("#purpose-ask-form").count():
        page.fill("#purpose", "Forberedelse af samtale")
        page.click("#purpose-ask-form button[type=submit]")
    page.wait_for_selector("#citizen-id")
    assert decision_count(server) == before + 1
    page.reload()
    assert page.inner_text("#citizen-id") == "P-FOUR" and decision_count(server) == before + 1
    page.click("#what-if summary")  # the what-if form is folded
    page.select_option("#wi-type", "mentor")
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#whatif-date")
    assert decision_count(server, "what-if") >= 1  # the what-if is a look at the citizen too, logged as such
    page.go_back()  # a GET page: no "Confirm Form Resubmission"
    page.wait_for_selector("#citizen-id")
    assert decision_count(server) == before + 1
    page.go_forward()
    page.click("#back-to-check")
    page.wait_for_selector("#citizen-id")
    page.go_back()
    page.wait_for_selector("#whatif-date")
    assert decision_count(server) == before + 1


def test_reloading_after_the_assessment_is_saved_stores_nothing(page, server):
    sign_in(page, server)
    open_citizen(page, "P-GEN1")
    decision = page.locator("#decision-id").text_content().strip()
    assert not page.is_checked("#agree-yes") and not page.is_checked("#agree-no")
    page.check("#agree-yes")
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#assessment-saved")

    def stored() -> int:
        store = Store.open(server.database)
        try:
            return len([item for item in assessments_for(store, "P-GEN1") if item["decision_id"] == decision])
        finally:
            store.close()

    assert stored() == 1
    page.reload()
    page.wait_for_selector("#assessment-saved")
    page.go_back()
    page.go_forward()
    assert stored() == 1


def test_what_if_from_next_week_says_the_date_it_used(page, server, caseload, checker):
    from bip_engine.whatif import what_if

    sign_in(page, server)
    open_citizen(page, "P-STILL")
    start = dt.date.fromisoformat(AS_OF) + dt.timedelta(days=7)
    page.click("#what-if summary")  # the what-if form is folded
    page.select_option("#wi-type", "mentor")
    page.fill("#wi-start", start.isoformat())
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#whatif-date")
    assert "29. november 2026" in page.inner_text("#whatif-date")
    record_ = checker.parse_record(caseload[1]["P-STILL"], "P-STILL")
    after = checker.check(what_if(record_, interventions=[{"type": "mentor", "start": start}]), start, "da")
    shown = page.eval_on_selector_all("section.after li.flag", "items => items.map(item => item.dataset.flag)")
    assert shown == [flag.id for flag in after.flags]


def every_view(page: Page, server) -> list[tuple[str, str]]:
    """(name, address) of each view of the page for one signed-in caseworker (the purpose given)."""
    sign_in(page, server)
    open_citizen(page, "P-FALL")
    check = page.url
    decision = page.locator("#decision-id").text_content().strip()
    query = f"as_of={AS_OF}&decision={decision}"
    page.check("#agree-no")
    page.select_option("#other-phase", "regress")
    page.fill("#assessment-reason", "Borgeren fortalte om et tilbagefald")
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#assessment-saved")
    saved = page.url
    root = base_url(page)
    return [
        ("worklist", root + "/"),
        ("check", check),
        ("what-if", f"{root}/citizens/P-FALL/what-if?{query}&wi_type=mentor&wi_start=2026-11-29"),
        ("assessed", saved),
        ("citizen", f"{root}/citizens/P-FALL/citizen-version?{query}"),
        ("purpose", f"{root}/citizens/P-FALL?as_of=2026-10-01"),  # shown after the purpose is cleared below
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_view_passes_axe_and_fits_the_screen(browser, server, axe, width, tmp_path):
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)  # to inject axe-core
    try:
        page = context.new_page()
        views = every_view(page, server)
        for name, address in views:
            if name == "purpose":
                context.clear_cookies()
                sign_in(page, server)
            page.goto(address)
            found = axe_violations(page, axe)
            assert found == [], f"{name} at {width}: {found}"
            wide = page.evaluate("() => document.documentElement.scrollWidth")
            assert wide <= WIDTHS[width]["width"], f"{name} at {width} is {wide} px wide"
            shoot(page, tmp_path, f"page-{name}-{width}", keep=True)
        header = page.evaluate("() => document.querySelector('header.top').getBoundingClientRect().height")
        assert header <= (80 if width == "phone" else 120)
        context.clear_cookies()
        sign_in(page, server, "team_lead")  # the team lead's view of the assessment saved above
        page.goto(base_url(page) + "/agreement")
        assert page.locator("main table").count() >= 1
        assert axe_violations(page, axe) == [], f"agreement at {width}"
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= WIDTHS[width]["width"], f"agreement at {width} is {wide} px wide"
        shoot(page, tmp_path, f"page-agreement-{width}", keep=True)
        context.clear_cookies()
        page.goto(base_url(page) + "/")
        assert axe_violations(page, axe) == []  # the sign-in form
    finally:
        context.close()


def test_the_focus_ring_stands_out_and_the_worklist_works_by_keyboard(page, server):
    sign_in(page, server)
    link = page.locator("#worklist-table tbody a").first
    link.focus()
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    width = page.evaluate("() => parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert contrast(ring, "rgb(255, 255, 255)") >= 3 and width >= 2
    target = link.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{target.split('?')[0]}*")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_check_opens_with_the_summary_and_flags_on_the_first_screen_and_is_short(browser, server, size, tmp_path):
    """Today's meeting (phase, reason, the flags to take up) fits the first screen; the whole check is a
    few screens, not the ~6,800 px (desktop) it was with every form and table open.

    The bound: the page scrolls at most `SCREENS` screens of the viewport. The parts that make up
    its height are the summary, the phase and flags, what changed, the guidance, the checklist,
    the chart with nine small charts, and the two forms; the traces are folded into one section.
    """
    viewport = WIDTHS[size]
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        sign_in(page, server)
        heights = {}
        for citizen in ("P-STILL", "P-FOUR", "P-FALL"):
            open_citizen(page, citizen)
            today = page.evaluate("() => document.querySelector('#today').getBoundingClientRect().bottom")
            assert today <= viewport["height"], f"{citizen} at {size}: the summary ends at {today} px"
            assert page.locator("#today-points li").count() == min(3, page.locator("#flags li.flag").count())
            heights[citizen] = page.evaluate("() => document.documentElement.scrollHeight")
            shoot(page, tmp_path, f"page-check-height-{citizen}-{size}", keep=citizen == "P-FALL")
        print(f"check page heights at {viewport['width']}x{viewport['height']}: {heights}")
        limit = SCREENS[size] * viewport["height"]
        assert max(heights.values()) <= limit, f"{heights} at {size}: more than {SCREENS[size]} screens"
    finally:
        context.close()


# Measured with these citizens before (traces under every conclusion, every form open) and after:
# 1366x900: P-STILL 6,018 -> 4,396 px, P-FOUR 5,658 -> 4,054, P-FALL 6,770 -> 4,949;
# 390x844: 9,593 -> 6,258, 8,797 -> 5,741, 10,747 -> 7,383. With an earlier assessment shown (when the
# whole module runs) P-FALL grows by about 250 px. The bounds fail for the old page.
SCREENS = {"desktop": 6.0, "phone": 9.5}


def test_typed_text_survives_a_session_ended_while_typing(page, server):
    """The session ends on the server while the caseworker types (it expired, or was signed out
    elsewhere): sending the form asks for a new sign-in, then the same form comes back filled in."""
    from bip_engine.log.sessions import end_session
    from bip_engine.service import sessions

    sign_in(page, server)
    open_citizen(page, "P-STILL")
    reason = f"Borgeren fortalte om en ny diagnose og om praktikken, der stoppede ({random.randint(1000, 9999)})"
    page.check("#agree-no")
    page.select_option("#other-phase", "regress")
    page.fill("#assessment-reason", reason)
    store = Store.open(server.database)
    try:
        cookie = next(item["value"] for item in page.context.cookies() if item["name"] == sessions.COOKIE_NAME)
        session = sessions.decode(cookie, store.session_key())
        end_session(store, session.sid)
        before = len(assessments_for(store, "P-STILL"))
    finally:
        store.close()
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#login-form")
    assert "sættes ind igen" in page.inner_text("#login-error")
    assert reason not in page.url
    page.fill("#token", server.tokens["caseworker"])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#assessment-restored")
    assert page.input_value("#assessment-reason") == reason
    assert page.is_checked("#agree-no") and page.input_value("#other-phase") == "regress"
    page.click("#assessment-form button[type=submit]")
    page.wait_for_selector("#assessment-saved")
    store = Store.open(server.database)
    try:
        stored = assessments_for(store, "P-STILL")
        assert len(stored) == before + 1 and stored[-1]["reason"] == reason
    finally:
        store.close()
