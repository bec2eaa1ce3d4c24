"""Hostile case text in the real browser: markup and script in a case's description, event notes,
actors, first receiver and a handover note stay text on the wall, the tablet and the duty console.

Content-Security-Policy would stop an injected ``<script>`` or ``onerror`` from running, so the
test also looks for the elements themselves: an injected ``<b>``, ``<img src=x>`` or ``<script>``
means the text was parsed as HTML, CSP or not.
"""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.cases import duty_service
from dashboard.cases.casework import CaseDraft
from dashboard.cases.personal_data import Actor
from dashboard.domain.vocabulary import Action, Category, Source
from data_access import cases
from tests.browser.conftest import LiveServer, chrome, painted, signed_in, until
from tests.browser.test_screens import _click, _no_errors

pytestmark = pytest.mark.browser

SCRIPT = "<script>window.__pwned=1</script>"
IMAGE = '<img src=x onerror="window.__pwned=1">'
BOLD = '"><b>bold</b>'
HOSTILE = (SCRIPT, IMAGE, BOLD)


def hostile_case(server: LiveServer) -> tuple[int, str, str, str]:
    """A red case whose every free text is hostile; returns its id, township, village and grid."""
    service = server.runtime.cases
    now = server.runtime.clock()
    grid = sorted(service.places())[5]
    case, _ = service.submit(CaseDraft(source=Source.walk_in, external_ref=f"hostile-{time.time_ns()}",
                                       category=Category.neighbour, received_at=now, grid_code=grid,
                                       people_involved=45, description=" ".join(HOSTILE)),
                             actor=BOLD, now=now)
    service.act(case.id, Action.assess, actor=IMAGE, at=now, note=f"研判：{SCRIPT} {IMAGE} {BOLD}")
    officer = Actor(SCRIPT, "duty_officer")
    duty_service.supervise(server.runtime, case.id, who=officer, note=f"督办 {BOLD} {IMAGE}")
    duty_service.add_handover_note(server.runtime, who=officer, text=f"交班 {SCRIPT} {BOLD}")
    with server.runtime.sessions() as session:
        stored = cases.get(session, case.id)
        assert stored is not None and stored.description == " ".join(HOSTILE), "the text is stored as written"
        return case.id, stored.township_code, stored.village_code, stored.grid_code


def assert_inert(driver: WebDriver) -> None:
    """Nothing ran and no element was made from case text."""
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    made = driver.execute_script("""
        return [
          ...Array.from(document.querySelectorAll('b')).filter(b => b.textContent === 'bold').map(() => 'b'),
          ...Array.from(document.querySelectorAll('img')).filter(i => i.getAttribute('src') === 'x').map(() => 'img'),
          ...Array.from(document.querySelectorAll('script')).filter(s => s.textContent.includes('__pwned')).map(() => 'script'),
        ]""")
    assert made == [], f"case text became elements: {made}"


@pytest.fixture(scope="module")
def planted(demo_server: LiveServer) -> tuple[int, str, str, str]:
    return hostile_case(demo_server)


def test_the_wall_shows_hostile_text_inert(demo_server: LiveServer, planted: tuple[int, str, str, str]) -> None:
    driver = chrome(1920, 1080)
    try:
        driver.get(demo_server.url + "/?tour=off")
        until(driver, lambda d: d.find_element(By.ID, "league-0-name").text not in ("", "—"))
        until(driver, lambda d: d.find_element(By.ID, "ticker-0-place").text.strip() != "")
        # The full state and the stream's first message have been applied, and drawn.
        until(driver, lambda d: d.execute_script("return window.mediationLive.received") >= 2)
        painted(driver)
        assert_inert(driver)
        _no_errors(driver)
    finally:
        driver.quit()


def test_the_tablet_shows_hostile_text_inert(demo_server: LiveServer, planted: tuple[int, str, str, str]) -> None:
    case_id, township, village, grid = planted
    driver = chrome(1024, 768, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet")
        for crumbs, code in ((2, township), (3, village), (4, grid)):
            _click(driver, f"child-{code}")
            until(driver, lambda d, n=crumbs: len(d.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb")) == n)
        assert f"area={grid}" in driver.current_url
        until(driver, lambda d: f"#{case_id}" in d.find_element(By.ID, "tablet-cases").text)
        assert_inert(driver)
        _no_errors(driver)
    finally:
        driver.quit()


def test_the_duty_console_shows_hostile_text_as_text(demo_server: LiveServer,
                                                     planted: tuple[int, str, str, str]) -> None:
    case_id = planted[0]
    driver = chrome(1440, 900, screen=False)
    try:
        signed_in(driver, demo_server, "duty_officer")
        driver.get(demo_server.url + "/duty")
        until(driver, lambda d: d.find_elements(By.ID, f"queue-{case_id}"))
        _click(driver, f"queue-{case_id}")
        until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#duty-timeline .event-note"))
        notes = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#duty-timeline .event-note")]
        assert f"研判：{SCRIPT} {IMAGE} {BOLD}" in notes and f"督办 {BOLD} {IMAGE}" in notes, notes
        actors = driver.find_element(By.ID, "duty-timeline").text
        assert all(text in actors for text in HOSTILE), "the actors are shown as written"
        assert BOLD in driver.find_element(By.ID, "duty-summary").text, "the first receiver is shown as written"
        until(driver, lambda d: f"交班 {SCRIPT} {BOLD}" in d.find_element(By.ID, "duty-notes").text)
        assert_inert(driver)
        _no_errors(driver)
    finally:
        driver.quit()
