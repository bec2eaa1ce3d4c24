"""The tablet's map is the navigation, in Debian's Chromium: a tap on a township opens it, a tap on
a village opens that, and a live update recolours the map without undoing the leader's pan and zoom."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.cases.casework import CaseDraft
from dashboard.domain.vocabulary import Category, Source
from tests.browser.conftest import LiveServer, chrome, painted, screenshot, signed_in, until

pytestmark = pytest.mark.browser

SMALL_TARGETS = """
    return Array.from(document.querySelectorAll('a, button, input, summary, [role=combobox]'))
      .filter(e => e.offsetParent !== null && getComputedStyle(e).pointerEvents !== 'none')
      .map(e => [e.tagName, e.id || e.className, e.getBoundingClientRect()])
      .filter(([, , r]) => r.height < 44 || r.width < 44)
      .map(([tag, name, r]) => `${tag} ${name} ${Math.round(r.width)}×${Math.round(r.height)}`)"""


def drawn(driver: WebDriver) -> list[str]:
    return driver.execute_script("return window.tabletMap ? window.tabletMap.drawn() : []")  # type: ignore[no-any-return]


def view(driver: WebDriver) -> list[float] | None:
    return driver.execute_script("return window.tabletMap && window.tabletMap.view()")  # type: ignore[no-any-return]


def settled(driver: WebDriver) -> list[float]:
    """The map's [lat, lng, zoom] once no zoom or pan animation is running."""
    until(driver, lambda d: d.execute_script(
        "return !document.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim') && window.tabletMap.view() !== null"))
    return until(driver, lambda d: (lambda first: first if first == view(d) else None)(view(d)))


def tap(driver: WebDriver, code: str) -> None:
    """A finger on the area drawn for ``code``: touch events at a point inside its shape."""
    x, y = until(driver, lambda d: d.execute_script("return window.tabletMap.pointIn(arguments[0])", code))
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def drag(driver: WebDriver, dx: int, dy: int) -> None:
    """Pan the map by hand: press in the middle of the map, move, release."""
    box = driver.find_element(By.CSS_SELECTOR, ".tablet-map").rect
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x, "y": y, "button": "left",
                                                        "clickCount": 1})
    for step in range(1, 11):
        driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + dx * step / 10,
                                                            "y": y + dy * step / 10, "button": "left", "buttons": 1})
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x + dx, "y": y + dy,
                                                        "button": "left", "clickCount": 1})


def crumbs(driver: WebDriver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb")]


def test_tapping_the_map_drills_down_and_a_live_update_keeps_the_view(demo_server: LiveServer) -> None:
    driver = chrome(1024, 768, screen=False)
    try:
        signed_in(driver, demo_server, "leader")
        driver.get(demo_server.url + "/tablet")
        townships = until(driver, lambda d: [c for c in drawn(d) if len(c) == 9])
        children = [e.get_attribute("id").removeprefix("child-") for e in driver.find_elements(By.CSS_SELECTOR, ".child")]
        assert sorted(townships) == sorted(children), "the map draws the children the list shows"
        painted(driver)
        screenshot(driver, "tablet-map-county-1024x768")
        assert driver.execute_script(SMALL_TARGETS) == [], "every touch target, the map's zoom buttons too, is ≥ 44 px"
        county_crumbs = crumbs(driver)

        township = townships[len(townships) // 2]
        tap(driver, township)
        until(driver, lambda d: f"area={township}" in d.current_url and len(crumbs(d)) == len(county_crumbs) + 1)
        assert driver.find_element(By.CSS_SELECTOR, "#tablet-breadcrumb .crumb-current").text not in county_crumbs
        villages = until(driver, lambda d: [c for c in drawn(d) if len(c) == 12 and c.startswith(township)])
        assert not [c for c in drawn(driver) if len(c) == 12 and not c.startswith(township)], "only its own villages"

        village = villages[0]
        tap(driver, village)
        until(driver, lambda d: f"area={village}" in d.current_url and len(crumbs(d)) == len(county_crumbs) + 2)
        grids = until(driver, lambda d: [c for c in drawn(d) if c.startswith(village) and len(c) > 12])
        back = driver.find_elements(By.CSS_SELECTOR, "#tablet-breadcrumb a.crumb")[-1]
        assert back.get_attribute("href").endswith(f"area={township}"), "the breadcrumb leads back"

        # The leader zooms in and pans; then colours by intake so that a new case changes a colour.
        driver.find_element(By.CSS_SELECTOR, ".tablet-map .leaflet-control-zoom-in").click()
        settled(driver)
        drag(driver, 80, 50)
        mine = settled(driver)
        driver.find_element(By.ID, "measure-received").click()
        until(driver, lambda d: "measure=received" in d.current_url and "seg-on" in d.find_element(
            By.ID, "measure-received").get_attribute("class"))
        assert settled(driver) == pytest.approx(mine, abs=1e-9), "another measure keeps the view"

        grid = grids[0]
        before = until(driver, lambda d: d.execute_script("return window.tabletMap.value(arguments[0])", grid),
                       message="the grid's intake is drawn")
        now = demo_server.runtime.clock()
        demo_server.runtime.cases.submit(CaseDraft(
            source=Source.walk_in, external_ref=f"map-{time.time_ns()}", category=Category.neighbour, received_at=now,
            grid_code=grid, people_involved=2), actor="测试", now=now)
        until(driver, lambda d: d.execute_script("return window.tabletMap.value(arguments[0])", grid) == before + 1,
              75, interval=0.5, message="the next refresh (every 30 s) recolours the grid")
        assert settled(driver) == pytest.approx(mine, abs=1e-9), "the live update left the leader's view alone"
        assert f"area={village}" in driver.current_url
        painted(driver)
        screenshot(driver, "tablet-map-village-1024x768")
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        driver.quit()
