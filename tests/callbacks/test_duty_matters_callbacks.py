"""The console's matter glue on real servers: each button does its operation on the chosen case
and the picked candidate, answers in words, and a refusal is a message, not an error."""

from __future__ import annotations

from sqlalchemy import select

from callbacks.duty_matters import run
from dashboard.cases import matters
from dashboard.cases.personal_data import Actor
from dashboard.domain.vocabulary import Category
from dashboard.runtime import Runtime
from data_access.models import AuditEntry
from tests.data_access.test_write_path import NOW
from tests.factories import GRID_CODES, draft, hours

LI = Actor("李值班", "duty_officer")


def test_the_buttons_merge_dismiss_and_undo(runtime: Runtime, county: str) -> None:
    a, _ = runtime.cases.submit(draft(1, NOW - hours(9), grid_code=GRID_CODES[0], category=Category.land,
                                      description="张家李家宅基地边界争执多次争吵"), actor="窗口", now=NOW)
    b, _ = runtime.cases.submit(draft(2, NOW - hours(2), grid_code=GRID_CODES[0], category=Category.land,
                                      description="李家反映张家占宅基地边界多次争吵"), actor="窗口", now=NOW)
    assert run(runtime, "merge", b.id, None, who=LI, lang="zh") == "⚠ 无法完成：请先选择候选案件"
    assert run(runtime, "dismiss", b.id, a.id, who=LI, lang="zh") == f"已排除 #{a.id}"
    assert run(runtime, "dismiss", b.id, a.id, who=LI, lang="zh") == "⚠ 无法完成：提示状态已变化"
    assert run(runtime, "undismiss", b.id, a.id, who=LI, lang="en") == f"Restored #{a.id}"
    merged = run(runtime, "merge", b.id, a.id, who=LI, lang="zh")
    panel = matters.panel(runtime, b.id)
    assert panel is not None and merged == f"已并入事项 M{panel.matter_id}"
    assert run(runtime, "unmerge", b.id, None, who=LI, lang="zh") == f"已移出事项 M{panel.matter_id}"
    assert run(runtime, "unmerge", b.id, None, who=LI, lang="zh") == "⚠ 无法完成：该案件未并入事项"
    with runtime.sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["matter_dismiss", "matter_undismiss", "matter_merge", "matter_unmerge"]


def test_every_refusal_has_its_words_in_both_languages() -> None:
    from dashboard.cases.matters import ERROR_CODES
    from dashboard.domain.labels import label

    assert all(label(f"matter.err.{code}", lang) for code in ERROR_CODES for lang in ("zh", "en"))
