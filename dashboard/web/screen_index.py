"""The page Dash sends first, per screen: the wall's leaves out what only the other screens use.

Dash puts every registered library and every asset file on every page. The wall (``/`` and
``/screen``) is built from html and dash-leaflet components alone (``layouts.wall.shell`` holds no
``dcc`` component), so on the wall these would be loaded for nothing on every first load: dcc
(101 KB brotli), dash_table (9 KB), the Babel polyfill bundle (32 KB; walls run a current
Chromium) and the tablet's and duty console's own files. Every other path gets everything.
The fallback font's style sheet (18 KB) stays on the wall's page only as an inert ``<template>``:
``assets/font_fallback.js`` adds it once a character outside the wall's font subset shows up.
"""

from __future__ import annotations

import re
from typing import Any

from dash import Dash
from dash.backends._fastapi import get_current_request

WALL_PATHS = frozenset({"/", "/screen"})
NOT_ON_WALL = (
    "/_dash-component-suites/dash/dcc/",
    "/_dash-component-suites/dash/dash_table/",
    "/_dash-component-suites/dash/deps/polyfill@",
    "/assets/duty.",
    "/assets/tablet.",
)
ON_DEMAND = ("/assets/fonts/noto-sans-sc.css",)
FALLBACK_TEMPLATE = "font-fallback"
_TAG = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"[^>]*>(?:</script>)?")


def request_path() -> str | None:
    """The path of the page being served; ``None`` outside a request (Dash renders an index then too)."""
    try:
        return get_current_request().url.path
    except RuntimeError:
        return None


def is_wall(path: str | None) -> bool:
    return path is not None and (path.rstrip("/") or "/") in WALL_PATHS


def _matches(line: str, prefixes: tuple[str, ...]) -> bool:
    found = _TAG.search(line)
    return bool(found and found.group(1).startswith(prefixes))


def without(tags: str, prefixes: tuple[str, ...]) -> str:
    """``tags`` (one script or link tag a line, as Dash writes them) minus those whose URL starts
    with one of ``prefixes``."""
    return "\n".join(line for line in tags.splitlines() if not _matches(line, prefixes))


def deferred(tags: str, prefixes: tuple[str, ...]) -> str:
    """``tags`` with those whose URL starts with one of ``prefixes`` moved into one ``<template>``,
    which a browser parses but neither fetches nor applies until a script adds its content."""
    lines = tags.splitlines()
    held = [line for line in lines if _matches(line, prefixes)]
    if not held:
        return tags
    kept = [line for line in lines if not _matches(line, prefixes)]
    return "\n".join([*kept, f'<template id="{FALLBACK_TEMPLATE}">{"".join(held)}</template>'])


class ScreenDash(Dash):
    """Dash whose index is cut to the screen it is served for."""

    def interpolate_index(self, **kwargs: Any) -> str:  # type: ignore[override]
        if is_wall(request_path()):
            prefix = self.config.requests_pathname_prefix.rstrip("/")
            prefixed = tuple(prefix + p for p in NOT_ON_WALL)
            kwargs["scripts"] = without(kwargs.get("scripts", ""), prefixed)
            kwargs["css"] = deferred(without(kwargs.get("css", ""), prefixed), tuple(prefix + p for p in ON_DEMAND))
        result: str = super().interpolate_index(**kwargs)
        return result
