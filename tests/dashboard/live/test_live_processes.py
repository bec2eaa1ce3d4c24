"""Two app processes on different ports, one PostgreSQL and one Redis: a case posted to one
reaches a screen held by the other, through the Redis subscription of each process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT
from dashboard.access.security import DISPLAY_COOKIE
from tests.conftest import REDIS_URL
from tests.dashboard.auth_support import new_screen, new_source_token
from tests.factories import GRID_CODES
from tests.serving import wait_until_serving
from tests.waiting import wait_until


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_servers(runtime: Runtime, county: str, tmp_path) -> Iterator[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    """Two servers, a source system's token and a wall's display token."""
    display = new_screen(runtime, county)
    token = new_source_token(runtime)
    procs, urls = [], []
    for _ in range(2):
        port = _port()
        env = {**os.environ, "DATABASE_URL": runtime.settings.database_url, "REDIS_URL": REDIS_URL,
               "PORT": str(port), "MEDIATION_VAR_DIR": str(tmp_path), "MEDIATION_SCHEDULER": "off"}
        procs.append(subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=PROJECT_ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            wait_until_serving(url, process=proc)
        yield urls[0], urls[1], token, display
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.mark.parametrize("runtime", ["postgres"], indirect=True)
def test_a_write_through_one_process_reaches_a_screen_on_the_other(two_servers: tuple[str, str, str, str]) -> None:
    writer, watcher, token, display = two_servers
    with httpx.Client(timeout=30, cookies={DISPLAY_COOKIE: display}) as client, \
            client.stream("GET", f"{watcher}/api/live/stream") as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        full = _next_event(lines)
        assert full[0] == "full"
        before = _count(full[1]["kpis"]["open"])  # not today's intake: it resets at midnight
        posted = httpx.post(f"{writer}/api/cases", headers={"Authorization": f"Bearer {token}"}, json={
            "external_ref": "two-procs", "category": "debt", "received_at": datetime.now(UTC).isoformat(),
            "location": {"grid_code": GRID_CODES[0]}})
        assert posted.status_code == 201, posted.text

        def announces_the_case() -> bool:
            """Reads the next event (it blocks until one comes): the delta that counts the new case?"""
            kind, body = _next_event(lines)
            return kind == "delta" and _count(body["kpis"].get("open", "0")) == before + 1

        wait_until(announces_the_case, 10, interval=0, message="the other process to announce the new case")


def _count(shown: str) -> int:
    return int(shown.replace(",", ""))


def _next_event(lines: Iterator[str]) -> tuple[str, dict]:
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind != "ping":
            return kind, orjson.loads(line.removeprefix("data: "))
    raise AssertionError("stream ended")
