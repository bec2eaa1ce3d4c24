"""The duty officer's console: the alert queue (level, then longest waiting), the chosen case with
its actions and timeline, and the shift handover notes.

The chosen case and the queue filter live in the URL (``/duty?case=…&queue=…``); a new red alert
flashes the header and sounds a tone (``assets/duty.js`` watches the ids in ``RED``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from dash import dcc, html

from dashboard.domain.duty_console import QUEUE_FILTERS, Assignee, CaseDetail, HandoverNote, QueueRow
from dashboard.domain.labels import label, reason_text, reasons_text
from dashboard.domain.masking import PartyDetails
from dashboard.domain.periods import LOCAL_TZ
from layouts import duty_matters
from layouts import warnings_panel

QUEUE = "duty-queue"
SUMMARY = "duty-summary"
TIMELINE = "duty-timeline-box"
NOTES = "duty-notes"
MESSAGE = "duty-message"
RED = "duty-red"
TICK = "duty-tick"
ACK = "duty-ack"
ASSIGN = "duty-assign"
ASSIGN_TO = "duty-assign-to"
SUPERVISE = "duty-supervise"
SUPERVISE_NOTE = "duty-supervise-note"
HANDOVER_TEXT = "duty-handover-text"
HANDOVER_SAVE = "duty-handover-save"
SOUND = "duty-sound"
REVEAL = "duty-reveal"
REVEALED = "duty-revealed"


def href(params: dict[str, str], **changes: str | None) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    return "/duty?" + urlencode(merged)


def _local(moment: datetime, fmt: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(LOCAL_TZ).strftime(fmt)


def waited(since: datetime, now: datetime, lang: str) -> str:
    """How long a case has waited, in the largest two units."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return label("duty.waited_dh", lang).format(d=days, h=hours)
    return label("duty.waited_hm", lang).format(h=hours, m=mins)


def queue_row(row: QueueRow, params: dict[str, str], lang: str, now: datetime, *, selected: bool) -> dcc.Link:
    reasons = reasons_text(row.reasons.split(","), lang)
    flags = []
    if row.supervised:
        flags.append(html.Span(label("action.supervise", lang), className="flag flag-supervised"))
    flags.append(html.Span(label("duty.acked", lang) if row.acknowledged_at else label("duty.unacked", lang),
                           className="flag " + ("flag-acked" if row.acknowledged_at else "flag-new")))
    late = row.due_at < now
    return dcc.Link(href=href(params, case=str(row.id)), id=f"queue-{row.id}",
                    className="queue-row" + (" queue-selected" if selected else "") + f" queue-{row.level}", children=[
        html.Span(label(f"level.{row.level}", lang), className=f"chip chip-{row.level}"),
        html.Div(className="queue-main", children=[
            html.Div([html.B(f"#{row.id} "), f"{row.township} · {row.village}"], className="queue-place"),
            html.Div(f"{label(f'category.{row.category}', lang)} · {label('duty.people_n', lang).format(people=row.people_involved)}"
                     f"{' · ' + reasons if reasons else ''}", className="queue-what"),
        ]),
        html.Div(className="queue-side", children=[
            html.Span(waited(row.received_at, now, lang), className="queue-age" + (" queue-late" if late else "")),
            html.Span(flags, className="queue-flags"),
        ]),
    ])


def queue_panel(rows: list[QueueRow], total: int, params: dict[str, str], lang: str, now: datetime) -> list[object]:
    """The head of the queue; ``total`` is the whole queue's length, said when only part is shown."""
    current = params.get("queue", "all")
    filters = html.Div([dcc.Link(label(f"duty.queue.{name}", lang), href=href(params, queue=name), id=f"queue-filter-{name}",
                                 className="seg" + (" seg-on" if name == current else "")) for name in QUEUE_FILTERS],
                       className="queue-filters")
    selected = params.get("case")
    body = [queue_row(r, params, lang, now, selected=str(r.id) == selected) for r in rows] or [
        html.Div(label("duty.queue_empty", lang), className="empty")]
    return [filters, html.Div(label("duty.queue_count" if total <= len(rows) else "duty.queue_head", lang).format(
        n=total, shown=len(rows)), className="queue-count"),
            html.Div(body, className="queue-list")]


