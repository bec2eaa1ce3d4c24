"""The duty console: one callback refreshes the queue and runs the officer's actions."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, ctx, no_update
from plotly.utils import PlotlyJSONEncoder

from callbacks.access import acting
from callbacks import duty_matters, warnings
from dashboard.access.auth import DUTY
from dashboard.cases import duty_service
from dashboard.cases.duty_service import DutyActionError
from dashboard.cases.personal_data import Actor
from dashboard.domain.duty_console import QUEUE_FILTERS, CaseDetail
from dashboard.domain.labels import label
from dashboard.runtime import Runtime
from dashboard.screens.wall_service import county_view
from layouts import duty, wall

REFRESH_MS = 5_000


def duty_params(search: str | None, default_lang: str) -> dict[str, str]:
    query = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items()}
    params = {"lang": query["lang"] if query.get("lang") in ("zh", "en") else default_lang}
    if query.get("queue") in QUEUE_FILTERS:
        params["queue"] = query["queue"]
    if query.get("case", "").isdigit():
        params["case"] = query["case"]
    return params


def _queue(rt: Runtime, params: dict[str, str], now: datetime) -> tuple[list[object], list[int]]:
    found = duty_service.queue(rt, params.get("queue", "all"))
    return duty.queue_panel(found.rows, found.total, params, params["lang"], now), found.red_ids


def queue_signature(queue: list[object]) -> str:
    return hashlib.blake2b(json.dumps(queue, cls=PlotlyJSONEncoder).encode(), digest_size=12).hexdigest()


def queue_update(queue: list[object], shown_signature: str | None) -> tuple[object, str | object]:
    """The queue and its signature, or ``no_update`` twice when the browser already shows this queue.

    Dash's renderer remounts every component it receives; 200 queue rows every 5 s kept a duty
    officer's browser busy the whole time, so an unchanged queue is not resent.
    """
    signature = queue_signature(queue)
    return (no_update, no_update) if signature == shown_signature else (queue, signature)


def _detail(rt: Runtime, params: dict[str, str]) -> CaseDetail | None:
    return duty_service.case_detail(rt, int(params["case"])) if "case" in params else None


def _notes(rt: Runtime, lang: str) -> list[object]:
    return duty.notes_panel(duty_service.handover_notes(rt), lang)


def duty_page(rt: Runtime, search: str | None, *, officer: str) -> list[object]:
    params = duty_params(search, rt.settings.language)
    now = rt.clock()
    _, county_name, _ = county_view(rt, None)
    queue, red = _queue(rt, params, now)
    detail = _detail(rt, params)
    return duty.console(title=f"{county_name} · {label('duty.title', params['lang'])}", officer=officer,
                        params=params, queue=queue, detail=detail, assignees=duty_service.assignees(rt, detail), now=now,
                        notes=_notes(rt, params["lang"]), red_ids=red, refresh_ms=REFRESH_MS,
                        queue_signature=queue_signature(queue), matters=duty_matters.box(rt, params),
                        warnings=warnings.box(rt, params["lang"]))


def run_action(rt: Runtime, trigger: str | None, params: dict[str, str], *, who: Actor, assign_to: str | None,
               supervise_note: str | None, handover_text: str | None) -> tuple[str, bool]:
    """Do what the officer clicked; returns (message, whether the handover box should clear)."""
    lang = params["lang"]
    case_id = int(params["case"]) if "case" in params else None
    try:
        if trigger == duty.HANDOVER_SAVE:
            duty_service.add_handover_note(rt, who=who, text=handover_text or "")
            return label("duty.done.note", lang), True
        if case_id is None:
            return "", False
        if trigger == duty.ACK:
            duty_service.acknowledge(rt, case_id, who=who)
            return label("duty.done.ack", lang).format(id=case_id), False
        if trigger == duty.ASSIGN:
            if not assign_to:
                raise DutyActionError("pick_assignee")
            center, _, department = assign_to.partition(":")
            if not center.isdigit() or not (department.isdigit() or not department):
                raise DutyActionError("pick_assignee")
            duty_service.assign(rt, case_id, who=who, center_id=int(center),
                                department_id=int(department) if department else None)
            return label("duty.done.assign", lang).format(id=case_id), False
        if trigger == duty.SUPERVISE:
            duty_service.supervise(rt, case_id, who=who, note=supervise_note or "")
            return label("duty.done.supervise", lang).format(id=case_id), False
    except DutyActionError as error:
        return "⚠ " + label(f"duty.err.{error.code}", lang).format(detail=error.detail), False
    return "", False


def register(app: Dash, rt: Runtime) -> None:
    """Every callback acts as the signed-in duty officer or admin and refuses anyone else."""
    duty_matters.register(app, rt, duty_params)
    warnings.register(app, rt, duty_params)

    @app.callback(
        Output(duty.QUEUE, "children"), Output(duty.QUEUE, "data-signature"), Output(duty.SUMMARY, "children"), Output(duty.TIMELINE, "children"),
        Output(duty.NOTES, "children"), Output(duty.MESSAGE, "children"), Output(duty.RED, "data-ids"),
        Output(duty.HANDOVER_TEXT, "value"), Output(duty.SUPERVISE_NOTE, "value"), Output(duty.ACK, "disabled"),
        Input(duty.TICK, "n_intervals"), Input(duty.ACK, "n_clicks"), Input(duty.ASSIGN, "n_clicks"),
        Input(duty.SUPERVISE, "n_clicks"), Input(duty.HANDOVER_SAVE, "n_clicks"),
        State(wall.URL, "search"), State(duty.ASSIGN_TO, "value"), State(duty.SUPERVISE_NOTE, "value"),
        State(duty.HANDOVER_TEXT, "value"), State(duty.QUEUE, "data-signature"),
        prevent_initial_call=True,
    )
    def update(_tick: int, ack: int, assign: int, supervise: int, save: int, search: str | None,
               assign_to: str | None, supervise_note: str | None, handover_text: str | None,
               shown_queue: str | None) -> tuple[object, ...]:
        who = acting(DUTY)
        params = duty_params(search, rt.settings.language)
        trigger = ctx.triggered_id if ctx.triggered and ctx.triggered[0].get("value") else None
        message, clear_note = ("", False)
        if trigger in (duty.ACK, duty.ASSIGN, duty.SUPERVISE, duty.HANDOVER_SAVE):
            message, clear_note = run_action(rt, trigger, params, who=who, assign_to=assign_to,
                                             supervise_note=supervise_note, handover_text=handover_text)
        now = rt.clock()
        lang = params["lang"]
        queue, red = _queue(rt, params, now)
        acted = trigger in (duty.ACK, duty.ASSIGN, duty.SUPERVISE) and not message.startswith("⚠")
        detail = _detail(rt, params)
        ack_disabled = detail is None or detail.resolved_at is not None or detail.acknowledged_at is not None
        return (*queue_update(queue, shown_queue), duty.case_summary(detail, lang, now), duty.case_timeline(detail, lang), _notes(rt, lang),
                message if trigger else no_update, ",".join(map(str, red)), "" if clear_note else no_update,
                "" if trigger == duty.SUPERVISE and acted else no_update, ack_disabled)

    @app.callback(Output(duty.REVEALED, "children"), Input(duty.REVEAL, "n_clicks"), State(wall.URL, "search"),
                  prevent_initial_call=True)
    def reveal(clicks: int, search: str | None) -> object:
        """An explicit, audited act: the unmasked data shows only in this officer's browser."""
        who = acting(DUTY)
        params = duty_params(search, rt.settings.language)
        if not clicks or "case" not in params:
            return no_update
        try:
            details = duty_service.reveal(rt, int(params["case"]), who=who)
        except DutyActionError as error:
            return "⚠ " + label(f"duty.err.{error.code}", params["lang"]).format(detail=error.detail)
        return duty.revealed(details, params["lang"])
