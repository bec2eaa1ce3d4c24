"""The duty console's warnings list: refreshed on the console's tick, acknowledged with a button.

Thin glue: ``dashboard.warnings.service.acknowledge`` records who and when, audited, once; the
list is redrawn after an action and, on a tick, only when what it shows changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from callbacks.access import acting
from dashboard.access.auth import DUTY
from dashboard.domain.warning_view import WarningView
from dashboard.runtime import Runtime
from dashboard.warnings import service
from layouts import duty, wall
from layouts.warnings_panel import ACK_BUTTON, DUTY_BOX, duty_warnings

BOX = DUTY_BOX


def signature(warnings: list[WarningView], lang: str) -> str:
    text = "|".join(f"{w.id}:{w.reason(lang)}:{w.acknowledged_by}" for w in warnings)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def box(rt: Runtime, lang: str) -> list[object]:
    """The list as the console first shows it."""
    warnings = service.current(rt)
    return [duty_warnings(warnings, lang)]


def register(app: Dash, rt: Runtime, params_of: Callable[[str | None, str], dict[str, str]]) -> None:
    @app.callback(Output(BOX, "children"), Output(BOX, "data-signature"),
                  Input(duty.TICK, "n_intervals"), Input({"type": ACK_BUTTON, "id": ALL}, "n_clicks"),
                  State(wall.URL, "search"), State(BOX, "data-signature"), prevent_initial_call=True)
    def refresh(_tick: int, _clicks: list[int], search: str | None, shown: str | None) -> tuple[object, object]:
        who = acting(DUTY)
        lang = params_of(search, rt.settings.language)["lang"]
        trigger = ctx.triggered_id
        clicked = bool(ctx.triggered and ctx.triggered[0].get("value"))
        if isinstance(trigger, dict) and trigger.get("type") == ACK_BUTTON and clicked:
            try:
                service.acknowledge(rt, int(trigger["id"]), who=who)
            except (service.WarningNotFound, ValueError, TypeError):
                pass  # cleared or not ours meanwhile: the redrawn list shows what is there now
        warnings = service.current(rt)
        sig = signature(warnings, lang)
        if sig == shown:
            return no_update, no_update
        return [duty_warnings(warnings, lang)], sig
