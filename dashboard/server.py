"""Build the whole application: FastAPI (API routes first) with the Dash screens on top."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dash import Dash
from fastapi import FastAPI

from callbacks import wall as wall_callbacks
from dashboard import __version__
from dashboard.runtime import Runtime
from dashboard.scheduler import SchedulerThread
from dashboard.settings import PROJECT_ROOT
from dashboard.wall_service import SnapshotCache
from dashboard.web_geometry import GeometryCache
from dashboard.api import build_api
from dashboard.ingest_api import build_ingest_api, install_error_handlers
from dashboard.open311 import build_open311_api
from layouts import wall

log = logging.getLogger(__name__)


def _lifespan(rt: Runtime):  # type: ignore[no-untyped-def]
    """Background work that lives as long as the server: the deadline scheduler."""

    @asynccontextmanager
    async def lifespan(_server: FastAPI) -> AsyncIterator[None]:
        scheduler = SchedulerThread(rt) if rt.settings.scheduler else None
        if scheduler:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler:
                scheduler.stop()

    return lifespan


def create_app(rt: Runtime) -> Dash:
    """The Dash app on the FastAPI backend; ``app.server`` is the ASGI application."""
    server = FastAPI(title="County dispute-resolution command centre", version=__version__,
                     openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None, lifespan=_lifespan(rt))
    install_error_handlers(server)
    server.include_router(build_api(rt, GeometryCache(rt)))
    server.include_router(build_ingest_api(rt))
    server.include_router(build_open311_api(rt))
    app = Dash(
        __name__,
        server=server,
        backend="fastapi",
        title="矛盾纠纷调处化解指挥中心",
        assets_folder=str(PROJECT_ROOT / "assets"),
        serve_locally=True,
        compress=True,
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = wall.shell()
    wall_callbacks.register(app, rt, SnapshotCache(rt))
    return app
