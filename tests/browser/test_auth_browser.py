"""Sign-in and wall links in Chromium: the form works under the CSP, a wall link drops its token."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import LiveServer, chrome, signed_in, until

pytestmark = pytest.mark.browser


def test_a_stranger_is_sent_to_sign_in_and_an_admin_gets_in(demo_server: LiveServer) -> None:
    driver = chrome(1280, 900, screen=False)
    try:
        driver.get(demo_server.url + "/admin/audit")
        until(driver, lambda d: "/login?next=" in d.current_url, 20)
        assert driver.find_element(By.ID, "login-submit").text == "登录"
        name = signed_in(driver, demo_server, "admin")
        driver.get(demo_server.url + "/admin/audit")
        table = driver.find_element(By.TAG_NAME, "table").text
        assert "sign_in" in table and name in table
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == []
    finally:
        driver.quit()


def test_a_wall_link_signs_the_screen_in_and_hides_its_token(demo_server: LiveServer, screen_url: str) -> None:
    driver = chrome(1920, 1080, screen=False)
    try:
        driver.get(screen_url)
        until(driver, lambda d: d.find_element(By.ID, "kpi-received_today").text not in ("", "—"))
        assert "token=" not in driver.current_url and driver.current_url.endswith("/screen")
        driver.get(demo_server.url + "/duty")
        assert "403" in driver.find_element(By.TAG_NAME, "h1").text
    finally:
        driver.quit()
