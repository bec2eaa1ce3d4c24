"""For tests that run the app as a real process: wait until it answers."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_serving(url: str, *, seconds: float = 60, process: subprocess.Popen[bytes] | None = None,
                       log: str = "") -> None:
    """Poll ``/api/status`` until it answers 200; fail early if ``process`` exits (``log`` says where to look)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited{'; see ' + log if log else ''}")
        try:
            if httpx.get(f"{url}/api/status", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the app at {url} did not start within {seconds:g} s")
