"""The Open311 router served as the app serves it, for the Open311 tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dashboard.api.errors import install_error_handlers
from dashboard.api.ingest import build_ingest_api
from dashboard.api.open311 import build_open311_api
from dashboard.runtime import Runtime
from tests.dashboard.auth_support import new_source_token


def open311_client(runtime: Runtime, clock: Callable[[], datetime] | None = None) -> TestClient:
    """The app's error handlers with the ingest API beside the Open311 router (``clock``: the
    router's own, for retries across a minute)."""
    server = FastAPI()
    install_error_handlers(server)
    server.include_router(build_ingest_api(runtime))
    server.include_router(build_open311_api(runtime, clock) if clock else build_open311_api(runtime))
    return TestClient(server)


def app_token(runtime: Runtime) -> str:
    """A citizen app's Open311 ``api_key`` (a source token of source ``online``)."""
    return new_source_token(runtime, "市民APP", "online")
