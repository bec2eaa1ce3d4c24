"""A real server (``python -m dashboard serve`` on the embedded default) and Debian's Chromium.

Every page needs a role (``dashboard.access.auth.RULES``). What the fixtures give:

- ``demo_server.screen_url`` (also the ``screen_url`` fixture): the demo wall's ``/screen?token=…`` link;
- ``chrome(w, h)`` opens Chromium already holding that wall's display cookie for every running
  demo server, so ``driver.get(server.url + "/")`` shows the wall as a screen does; pass
  ``screen=False`` for a browser with no credentials (it is sent to ``/login``);
- ``signed_in(driver, server, role)`` signs ``driver`` in through the real sign-in form as a user
  of ``role`` (``"leader"``, ``"duty_officer"`` or ``"admin"``; created on first use) and
  returns the user name; afterwards ``driver.get(server.url + "/duty")`` etc. just work;
- ``until(driver, condition)`` is how a browser test waits (the suite's one ``wait_until``), and
  ``painted(driver)`` waits until the page has drawn a frame with its fonts, before a screenshot.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from dashboard.cases import demo
from dashboard.screens.area_figures import same_period_last_year
from dashboard.domain.periods import Period, local_date
from dashboard.settings import PROJECT_ROOT, Settings
from dashboard.access.auth import Role, hash_password, new_password
from dashboard.runtime import Runtime
from dashboard.access.security import DISPLAY_COOKIE
from data_access import users
from data_access.redis_connection import stop_embedded_redis
from tests.serving import wait_until_serving
from tests.waiting import describe, wait_until

SHOTS = PROJECT_ROOT / "screenshots"
T = TypeVar("T")


def until(driver: WebDriver, condition: Callable[[WebDriver], T], timeout: float = 40, *, interval: float = 0.2,
          message: str | Callable[[], str] = "") -> T:
    """``condition(driver)``'s first truthy value, waited for with ``tests.waiting.wait_until``. An
    element not drawn yet, or redrawn between finding and reading it, counts as "not yet"."""
    return wait_until(lambda: condition(driver), timeout, interval=interval, message=message or describe(condition),
                      ignoring=(NoSuchElementException, StaleElementReferenceException))


def painted(driver: WebDriver, timeout: float = 10) -> None:
    """Until the page's web fonts are loaded, no map animation is running and a frame has been drawn
    after that: what a screenshot needs to show the page as a person sees it."""
    until(driver, lambda d: d.execute_script(
        "return document.fonts.status === 'loaded' && !document.querySelector('.leaflet-zoom-anim')"), timeout)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => done(true)))")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], env=env, cwd=PROJECT_ROOT, check=True,
                          stdout=subprocess.PIPE, text=True).stdout


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    screen_url: str = ""
    """The demo wall's link with its display token (``/screen?token=…``)."""
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def display_token(self) -> str:
        return self.screen_url.partition("token=")[2]

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=self.env, cwd=PROJECT_ROOT)
        try:
            wait_until_serving(self.url, process=self.process)
        except (RuntimeError, AssertionError):
            self.process.terminate()
            raise

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def last_year_of(today: date) -> list[date]:
    """The days a year before the wall's 30 days (and a few either side): enough for 同比 to have a
    value, at a tenth of the cost of backfilling the whole year between."""
    window = same_period_last_year(Period.trailing(today, 30))
    return [window.first + timedelta(days=offset) for offset in range(-3, (window.last - window.first).days + 4)]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo county with 60 days of history and the days 同比 compares them with a year earlier,
    served exactly as ``make run`` serves it."""
    var = tmp_path_factory.mktemp("demo-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(MEDIATION_VAR_DIR=str(var), PORT=str(port), REFRESH_SECONDS="1", MEDIATION_SCHEDULER="off")
    _cli(env, "db", "upgrade")
    _cli(env, "county", "ensure-demo")
    _cli(env, "demo", "backfill", "--days", "60")
    url = f"http://127.0.0.1:{port}"
    screen_url = _cli(env, "screens", "add", "browser-wall", "--base-url", url).strip()
    rt = Runtime(Settings(database_url=f"sqlite:///{var / 'mediation.db'}", redis_url=None, var_dir=var))
    now = rt.clock()
    demo.backfill_days(rt.cases, last_year_of(local_date(now)), now=now)
    server = LiveServer(url, rt, env, None, screen_url=screen_url)  # type: ignore[arg-type]
    server.start()
    _WALLS[url] = server.display_token
    yield server
    _WALLS.pop(url, None)
    server.stop()
    rt.close()
    stop_embedded_redis(var)


_WALLS: dict[str, str] = {}
"""Running demo servers → their wall's display token, for :func:`chrome`."""


@pytest.fixture
def screen_url(demo_server: LiveServer) -> str:
    """The demo wall's ``/screen?token=…`` link: opening it signs a browser in as that wall."""
    return demo_server.screen_url


def signed_in(driver: WebDriver, server: LiveServer, role: str) -> str:
    """Sign ``driver`` in through the sign-in form as a ``role`` user (created on first use); returns the name."""
    name = f"browser-{role}"
    if name not in server.passwords:
        password = new_password()
        with server.runtime.sessions() as session, session.begin():
            if users.get_user(session, name) is None:
                users.create_user(session, name=name, role=Role(role).value, password_hash=hash_password(password),
                                  now=server.runtime.clock())
            else:
                users.get_user(session, name).password_hash = hash_password(password)  # type: ignore[union-attr]
        server.passwords[name] = password
    driver.get(f"{server.url}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(server.passwords[name])
    driver.find_element(By.ID, "login-submit").click()
    until(driver, lambda d: "/login" not in d.current_url, 20)
    return name


def chrome(width: int, height: int, *, screen: bool = True) -> webdriver.Chrome:
    """Chromium at a screen's pixel size; with ``screen``, it holds each running demo wall's display cookie."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # The window size includes browser chrome; pin the page itself to the screen's pixels.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    if screen:
        for url, token in _WALLS.items():
            driver.execute_cdp_cmd("Network.setCookie", {"name": DISPLAY_COOKIE, "value": token, "url": url,
                                                         "httpOnly": True, "sameSite": "Lax"})
    return driver


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
