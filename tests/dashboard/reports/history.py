"""A county history for report tests, relative to now: this month, the months before and the
same days last year; closed, open, overdue, red, orange, followed up, and one case that carries
personal data which no report may show."""

from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.domain.masking import PartyDetails
from dashboard.domain.vocabulary import Action, Satisfaction, Source
from dashboard.runtime import Runtime
from tests.factories import draft, hours

PLANTED = PartyDetails(party_name="欧阳震华", party_phone="13912345678", party_id_number="220283199001011234",
                       address="吉林省舒兰市平安镇幸福路88号")
PLANTED_TEXT = "欧阳震华与邻居因宅基地界线争执，电话13912345678"


def _resolve(rt: Runtime, case_id: int, start: datetime, satisfied: bool | None) -> None:
    for step, action in enumerate((Action.assess, Action.dispatch, Action.mediate, Action.resolve), start=1):
        rt.cases.act(case_id, action, actor="调解员", at=start + hours(step))
    if satisfied is not None:
        rt.cases.act(case_id, Action.follow_up, actor="回访员", at=start + hours(6),
                     satisfaction=Satisfaction.satisfied if satisfied else Satisfaction.dissatisfied)


def history(rt: Runtime, now: datetime) -> None:
    from dashboard.cases import personal_data

    spans = [(now - timedelta(days=75), 150), (now - timedelta(days=365 + 40), 60)]
    n = 0
    for start, count in spans:
        for i in range(count):
            received = start + timedelta(hours=13 * i + (n % 5))
            if received >= now - hours(1):
                break
            facts: dict[str, object] = {}
            if n % 19 == 0:
                facts["people_involved"] = 35
            elif n % 13 == 0:
                facts["people_involved"] = 12
            if n % 11 == 0:
                facts["source"] = Source.petition
            case, _ = rt.cases.submit(draft(n, received, **facts), actor="窗口", now=now)
            if n % 3 and received + hours(8) < now:
                _resolve(rt, case.id, received, (n % 2 == 0) if n % 5 else None)
            n += 1
    personal_data.submit(rt, draft(5000, now - timedelta(hours=3), people_involved=40, description=PLANTED_TEXT),
                         PLANTED, actor="窗口", now=now)
