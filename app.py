"""The entry layer: ``create_app`` assembles the Dash screens, the routers and the middleware.

``uvicorn app:server`` (or ``python app.py``) serves the command centre built from the environment's
settings; tests and ``python -m dashboard serve`` call ``create_app`` with their own runtime.
"""

from __future__ import annotations

import gc
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from dash import Dash
from fastapi import FastAPI
import uvicorn

from callbacks import wall as wall_callbacks
from dashboard import __version__
from dashboard.api import outage
from dashboard.runtime import Runtime
from dashboard.cases.scheduler import scheduler_thread
from dashboard.reports.schedule import report_thread
from dashboard.reports.web import build_reports_router
from dashboard.settings import PROJECT_ROOT, load_settings
from dashboard.screens.wall_service import SnapshotCache
from dashboard.api.web_geometry import GeometryCache
from dashboard.api.status import build_api
from dashboard.api.region_geometry import build_region_geometry_api
from dashboard.api.audit_view import build_audit_router
from dashboard.api.warnings import build_warnings_router
from dashboard.access.login_page import build_login_router
from dashboard.web.screen_index import ScreenDash
from dashboard.access.headers import origin_of
from dashboard.access.security import AccessMiddleware, SecurityConfig
from dashboard.access.proxies import TrustedProxies
from dashboard.web.compression import ResponseCompression
from dashboard.api.live import build_live_api
from dashboard.live.live_hub import LiveHub
from dashboard.cases.outbox_drain import drain_thread
from dashboard.api.errors import install_error_handlers
from dashboard.api.grid_lookup import GridLookup
from dashboard.api.ingest import build_ingest_api
from dashboard.api.open311 import build_open311_api
from layouts import wall

log = logging.getLogger(__name__)


def build_id() -> str:
    """Changes whenever the code or the screen assets change: open screens reload on a deploy."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted([*(PROJECT_ROOT / "assets").glob("*.js"), *(PROJECT_ROOT / "assets").glob("*.css"),
                        *(PROJECT_ROOT / "dashboard").rglob("*.py"), *(PROJECT_ROOT / "layouts").glob("*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _lifespan(rt: Runtime, hub: LiveHub):  # type: ignore[no-untyped-def]
    """Background work that lives as long as the server: the live hub and the deadline scheduler.

    The built app's objects live as long as the process; ``gc.freeze`` moves them out of the
    cyclic collector's sight, so a full collection never stops the event loop to walk them while
    a live update is on its way (figures in docs/benchmarks.md). Later garbage is collected as
    before.
    """

    @asynccontextmanager
    async def lifespan(_server: FastAPI) -> AsyncIterator[None]:
        scheduler = scheduler_thread(rt) if rt.settings.scheduler else None
        if scheduler:
            scheduler.start()
        reports = report_thread(rt) if rt.settings.scheduler else None  # 日报/周报/月报 on schedule, one process each
        if reports:
            reports.start()
        drainer = drain_thread(rt, rt.settings.outbox_drain_seconds)  # what a dead process owed Redis
        drainer.start()
        await hub.start()
        gc.freeze()
        try:
            yield
        finally:
            await hub.stop()
            if scheduler:
                scheduler.stop()
            if reports:
                reports.stop()
            drainer.stop()

    return lifespan


def create_app(rt: Runtime, security: SecurityConfig | None = None) -> Dash:
    """The Dash app on the FastAPI backend; ``app.server`` is the ASGI application.

    ``security`` sets rate limits (tests shrink them); every route sits behind
    ``AccessMiddleware``, which checks the role of whoever asks (``dashboard.access.auth.RULES``).
    """
    tile = origin_of(rt.settings.tile_url)
    security = security or SecurityConfig(img_sources=(tile,) if tile else ())
    build = build_id()
    snapshots = SnapshotCache(rt)
    hub = LiveHub(rt, snapshots, build=build, max_states=rt.settings.live_max_states,
                  idle_seconds=rt.settings.live_idle_seconds,
                  streams_per_principal=rt.settings.live_streams_per_principal)
    server = FastAPI(title="County dispute-resolution command centre", version=__version__,
                     openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None, lifespan=_lifespan(rt, hub))
    install_error_handlers(server)
    outage.install(server)
    server.include_router(build_login_router(rt, security))
    server.include_router(build_audit_router(rt))
    server.include_router(build_warnings_router(rt))
    server.include_router(build_reports_router(rt))
    server.include_router(build_api(rt, GeometryCache()))
    server.include_router(build_region_geometry_api(rt))
    lookup = GridLookup()  # grid polygons are loaded once per process, for both APIs
    server.include_router(build_ingest_api(rt, lookup))
    server.include_router(build_open311_api(rt, lookup=lookup))
    server.include_router(build_live_api(hub))
    server.add_middleware(ResponseCompression)  # the one compression layer; Dash's own stays off
    app = ScreenDash(
        __name__,
        server=server,
        backend="fastapi",
        title="矛盾纠纷调处化解指挥中心",
        assets_folder=str(PROJECT_ROOT / "assets"),
        serve_locally=True,
        compress=False,
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = wall.shell()
    wall_callbacks.register(app, rt, snapshots, build=build)
    # Dash collects its assets and scripts on the first request to "/" or "/_dash-*"; a server
    # whose first page is /duty or /screen would otherwise send a page without CSS and JS.
    app._setup_server()  # noqa: SLF001 - no public hook does this eagerly
    # Outermost, added last: it must run before Dash's own middleware sees a callback request.
    server.add_middleware(AccessMiddleware, rt=rt, config=replace(security, script_hashes=tuple(app.csp_hashes())))
    # Outside the gate: a trusted proxy's X-Forwarded-For/-Proto become the caller's address and scheme.
    server.add_middleware(TrustedProxies, trusted=rt.settings.trusted_proxies)
    return app


def __getattr__(name: str) -> object:
    """``app.server`` for ``uvicorn app:server``: built from the environment on first use only, so
    importing ``create_app`` builds nothing."""
    if name == "server":
        global server
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        server = create_app(Runtime(load_settings())).server
        return server
    raise AttributeError(name)


if __name__ == "__main__":
    settings = load_settings()
    uvicorn.run("app:server", host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=2,
                proxy_headers=False)  # forwarded headers: dashboard.access.proxies, trusted proxies only
