"""Cross-site request forgery: the tokens a session's forms and scripts must send back.

A signed-in session holds a random token: Dash's renderer copies the ``_csrf_token`` cookie into an
``X-CSRFToken`` header on every callback, forms carry it in a hidden ``csrf`` field. The sign-in
form, which has no session yet, uses a double-submit token (a cookie and a field that must match).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

CSRF_COOKIE = "_csrf_token"
"""Dash's renderer copies this cookie into an ``X-CSRFToken`` header on every callback request."""
CSRF_HEADERS = ("x-csrftoken", "x-csrf-token")
LOGIN_CSRF_COOKIE = "mc_login_csrf"
"""The sign-in form's double-submit token."""


def same_token(given: str | None, expected: str | None) -> bool:
    """Both present and equal, compared in constant time."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


def header_token(headers: Mapping[str, str]) -> str | None:
    """The CSRF token a request sends in a header (``headers`` keyed in lower case)."""
    return next((headers[name] for name in CSRF_HEADERS if name in headers), None)
