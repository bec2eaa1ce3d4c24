"""A real server (``python -m dashboard serve`` on the embedded default) and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from dashboard.settings import PROJECT_ROOT, Settings
from dashboard.runtime import Runtime
from data_access.redis_connection import stop_embedded_redis

SHOTS = PROJECT_ROOT / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dashboard", *args], env=env, cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL)


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=self.env, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/status", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.process.terminate()
        raise RuntimeError("the app did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo county with 60 days of history, served exactly as ``make run`` serves it."""
    var = tmp_path_factory.mktemp("demo-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(MEDIATION_VAR_DIR=str(var), PORT=str(port), REFRESH_SECONDS="1", MEDIATION_SCHEDULER="off")
    _cli(env, "db", "upgrade")
    _cli(env, "county", "ensure-demo")
    _cli(env, "demo", "backfill", "--days", "60")
    rt = Runtime(Settings(database_url=f"sqlite:///{var / 'mediation.db'}", redis_url=None, var_dir=var))
    server = LiveServer(f"http://127.0.0.1:{port}", rt, env, None)  # type: ignore[arg-type]
    server.start()
    yield server
    server.stop()
    rt.close()
    stop_embedded_redis(var)


def chrome(width: int, height: int) -> webdriver.Chrome:
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
    return driver


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
