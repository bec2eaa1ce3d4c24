"""Who may use a screen's callbacks. The access middleware lets every wall role reach Dash's
routes, so the tablet's and the duty console's callbacks check their own audience here."""

from __future__ import annotations

from dash.backends._fastapi import get_current_request
from dash.exceptions import PreventUpdate

from dashboard.access.auth import Role, current_user
from dashboard.cases.personal_data import Actor


def allowed(roles: frozenset[Role]) -> bool:
    user = current_user()
    return user is not None and user.role in roles


def acting(roles: frozenset[Role]) -> Actor:
    """The signed-in user with the request's address, for events and the audit log; anyone
    else stops the callback without an answer."""
    user = current_user()
    if user is None or user.role not in roles:
        raise PreventUpdate
    try:
        request = get_current_request()
        ip = request.client.host if request.client else None
    except RuntimeError:  # a websocket callback carries no HTTP request
        ip = None
    return Actor(user.name, user.role.value, ip)
