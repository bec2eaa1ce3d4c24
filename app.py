"""Entry point: ``uvicorn app:server`` (or ``python app.py``) serves the command centre."""

from __future__ import annotations

import logging

import uvicorn

from dashboard.runtime import Runtime
from dashboard.server import create_app
from dashboard.settings import load_settings

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

runtime = Runtime(load_settings())
app = create_app(runtime)
server = app.server

if __name__ == "__main__":
    uvicorn.run("app:server", host=runtime.settings.host, port=runtime.settings.port, log_level="info",
                timeout_graceful_shutdown=2)
