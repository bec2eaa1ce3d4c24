"""Strict-Transport-Security: sent over HTTPS only, so an intranet on plain HTTP keeps working."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dashboard.runtime import Runtime
from app import create_app


def test_hsts_is_sent_over_https_and_never_over_plain_http(runtime: Runtime, county: str) -> None:
    server = create_app(runtime).server
    plain = TestClient(server, base_url="http://cc.example")
    secure = TestClient(server, base_url="https://cc.example")
    for path in ("/login", "/api/status", "/open311/v2/services.json", "/"):
        assert "strict-transport-security" not in plain.get(path, follow_redirects=False).headers, path
        hsts = secure.get(path, follow_redirects=False).headers.get("strict-transport-security")
        assert hsts == "max-age=31536000", path
    assert plain.get("/login").status_code == 200
