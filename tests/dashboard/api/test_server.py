"""The assembled server: what its lifespan does for the process it runs in."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from dashboard.runtime import Runtime
from app import create_app


def test_the_built_app_is_kept_out_of_the_cycle_collectors_sight_while_it_serves(runtime: Runtime, county: str) -> None:
    """Full collections walked every object of the app with the event loop stopped (70–190 ms)."""
    gc.unfreeze()
    app = create_app(runtime)
    try:
        with TestClient(app.server) as client:
            assert client.get("/api/status").status_code == 200
            assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()
