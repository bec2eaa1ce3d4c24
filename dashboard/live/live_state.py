"""What a live screen holds, and the difference between two of its states.

A state is identified by ``"{aggregate version}-{minute}-{digest of its content}"``: every app
process computes the same state for the same id, so a screen that reconnects to another process
can still ask for a delta. The digest keeps two different states apart when a Redis that came
back empty was rebuilt and counts its versions again from the start: without it a screen holding
the old state would be told it is up to date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from dashboard.domain.figures import InstantCounts, WallFigures
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.wall_values import kpi_values
from dashboard.screens.wall_panels import PanelInputs, panel_cells
from dashboard.screens.wall_snapshot import WallSnapshot, map_values

State = dict[str, Any]
Delta = dict[str, Any]


def state_id(version: int, minute: int, content: dict[str, Any]) -> str:
    digest = hashlib.blake2b(orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=6).hexdigest()
    return f"{version}-{minute}-{digest}"


def area_figures(snapshot: WallSnapshot, panels: PanelInputs) -> WallFigures:
    """The KPI row of a wall that follows one township (``?township=``) instead of the county."""
    state = snapshot.areas.get(panels.area)
    red = next((row.red for row in panels.townships if row.code == panels.area), 0)
    now = InstantCounts(open=state.open if state else 0, overdue=state.overdue if state else 0, red=red)
    return WallFigures(today=panels.today, last_30_days=panels.current, now=now, period=panels.current,
                       period_days=len(panels.period.days()))


def screen_state(snapshot: WallSnapshot, *, build: str, panels: PanelInputs | None = None, lang: str = "zh") -> State:
    """The full state a wall needs: KPI texts, map values, panel cells, when, which build."""
    local = snapshot.computed_at.astimezone(LOCAL_TZ)
    figures = snapshot.figures if panels is None or panels.area == snapshot.county else area_figures(snapshot, panels)
    content = {
        "kpis": kpi_values(figures),
        "values": map_values(snapshot, sorted(snapshot.areas)),
        "cells": panel_cells(panels, lang) if panels is not None else {},
    }
    return {
        "id": state_id(snapshot.version, int(snapshot.computed_at.timestamp() // 60), content),
        "build": build,
        **content,
        "updated": local.strftime("%H:%M:%S"),
    }


def state_delta(old: State, new: State) -> Delta:
    """Only what changed; a removed area value travels as ``None``."""
    values = {code: v for code, v in new["values"].items() if old["values"].get(code) != v}
    values.update({code: None for code in old["values"].keys() - new["values"].keys()})
    kpis = {name: text for name, text in new["kpis"].items() if old["kpis"].get(name) != text}
    old_cells = old.get("cells", {})
    cells = {cell: props for cell, props in new.get("cells", {}).items() if old_cells.get(cell) != props}
    return {"from": old["id"], "to": new["id"], "build": new["build"], "kpis": kpis, "values": values,
            "cells": cells, "updated": new["updated"]}


def compose(deltas: Iterable[Delta]) -> Delta | None:
    """Chain consecutive deltas into one; ``None`` when they do not chain."""
    merged: Delta | None = None
    for delta in deltas:
        if merged is None:
            merged = {**delta, "kpis": dict(delta["kpis"]), "values": dict(delta["values"]),
                      "cells": dict(delta.get("cells", {}))}
            continue
        if delta["from"] != merged["to"]:
            return None
        merged["kpis"].update(delta["kpis"])
        merged["values"].update(delta["values"])
        merged["cells"].update(delta.get("cells", {}))
        merged.update(to=delta["to"], build=delta["build"], updated=delta["updated"])
    return merged
