"""The duty console's "可能为同一事项" box: the chosen case's possible duplicates with their scores
and reasons, merge / dismiss / undo buttons, the matter it belongs to, and the repeat-caller flag.

Plain values in (``dashboard.domain.matter_view``), components out. The officer picks a
candidate (``PICK``) and presses one of four fixed buttons; like the console's own actions they
are always in the page (hidden without a case) so ``callbacks.duty_matters`` has its inputs, and
only the list and the picker's options are redrawn. No person is shown: a repeat caller is a
count, a same-party match a reason.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.domain.labels import label, match_reason
from dashboard.domain.matter_view import CaseBrief, Candidate, MatterPanel
from dashboard.domain.periods import LOCAL_TZ

MATTERS = "duty-matters"
MESSAGE = "duty-matters-message"
PICK = "duty-matters-pick"
MERGE, DISMISS, UNDISMISS, UNMERGE = "matter-merge", "matter-dismiss", "matter-undismiss", "matter-unmerge"
BUTTONS = {MERGE: "merge", DISMISS: "dismiss", UNDISMISS: "undismiss", UNMERGE: "unmerge"}
"""Button id → the operation it asks for."""


def _brief(case: CaseBrief, lang: str, href: str) -> list[object]:
    when = case.received_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
    return [dcc.Link(f"#{case.case_id}", href=href, className="matter-case"),
            html.Span(" · ".join((label(f"category.{case.category}", lang), label(f"source.{case.source}", lang), when)),
                      className="matter-facts")]


def candidate_row(candidate: Candidate, lang: str, href: str) -> html.Li:
    reasons = label("tip.sep", lang).join(match_reason(code, value, lang) for code, value in candidate.reasons)
    other = candidate.case.case_id
    state = (html.Span(label(f"matter.state.{candidate.state}", lang), className="flag")
             if candidate.state != "open" else None)
    return html.Li(className=f"matter-candidate matter-{candidate.state}", id=f"matter-candidate-{other}", children=[
        *_brief(candidate.case, lang, href),
        html.Span(label("matter.score", lang).format(score=f"{candidate.score:.2f}"), className="matter-score"),
        state,
        html.Div(reasons, className="matter-reasons"),
    ])


def pick_options(panel: MatterPanel | None) -> list[dict[str, object]]:
    """One choice per candidate for the buttons to act on."""
    if panel is None:
        return []
    return [{"label": f"#{c.case.case_id}", "value": c.case.case_id} for c in panel.candidates]


def matters_box(panel: MatterPanel | None, lang: str, *, link: dict[int, str] | None = None) -> html.Div:
    """The whole box as the console page first draws it."""
    return html.Div(className="duty-matters", hidden=panel is None, children=[
        html.Div(matters_panel(panel, lang, link=link), id=MATTERS),
        html.Div(className="action-line", children=[
            dcc.RadioItems(id=PICK, options=pick_options(panel), className="matter-pick", inline=True),
            html.Button(label("matter.do_merge", lang), id=MERGE, n_clicks=0, className="button button-warn"),
            html.Button(label("matter.do_dismiss", lang), id=DISMISS, n_clicks=0, className="seg"),
            html.Button(label("matter.do_undismiss", lang), id=UNDISMISS, n_clicks=0, className="seg"),
            html.Button(label("matter.do_unmerge", lang), id=UNMERGE, n_clicks=0, className="seg"),
        ]),
        html.Span("", id=MESSAGE, className="duty-message", role="status"),
    ])


def matters_panel(panel: MatterPanel | None, lang: str, *, link: dict[int, str] | None = None) -> list[object]:
    """The box's content for one case (``None``: no case chosen, nothing shown).

    ``link`` maps a case id to the console URL that picks it (the caller knows the URL's other
    parameters); a case missing from it links to ``?case=ID``.
    """
    if panel is None:
        return []
    link = link or {}

    def href(case_id: int) -> str:
        return link.get(case_id, f"?case={case_id}")

    children: list[object] = [html.H3(label("matter.title", lang))]
    if panel.repeat_caller:
        children.append(html.Div(label("matter.repeat_caller", lang).format(n=panel.repeat_calls, days=panel.repeat_days),
                                 className="flag flag-repeat", id="matter-repeat-caller"))
    if panel.matter_id is not None:
        children.append(html.Div(className="matter-members", id="matter-members", children=[
            html.Div(label("matter.in_matter", lang).format(id=panel.matter_id, n=len(panel.members),
                                                            lead=panel.lead_case_id)),
            html.Ul([html.Li([*_brief(m, lang, href(m.case_id)),
                              html.Span(label("matter.lead", lang), className="flag") if m.case_id == panel.lead_case_id
                              else None]) for m in panel.members]),
        ]))
    if panel.candidates:
        children.append(html.Ul([candidate_row(c, lang, href(c.case.case_id)) for c in panel.candidates],
                                className="matter-candidates"))
    elif panel.matter_id is None:
        children.append(html.Div(label("matter.none", lang), className="empty"))
    return children
