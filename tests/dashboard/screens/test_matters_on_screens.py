"""The wall shows a matter once and how many of the period's cases were repeats; nothing about a
person (no number, no party key, no repeat-caller flag) reaches a wall or a tablet."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import select

from dashboard.cases import matters as matter_service
from dashboard.cases.personal_data import Actor, clean_party
from dashboard.domain.periods import Period, local_date
from dashboard.domain.vocabulary import Category
from dashboard.live.live_state import screen_state
from dashboard.runtime import Runtime
from dashboard.screens.panel_service import PanelService
from dashboard.screens.tablet_service import tablet_view
from dashboard.screens.wall_service import SnapshotCache
from dashboard.screens.wall_snapshot import WINDOW_DAYS
from data_access.models import PartyKey
from tests.data_access.test_write_path import NOW
from tests.factories import GRID_CODES, draft, hours

PHONE = "13912345678"
LI = Actor("李值班", "duty_officer")


def test_the_wall_counts_repeats_and_never_carries_a_person(runtime: Runtime, county: str) -> None:
    ids = []
    for n in range(4):  # one caller, four reports of one dispute (a repeat caller), plus one other case
        case, _ = runtime.cases.submit(
            draft(n, NOW - hours(40 - 10 * n), grid_code=GRID_CODES[0], category=Category.land, people_involved=40,
                  description=f"张某华与李某军宅基地边界争执第{n}次"),
            actor="窗口", now=NOW, party=clean_party(party_name="欧阳测试", party_phone=PHONE))
        ids.append(case.id)
    runtime.cases.submit(draft(9, NOW - hours(3), grid_code=GRID_CODES[5]), actor="窗口", now=NOW)
    for other in ids[1:]:
        matter_service.merge(runtime, ids[0], other, who=LI)
    with runtime.sessions() as session:
        keys = list(session.scalars(select(PartyKey.key)))
    assert keys and matter_service.panel(runtime, ids[-1]).repeat_caller

    snapshots = SnapshotCache(runtime)
    snapshot = snapshots.get(county, NOW)
    period = Period.trailing(local_date(NOW), WINDOW_DAYS)
    panels = PanelService(runtime).get(snapshot, area=county, period=period, now=NOW)
    state = json.dumps(screen_state(snapshot, build="t", panels=panels), ensure_ascii=False, default=str)
    assert panels.repeats == 3 and panels.current.received == 5
    assert "事项 2 · 重复 3" in state, "received 5, one matter of four cases and one case alone"
    assert [t.case_id for t in panels.ticker] == [matter_service.panel(runtime, ids[0]).lead_case_id], \
        "the matter's four red cases show once, by its lead"
    english = json.dumps(screen_state(snapshot, build="t", panels=panels, lang="en"), ensure_ascii=False, default=str)
    assert "Matters 2 · repeats 3" in english

    tablet = json.dumps(asdict(tablet_view(runtime, snapshots, county=county, code=GRID_CODES[0],
                                           period=Period(local_date(NOW - timedelta(days=3)), local_date(NOW)),
                                           now=NOW)), ensure_ascii=False, default=str)
    assert f"#{ids[0]}" in tablet or str(ids[0]) in tablet, "the tablet's case list was not built"
    for text in (state, english, tablet):
        for secret in (PHONE, "欧阳测试", *keys, "重复来访", "Repeat caller", "same_party", "同一当事人"):
            assert secret not in text
