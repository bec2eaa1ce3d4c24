"""Security headers sent with every response: the Content-Security-Policy and its companions."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlparse

HSTS = b"max-age=31536000"
"""A year, without includeSubDomains: other intranet hosts under the same domain may still speak plain HTTP."""


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL, for the CSP (tile servers)."""
    if not url:
        return None
    parsed = urlparse(url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
    return f"{parsed.scheme}://{parsed.netloc}" if parsed.scheme and parsed.netloc else None


def content_security_policy(path: str, *, img_sources: Iterable[str] = (), script_hashes: Iterable[str] = ()) -> str:
    """Scripts only from us (Dash's one inline bootstrap script by hash); no framing, no plugins."""
    if path.startswith("/api/docs"):  # FastAPI's Swagger page loads its bundle from a CDN
        cdn = "https://cdn.jsdelivr.net"
        return (f"default-src 'self'; script-src 'self' 'unsafe-inline' {cdn}; style-src 'self' 'unsafe-inline' {cdn}; "
                "img-src 'self' data: https://fastapi.tiangolo.com; frame-ancestors 'none'; object-src 'none'")
    scripts = " ".join(("'self'", *script_hashes))
    images = " ".join(("'self'", "data:", "blob:", *img_sources))
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; img-src {images}; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")


def security_headers(path: str, *, https: bool = False, img_sources: Iterable[str] = (),
                     script_hashes: Iterable[str] = ()) -> list[tuple[bytes, bytes]]:
    """Headers for every response; HSTS only over HTTPS, since a browser ignores it on plain HTTP
    and an intranet that serves plain HTTP must keep working. ``https`` is the caller's original
    scheme: behind a trusted proxy, its ``X-Forwarded-Proto`` (``dashboard.access.proxies``)."""
    csp = content_security_policy(path, img_sources=img_sources, script_hashes=script_hashes)
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS))
    return headers
