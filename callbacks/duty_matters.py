"""The duty console's matter box: merge, dismiss and their undoing, and a quiet refresh.

Thin glue: the officer picks a candidate and presses a button (``layouts.duty_matters``);
``dashboard.cases.matters`` does it, audited, in one transaction. The list and the picker are
redrawn after an action and, on the console's tick, only when what they show changed (a
signature of the list), so an officer's choice is not wiped while nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from dash import Dash, Input, Output, State, ctx, no_update
from plotly.utils import PlotlyJSONEncoder

from callbacks.access import acting
from dashboard.access.auth import DUTY
from dashboard.cases import matters
from dashboard.cases.matters import MatterActionError
from dashboard.cases.personal_data import Actor
from dashboard.domain.labels import label
from dashboard.domain.matter_view import MatterPanel
from dashboard.runtime import Runtime
from layouts import duty, duty_matters, wall


def _panel(rt: Runtime, params: dict[str, str]) -> MatterPanel | None:
    return matters.panel(rt, int(params["case"])) if "case" in params else None


def _links(panel: MatterPanel | None, params: dict[str, str]) -> dict[int, str]:
    if panel is None:
        return {}
    base = {k: v for k, v in params.items() if k != "case"}
    ids = [panel.case_id, *(m.case_id for m in panel.members), *(c.case.case_id for c in panel.candidates)]
    return {i: duty.href(base, case=str(i)) for i in ids}


def box(rt: Runtime, params: dict[str, str]) -> object:
    """The whole box for the case the URL picks, as the console page first draws it."""
    panel = _panel(rt, params)
    return duty_matters.matters_box(panel, params["lang"], link=_links(panel, params))


def signature(children: object) -> str:
    return hashlib.blake2b(json.dumps(children, cls=PlotlyJSONEncoder).encode(), digest_size=12).hexdigest()


def run(rt: Runtime, op: str, case_id: int, other: int | None, *, who: Actor, lang: str) -> str:
    """Do one operation on the chosen case (and the picked candidate); the message the officer sees."""
    try:
        if op == "unmerge":
            return label("matter.done.unmerge", lang).format(id=matters.unmerge(rt, case_id, who=who))
        if other is None:
            return "⚠ " + label("matter.err", lang).format(detail=label("matter.pick", lang))
        if op == "merge":
            return label("matter.done.merge", lang).format(id=matters.merge(rt, case_id, other, who=who))
        if op == "dismiss":
            matters.dismiss(rt, case_id, other, who=who)
            return label("matter.done.dismiss", lang).format(other=other)
        if op == "undismiss":
            matters.undismiss(rt, case_id, other, who=who)
            return label("matter.done.undismiss", lang).format(other=other)
    except MatterActionError as error:
        return "⚠ " + label("matter.err", lang).format(detail=label(f"matter.err.{error.code}", lang))
    return ""


def register(app: Dash, rt: Runtime, read_params: Callable[[str | None, str], dict[str, str]]) -> None:
    """``read_params`` is the console's one URL reader (``callbacks.duty.duty_params``)."""

    @app.callback(
        Output(duty_matters.MATTERS, "children"), Output(duty_matters.PICK, "options"),
        Output(duty_matters.MESSAGE, "children"),
        *(Input(button, "n_clicks") for button in duty_matters.BUTTONS), Input(duty.TICK, "n_intervals"),
        State(wall.URL, "search"), State(duty_matters.PICK, "value"), State(duty_matters.MATTERS, "children"),
        prevent_initial_call=True,
    )
    def act(*values: object) -> tuple[object, object, object]:
        search, picked, shown = values[-3:]
        who = acting(DUTY)
        params = read_params(search if isinstance(search, str) else None, rt.settings.language)
        trigger = ctx.triggered_id
        clicked = bool(ctx.triggered and ctx.triggered[0].get("value"))
        message: object = no_update
        if trigger in duty_matters.BUTTONS and clicked and "case" in params:
            other = picked if isinstance(picked, int) and not isinstance(picked, bool) else None
            message = run(rt, duty_matters.BUTTONS[str(trigger)], int(params["case"]), other, who=who,
                          lang=params["lang"])
        panel = _panel(rt, params)
        children = duty_matters.matters_panel(panel, params["lang"], link=_links(panel, params))
        if message is no_update and signature(children) == signature(shown or []):
            return no_update, no_update, no_update
        return children, duty_matters.pick_options(panel), message
