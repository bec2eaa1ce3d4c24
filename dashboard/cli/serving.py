"""``serve``: the screens and the API under uvicorn, plus, for the demo, a live feed beside them.

The app is named to uvicorn by its import string (``app:server``), so this package never imports
the entry layer, its layouts or its callbacks."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from typing import Annotated

import typer
import uvicorn

from dashboard.access.refusals import DATABASE_AWAY
from dashboard.cli.accounts import DEMO_ADMIN, demo_access
from dashboard.cli.context import CLI_ROLE, actor, base_url, runtime
from dashboard.domain.rules import DEFAULT_RULES_FILE
from dashboard.runtime import Runtime
from data_access import audit
from data_access.redis_connection import start_embedded_redis, stop_embedded_redis

RULES_CHANGED = "config.rules_changed"
"""Audit action of a start-up that found a rules file other than the one the last start recorded."""


def serve(
    ctx: typer.Context,
    demo_feed: Annotated[float | None, typer.Option(metavar="RATE",
                                                    help="also run the live demo feed at RATE changes/s")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the screens and the API with uvicorn."""
    rt = runtime(ctx)
    try:
        if record_rules_file(rt):
            print("rules file changed since the last start: recorded in the audit log", flush=True)
    except DATABASE_AWAY as error:
        logging.getLogger(__name__).warning("rules file not checked against the audit log: %s", type(error).__name__)
    env = dict(os.environ)
    embedded = rt.settings.redis_url is None
    if embedded:
        # Every process must share one embedded Redis: start it here and hand its URL down.
        env["REDIS_URL"] = os.environ["REDIS_URL"] = start_embedded_redis(rt.settings.var_dir)
    feed = None
    if demo_feed:
        password, token = demo_access(rt)
        base = base_url(rt)
        print(f"demo wall screen (no sign-in):  {base}/screen?token={token}\n"
              f"demo sign-in:  {base}/login  user {DEMO_ADMIN}  password {password}\n"
              "(a new password and wall link are issued on every start)", flush=True)
        feed = subprocess.Popen([sys.executable, "-m", "dashboard", "demo", "live", "--rate", str(demo_feed)], env=env)
    try:
        print(f"serving http://{rt.settings.host}:{rt.settings.port}/", flush=True)
        # Screens hold event streams open; do not wait for them on shutdown, they reconnect.
        uvicorn.run("app:server", host=rt.settings.host, port=rt.settings.port, workers=workers, log_level="info",
                    timeout_graceful_shutdown=2, proxy_headers=False)  # dashboard.access.proxies decides
    finally:
        if feed is not None:
            feed.terminate()
            feed.wait(timeout=10)
        if embedded:  # leave no server behind; any later command starts it again
            stop_embedded_redis(rt.settings.var_dir)


def record_rules_file(rt: Runtime) -> bool:
    """At start-up, an audit entry when the rules file (deadlines, alert thresholds) differs from the
    one the last start recorded: a changed threshold changes every screen, so it must be traceable."""
    path = rt.settings.rules_file or DEFAULT_RULES_FILE
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with rt.sessions() as session, session.begin():
        last = audit.latest(session, action=RULES_CHANGED)
        previous = audit.detail_of(last).get("sha256") if last else None
        if previous == digest:
            return False
        audit.record(session, actor=actor(), role=CLI_ROLE, action=RULES_CHANGED, target=f"file:{path.name}",
                     detail={"sha256": digest, "previous": previous, "path": str(path)})
    return True
