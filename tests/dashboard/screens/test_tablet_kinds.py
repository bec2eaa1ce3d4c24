"""The tablet names each child area's kind, from what onboarding stored: a 开发区 is shown as one,
and is a township like any other in the list."""

from __future__ import annotations

from sqlalchemy import update

from dashboard.domain.periods import local_date, named_period
from dashboard.runtime import Runtime
from dashboard.screens.tablet_service import tablet_view
from dashboard.screens.wall_service import SnapshotCache
from data_access.models import Township
from layouts.tablet import child_list
from tests.data_access.test_write_path import NOW
from tests.layouts.tree import text


def test_child_areas_carry_their_kind(runtime: Runtime, county: str) -> None:
    with runtime.sessions() as session, session.begin():
        session.execute(update(Township).where(Township.code == f"{county}002").values(kind="other", name="幸福开发区"))
    period = named_period("30d", local_date(NOW))

    def kinds(code: str) -> list[tuple[str, str | None]]:
        view = tablet_view(runtime, SnapshotCache(runtime), county=county, code=code, period=period, now=NOW,
                           with_cases=False)
        return [(row.code, row.kind) for row in view.children]

    assert kinds(county) == [(f"{county}001", "town"), (f"{county}002", "other")]
    assert {kind for _, kind in kinds(f"{county}001")} == {"village"}
    assert {kind for _, kind in kinds(f"{county}001001")} == {None}, "a grid has no kind"

    view = tablet_view(runtime, SnapshotCache(runtime), county=county, code=county, period=period, now=NOW,
                       with_cases=False)
    zh, en = (text(child_list(view.children, "township", {"lang": lang}, lang)) for lang in ("zh", "en"))
    assert "幸福开发区 开发区" in zh and "测试镇1 镇" in zh
    assert "Development zone" in en and "Town" in en
