"""What the gate reads of a request (:class:`Incoming`) and what it decides (:class:`Verdict`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.responses import Response
from starlette.types import Scope

from dashboard.access.auth import Principal, SessionData
from data_access.models import ApiClient


@dataclass
class Incoming:
    """A request's method, address, headers (keys in lower case), cookies and origin."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    cookies: dict[str, str]
    ip: str
    https: bool
    websocket: bool

    @classmethod
    def of(cls, scope: Scope) -> Incoming:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is treated as no cookies
            jar = SimpleCookie()
        query_string = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client")
        return cls(method=scope.get("method", "GET").upper(), path=scope.get("path", "/"),
                   query=dict(parse_qsl(query_string, keep_blank_values=True)), query_string=query_string,
                   headers=headers, cookies={k: m.value for k, m in jar.items()},
                   ip=client[0] if client else "", https=scope.get("scheme") in ("https", "wss"),
                   websocket=scope["type"] == "websocket")

    def bearer(self) -> str | None:
        """The Bearer token sent (``""`` for another kind of ``Authorization``), ``None`` without one."""
        value = self.headers.get("authorization")
        if value is None:
            return None
        return value.removeprefix("Bearer ").strip() if value.startswith("Bearer ") else ""

    def path_with_query(self, *, without: Iterable[str] = ()) -> str:
        kept = [(k, v) for k, v in parse_qsl(self.query_string, keep_blank_values=True) if k not in set(without)]
        return self.path + ("?" + urlencode(kept) if kept else "")


@dataclass
class Verdict:
    """The gate's decision: a principal to serve, or a response instead; cookies to set either way."""

    principal: Principal | None = None
    session: SessionData | None = None
    response: Response | None = None
    cookies: list[tuple[bytes, bytes]] = field(default_factory=list)
    """``Set-Cookie`` headers (``dashboard.access.cookies.cookie_headers``) for whatever response is sent."""
    api_client: ApiClient | None = None
    """The source system a Bearer token named, handed to the API as ``request.state.api_client``
    so the token is looked up once per request."""
