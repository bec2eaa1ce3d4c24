"""How the access layer says no, in the language of whoever asked.

The API's JSON shape ``{"errors": [{code, field, message}]}``, Open311's list
``[{code, description}]`` (or, on an ``.xml`` route, its ``<errors><error>`` document), and an
HTML page for browsers. The routers in ``dashboard.api`` answer
in the same shapes; they import these answers from here, never the other way round, because the
gate in front of every route runs before any router.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.responses import HTMLResponse, JSONResponse, Response

from dashboard.access.pages import render

RETRY_AFTER_SECONDS = 5
"""How long a caller waits before it retries a request the database could not serve."""

DATABASE_AWAY = (OperationalError, InterfaceError, PoolTimeoutError)
"""What SQLAlchemy raises when the database cannot be reached (refused, dropped, pool exhausted)."""


def error_item(code: str, message: str, field_name: str | None = None) -> dict[str, object]:
    """One refusal in the API's error body: ``{code, field, message}``."""
    return {"code": code, "field": field_name, "message": message}


def errors_json(status: int, items: Sequence[Mapping[str, object]],
                headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The API's error body ``{"errors": [{code, field, message}, …]}`` with one item or several
    (pydantic names every invalid field at once); its schema is ``dashboard.api.schemas.ErrorBody``.
    Every ``{"errors": …}`` answer is built here."""
    return JSONResponse({"errors": [dict(item) for item in items]}, status_code=status, headers=headers)


def error_json(status: int, code: str, message: str, field_name: str | None = None,
               headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The API's error body with a single refusal."""
    return errors_json(status, [error_item(code, message, field_name)], headers=headers)


def open311_errors_xml(status: int, description: str) -> bytes:
    """GeoReport v2's XML error document: ``<errors><error><code/><description/></error></errors>``."""
    root = ET.Element("errors")
    error = ET.SubElement(root, "error")
    ET.SubElement(error, "code").text = str(status)
    ET.SubElement(error, "description").text = description
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def open311_error(status: int, message: str, headers: Mapping[str, str] | None = None, *,
                  path: str = "") -> Response:
    """Open311's error shape in the format the route speaks (``path`` ending ``.xml``: XML, the
    spec's required format; else the JSON list of ``{code, description}``): an Open311 client never
    sees ours."""
    if path.endswith(".xml"):
        return Response(open311_errors_xml(status, message), status_code=status, headers=dict(headers or {}),
                        media_type="text/xml; charset=utf-8")
    return JSONResponse([{"code": status, "description": message}], status_code=status, headers=headers)


def unavailable(message: str = f"the database is unavailable; nothing was written, retry in {RETRY_AFTER_SECONDS} s",
                ) -> JSONResponse:
    """503 in the API's error format, with the ``Retry-After`` a well-behaved client waits for.

    A stopped database is the caller's cue to retry, not a server bug; nothing partial is written,
    because every write is one transaction."""
    return error_json(503, "database_unavailable", message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def forbidden_page(message: str, status: int = 403) -> HTMLResponse:
    """A browser's refusal: the status, the reason (escaped) and a link to sign in."""
    return HTMLResponse(render("forbidden.html", status=status, message=message), status_code=status)
