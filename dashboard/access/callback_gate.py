"""Dash callbacks, checked before Dash runs them.

Every Dash screen shares one callback route, so the route table cannot tell a wall's callback from
a duty console's: the gate reads the request (bounded in size), refuses what is malformed or
belongs to a screen the role may not use, and binds a wall's addresses to its county.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import Message, Receive

from dashboard.access.auth import Principal, Role, callback_roles, output_ids
from dashboard.access.county_binding import (
    CONSOLE_CALLBACKS,
    COUNTY_REFUSED,
    Binding,
    asks_for_console,
    bind_callback,
    binding_for,
    serves_console,
)
from dashboard.access.refusals import error_json

CALLBACK_PATH = "/_dash-update-component"
MAX_CALLBACK_BYTES = 1024 * 1024
"""A callback request carries a few component values; the gate reads the body, so it bounds it."""


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """A request's body, read once; ``None`` when it grows past ``limit`` bytes."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands on ``body`` once, then whatever the client sends next (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def callback_shape(body: bytes) -> dict[str, object] | None:
    """A callback request as Dash's renderer sends it: an object with an ``output`` string and
    lists of ``inputs`` (and ``state``) whose entries are objects, or lists of them for
    pattern-matching ids; ``None`` for anything else, which Dash would answer with a 500."""
    try:
        request = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(request, dict) or not isinstance(request.get("output"), str):
        return None
    for key in ("inputs", "state"):
        entries = request.get(key, [])
        if not isinstance(entries, list) or not all(
                isinstance(e, dict) or (isinstance(e, list) and all(isinstance(i, dict) for i in e)) for e in entries):
            return None
    return request


def gate_callback(body: bytes, principal: Principal, deployment_county: str | None = None,
                  served: Sequence[str] = ()) -> Response | bytes:
    """The callback request to hand to Dash, or the refusal: a malformed request (400), outputs
    that belong to a screen this role may not use (``auth.CALLBACK_SCOPES``) or, for a principal
    held to an area (``county_binding.binding_for``; ``served``: the deployment's counties, which
    give a city or province without the deployment's county its home county), an address naming
    a county outside it (a wall: 403; a person: 404, as every route answers what lies outside
    their area) or an area code outside it (404)."""
    request = callback_shape(body)
    if request is None:
        return error_json(400, "malformed", "not a Dash callback request", "body")
    allowed = callback_roles(str(request["output"]))
    if allowed is not None and principal.role not in allowed:
        return error_json(403, "forbidden", f"the role {principal.role.value} may not run this callback", "output")
    if principal.role != Role.screen and not serves_console(principal, deployment_county) and (any(
            component.startswith(CONSOLE_CALLBACKS) for component in output_ids(str(request["output"])))
            or asks_for_console(request)):
        return outside_area(principal)
    binding = binding_for(principal, deployment_county, served)
    if binding is None:
        return body
    if not isinstance(binding, Binding):
        return outside_area(principal)
    refusals: list[str] = []

    def refuses(query: str) -> bool:
        refusal = binding.refusal(query)
        if refusal is not None:
            refusals.append(refusal)
        return refusal is not None

    changed = bind_callback(request, binding.county_for, refuses)
    if changed is None:
        return error_json(403, "forbidden", f"this screen is bound to area {principal.area}", "county") \
            if binding.screen and COUNTY_REFUSED in refusals else outside_area(principal)
    return json.dumps(request, ensure_ascii=False).encode() if changed else body


def outside_area(principal: Principal) -> Response:
    """The answer to a person asking for anything outside their area: not found, as if it were not there."""
    return error_json(404, "not_found", f"nothing of that area is within {principal.area}", "county")