def fact(name: str, value: object, lang: str) -> html.Div:
    return html.Div([html.Dt(label(name, lang)), html.Dd(value)], className="fact")


def case_summary(detail: CaseDetail | None, lang: str, now: datetime) -> list[object]:
    """Level, reasons and facts of the chosen case (refreshed with the queue)."""
    if detail is None:
        return [html.Div(label("duty.pick_case", lang), className="empty")]
    level = detail.level or "none"
    closed = detail.resolved_at is not None
    reasons = [html.Li(reason_text(r, lang)) for r in detail.reasons]
    acked = (label("duty.acked_by", lang).format(who=detail.acknowledged_by, at=_local(detail.acknowledged_at))
             if detail.acknowledged_at and detail.acknowledged_by else label("duty.unacked", lang))
    return [
        html.Div(className="detail-head", children=[
            html.Span(label(f"level.{level}", lang) if detail.level else label("status.resolved", lang),
                      className=f"chip chip-{level}"),
            html.H2(f"#{detail.case_id}"),
            html.Span(label("action.supervise", lang), className="flag flag-supervised") if detail.supervised else None,
            html.Span(acked, className="flag " + ("flag-acked" if detail.acknowledged_at else "flag-new")),
        ]),
        html.Ul(reasons, className="reasons") if reasons else None,
        html.Dl(className="facts", children=[
            fact("col.status", label(f"status.{detail.status}", lang), lang),
            fact("duty.tier", label(f"tier.{detail.tier}", lang), lang),
            fact("col.category", label(f"category.{detail.category}", lang), lang),
            fact("col.source", label(f"source.{detail.source}", lang), lang),
            fact("duty.people", f"{detail.people_involved}", lang),
            fact("col.received_at", _local(detail.received_at), lang),
            fact("col.due", html.Span(_local(detail.due_at), className="late" if detail.due_at < now and not closed else ""), lang),
            fact("col.grid", detail.grid_code, lang),
            fact("duty.assigned", " · ".join(x for x in (detail.center, detail.department) if x) or "—", lang),
            fact("duty.first_receiver", detail.first_receiver, lang),
            fact("col.party", " · ".join(v for v in (detail.party.party_name, detail.party.party_phone) if v) or "—", lang),
            fact("duty.address", detail.party.address or "—", lang),
        ]),
    ]


def revealed(details: PartyDetails, lang: str) -> html.Div:
    """The unmasked personal data after the officer asked for it (the reveal is in the audit log)."""
    return html.Div(className="revealed", children=[
        html.Dl(className="facts", children=[
            fact("col.party", details.party_name or "—", lang),
            fact("duty.phone", details.party_phone or "—", lang),
            fact("duty.id_number", details.party_id_number or "—", lang),
            fact("duty.address", details.address or "—", lang),
        ]),
        html.Div(label("duty.revealed_note", lang), className="revealed-note"),
    ])


def case_actions(detail: CaseDetail | None, assignees: list[Assignee], lang: str) -> html.Div:
    """Acknowledge, assign, supervise. Always in the page (hidden without a case) so the action
    callback has its inputs; drawn once, so a refresh never wipes what the officer is typing."""
    closed = detail is None or detail.resolved_at is not None
    options = [{"label": a.name, "value": f"{a.center_id}:{a.department_id or ''}"} for a in assignees]
    return html.Div(className="actions", hidden=detail is None, children=[
        html.Div(className="action-line", children=[
            html.Button(label("duty.do_ack", lang), id=ACK, n_clicks=0, className="button action-wide",
                        disabled=closed or (detail is not None and detail.acknowledged_at is not None)),
            html.Button(label("duty.do_reveal", lang), id=REVEAL, n_clicks=0, className="seg",
                        title=label("duty.reveal_hint", lang)),
        ]),
        html.Div(id=REVEALED),
        html.Div(className="action-line", children=[
            dcc.Dropdown(id=ASSIGN_TO, options=options, placeholder=label("duty.assign_to", lang), clearable=False,
                         className="assign-pick", disabled=closed),
            html.Button(label("duty.do_assign", lang), id=ASSIGN, n_clicks=0, className="button", disabled=closed),
        ]),
        html.Div(className="action-line", children=[
            dcc.Textarea(id=SUPERVISE_NOTE, placeholder=label("duty.supervise_note", lang), className="note-input",
                         maxLength=2000, disabled=closed),
            html.Button(label("duty.do_supervise", lang), id=SUPERVISE, n_clicks=0, className="button button-warn",
                        disabled=closed),
        ]),
    ])


