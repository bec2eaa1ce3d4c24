"""The warnings panel (预警) of the wall, the tablet and the duty console.

The wall's panel is a frame whose rows the live state's cells fill (``dashboard.warnings.cells``);
the tablet and the console build theirs from the open warnings they are given. A row is a
warning's reason in words and numbers; never a person.
"""

from __future__ import annotations

from dash import html

from dashboard.domain.labels import definition, label
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.warning_view import WALL_ROWS, WarningView
from layouts.wall_panels import panel

ACK_BUTTON = "duty-warning-ack"
"""Pattern-matching id type of the console's acknowledge buttons (``{"type": ACK_BUTTON, "id": n}``)."""
DUTY_LIST = "duty-warnings"
DUTY_BOX = "duty-warnings-box"
"""The console's element that holds the list (``layouts.duty.console``, ``callbacks.warnings``)."""


def wall_warnings_panel(lang: str) -> html.Section:
    rows = [html.Div(id=f"warn-{i}", className="warn-row warn-empty",
                     children=html.Span("", id=f"warn-{i}-text", className="warn-text"))
            for i in range(WALL_ROWS)]
    return panel(label("panel.warnings", lang), [html.Div(label("warnings.none", lang), id="warn-count", className="warn-count"),
                                                  *rows],
                 tip=definition("panel.warnings", lang), class_name="panel-warnings")


def _row(warning: WarningView, lang: str, *, action: object | None = None) -> html.Li:
    since = warning.first_seen.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")
    acked = (label("warnings.acked", lang).format(who=warning.acknowledged_by)
             if warning.acknowledged_by else None)
    return html.Li(className="warn-row" + (" warn-acked" if acked else ""), children=[
        html.Span(warning.reason(lang), className="warn-text"),
        html.Span(label("warnings.since", lang).format(time=since), className="warn-since"),
        *([html.Span(acked, className="warn-ack-by")] if acked else []),
        *([action] if action is not None and not acked else []),
    ])


def warnings_list(warnings: list[WarningView], lang: str, *, class_name: str) -> html.Section:
    """The tablet's panel: every open warning of the area shown, least probable first."""
    body: list[object] = [html.Ul([_row(w, lang) for w in warnings], className="warn-list")] if warnings else [
        html.P(label("warnings.none", lang), className="warn-none")]
    return panel(label("panel.warnings", lang), body, tip=definition("panel.warnings", lang),
                 class_name=f"panel-warnings {class_name}")


def duty_warnings(warnings: list[WarningView], lang: str) -> html.Section:
    """The console's list with an acknowledge button on each warning nobody has acknowledged yet."""
    rows = [_row(w, lang, action=html.Button(label("warnings.ack", lang), id={"type": ACK_BUTTON, "id": w.id},
                                              className="button warn-ack", n_clicks=0))
            for w in warnings]
    body: list[object] = [html.Ul(rows, className="warn-list")] if rows else [html.P(label("warnings.none", lang), className="warn-none")]
    return html.Section(id=DUTY_LIST, className="duty-warnings", children=[
        html.H2(label("panel.warnings", lang), title=definition("panel.warnings", lang)), *body])
