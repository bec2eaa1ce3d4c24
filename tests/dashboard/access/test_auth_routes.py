"""Every route the server has, FastAPI's and Dash's, is either guarded by the role table in
``dashboard.access.auth`` or named below as public on purpose: a new route cannot go public by accident."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import pytest
from starlette.routing import Mount, WebSocketRoute

from dashboard.access.auth import RULES, rule_for
from dashboard.runtime import Runtime
from app import create_app

PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "signing in (checks its own CSRF cookie and rate limits)",
    ("GET", "/login.css"): "the sign-in page's stylesheet",
    ("POST", "/logout"): "signing out (ends only the session its own cookie names, with its CSRF token)",
    ("GET", "/api/status"): "health checks: version and reachability only, unless signed in",
    ("GET", "/api/openapi.json"): "the API's description, for integrators",
    ("GET", "/api/docs"): "the API's documentation page",
    ("GET", "/assets"): "static CSS, JavaScript and fonts",
    ("GET", "/_dash-component-suites/{package_name}/{fingerprinted_path:path}"): "Dash's static JavaScript",
    ("GET", "/_favicon.ico"): "the favicon",
    ("GET", "/open311/v2/discovery.json"): "Open311: public by the standard",
    ("GET", "/open311/v2/services.json"): "Open311: the list of services",
    ("GET", "/open311/v2/requests.json"): "Open311: public reads, masked and rounded (no personal data)",
    ("GET", "/open311/v2/requests/{service_request_id}.json"): "Open311: one public read, masked and rounded",
    ("POST", "/open311/v2/requests.json"): "Open311: a report, authenticated by its api_key inside the route",
    ("GET", "/open311/v2/services/{service_code}.json"): "Open311: a service definition",
    ("GET", "/open311/v2/discovery.xml"): "Open311 in XML (the spec's required format): discovery",
    ("GET", "/open311/v2/services.xml"): "Open311 in XML: the list of services",
    ("GET", "/open311/v2/services/{service_code}.xml"): "Open311 in XML: a service definition",
    ("GET", "/open311/v2/requests.xml"): "Open311 in XML: public reads, no free text without an api_key",
    ("GET", "/open311/v2/requests/{service_request_id}.xml"): "Open311 in XML: one public read",
    ("POST", "/open311/v2/requests.xml"): "Open311 in XML: a report, authenticated by its api_key inside the route",
    ("GET", "/open311/v2/{rest:path}"): "Open311: its 404 for anything else under the prefix",
}
"""(method, route path) → why nobody needs to sign in for it."""

FALLBACK_ROUTES = {
    ("GET", "/"): "the wall",
    ("GET", "{path:path}"): "Dash's pages (/screen, unknown paths) under the wall's roles",
    ("GET", "/docs/oauth2-redirect"): "FastAPI's Swagger OAuth helper, unused: wall roles are plenty",
}
"""Routes no rule names but the last one (the wall's roles, as a page); anything else reaching it is a slip."""


def _walk(routes: Iterable[object]) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, inside FastAPI's included routers too."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # FastAPI ≥ 0.160 keeps an included router as one lazy entry
            yield from _walk(candidates())
            yield from _walk(route.effective_low_priority_routes())  # type: ignore[attr-defined]
            continue
        original = getattr(route, "original_route", route)
        path = getattr(route, "path", None) or getattr(original, "path")
        if isinstance(original, Mount | WebSocketRoute) or type(original).__name__ == "APIWebSocketRoute":
            yield "GET", path
            continue
        for method in sorted(set(getattr(original, "methods", None) or {"GET"}) - {"HEAD"}):
            yield method, path


def _sample(path: str) -> str:
    """A concrete request path for a route path: every parameter becomes ``1`` (a path parameter ``1/x``)."""
    sample = re.sub(r"\{[^}:]+(:[^}]+)?\}", lambda m: "1/x" if m.group(1) else "1", path)
    return ("" if sample.startswith("/") else "/") + sample + ("/x.css" if path == "/assets" else "")


@pytest.fixture
def routes(runtime: Runtime) -> set[tuple[str, str]]:
    app = create_app(runtime)
    # Dash adds its catch-all page route when the server's lifespan starts; add it as that would.
    app.backend._setup_catchall()  # noqa: SLF001
    return set(_walk(app.server.routes)) | set(_walk(app.server.router._low_priority_routes))  # noqa: SLF001


def test_every_route_is_in_the_role_table_or_public_on_purpose(routes: set[tuple[str, str]]) -> None:
    assert len(routes) > 30, "the walk found the routes"
    slips = []
    for method, path in sorted(routes):
        rule = rule_for(method, _sample(path))
        if rule.kind == "public":
            if (method, path) not in PUBLIC_ROUTES:
                slips.append(f"{method} {path} is public but not in PUBLIC_ROUTES")
        elif not rule.roles:
            slips.append(f"{method} {path} is guarded by a rule that admits no role")
        elif rule is RULES[-1] and (method, path) not in FALLBACK_ROUTES:
            slips.append(f"{method} {path} falls through to the wall's catch-all rule")
    assert slips == []


def test_the_allow_lists_name_only_routes_that_exist(routes: set[tuple[str, str]]) -> None:
    assert set(PUBLIC_ROUTES) - routes == set()
    assert set(FALLBACK_ROUTES) - routes == set()
    assert all(rule_for(m, _sample(p)).kind == "public" for m, p in PUBLIC_ROUTES)