def _transition(before: str | None, after: str, lang: str) -> str:
    """"受理 → 研判" for a change of state, "→ 已回访" for an import straight into one, else nothing."""
    if before == after or (before is None and after == "received"):
        return ""
    start = f" {label(f'status.{before}', lang)}" if before else ""
    return f"{start} → {label(f'status.{after}', lang)}"


def case_timeline(detail: CaseDetail | None, lang: str) -> list[object]:
    if detail is None:
        return []
    return [html.Ol(className="timeline", id="duty-timeline", children=[
        html.Li(className="event", children=[
            html.Span(_local(at), className="event-time"),
            html.B(label(f"action.{action}", lang)),
            html.Span(_transition(before, after, lang)),
            html.Span(f" · {actor}", className="event-actor"),
            html.Div(note, className="event-note") if note else None,
        ])
        for at, actor, action, before, after, note in detail.events
    ])]


def notes_panel(notes: list[HandoverNote], lang: str) -> list[object]:
    items = [html.Li([html.Span(f"{_local(n.at)} · {n.author}", className="note-meta"), html.Div(n.text, className="note-text")])
             for n in notes]
    return [html.Ul(items, className="notes") if items else html.Div(label("duty.no_notes", lang), className="empty")]


def console(*, title: str, officer: str, params: dict[str, str], queue: list[object], detail: CaseDetail | None,
            assignees: list[Assignee], now: datetime, notes: list[object], red_ids: list[int], refresh_ms: int,
            queue_signature: str = "", matters: object = None, warnings: object = None) -> list[object]:
    lang = params["lang"]
    return [
        html.Header(className="duty-header", id="duty-header", children=[
            html.H1(title),
            html.Div(className="duty-status", children=[
                html.Span(label("duty.officer", lang).format(name=officer), className="duty-officer"),
                dcc.Link(label("duty.lang", lang), href=href(params, lang="en" if lang == "zh" else "zh"),
                         className="seg lang-switch", id="duty-lang"),
                html.Button(label("duty.sound_off", lang), id=SOUND, className="seg", **{
                    "data-on": label("duty.sound_on", lang), "data-off": label("duty.sound_off", lang)}),
                html.Span("", id=MESSAGE, className="duty-message", role="status"),
            ]),
        ]),
        html.Div(className="duty-body", children=[
            html.Section([html.H2(label("duty.queue", lang)), html.Div(queue, id=QUEUE, **{"data-signature": queue_signature})], className="card duty-queue"),
            html.Section(className="card duty-detail", children=[
                html.Div(case_summary(detail, lang, now), id=SUMMARY),
                case_actions(detail, assignees, lang),
                matters if matters is not None else duty_matters.matters_box(None, lang),
                html.H3(label("duty.timeline", lang), hidden=detail is None),
                html.Div(case_timeline(detail, lang), id=TIMELINE),
            ]),
            html.Section([html.Div(warnings or [], id=warnings_panel.DUTY_BOX),
                          html.H2(label("duty.handover", lang)),
                          dcc.Textarea(id=HANDOVER_TEXT, placeholder=label("duty.handover_hint", lang), className="note-input",
                                       maxLength=2000),
                          html.Button(label("duty.save_note", lang), id=HANDOVER_SAVE, n_clicks=0, className="button"),
                          html.Div(notes, id=NOTES)], className="card duty-notes"),
        ]),
        html.Div(id=RED, hidden=True, **{"data-ids": ",".join(str(i) for i in red_ids)}),
        dcc.Interval(id=TICK, interval=refresh_ms),
    ]
