"""For tests that run the app as a real process: wait until it answers."""

from __future__ import annotations

import subprocess

import httpx

from tests.waiting import wait_until


def wait_until_serving(url: str, *, seconds: float = 60, process: subprocess.Popen[bytes] | None = None,
                       log: str = "") -> None:
    """Poll ``/api/status`` until it answers 200; fail early if ``process`` exits (``log`` says where to look)."""

    def answers() -> bool:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server at {url} exited{'; see ' + log if log else ''}")
        return httpx.get(f"{url}/api/status", timeout=2).status_code == 200

    wait_until(answers, seconds, interval=0.2, ignoring=(httpx.HTTPError,),
               message=f"the app at {url} to answer /api/status with 200")
