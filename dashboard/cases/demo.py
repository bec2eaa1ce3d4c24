"""Demo data: a realistic year of cases, then a live feed, both through the normal write path."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.cases.case_service import CaseService
from dashboard.cases.casework import CaseDraft, act, new_case, refresh_alert
from dashboard.domain.clock import Clock, system_clock
from dashboard.domain.lifecycle import TransitionError
from dashboard.domain.periods import day_start, local_date
from dashboard.domain.vocabulary import Action, Category, Satisfaction, Source, Status, Tier
from data_access import cases
from data_access.models import Case, Village

log = logging.getLogger(__name__)

CATEGORY_WEIGHTS = {
    Category.neighbour: 20, Category.marriage_family: 16, Category.land: 12, Category.labour_wages: 10,
    Category.debt: 9, Category.property_mgmt: 7, Category.consumer: 6, Category.traffic: 5,
    Category.demolition: 4, Category.environment: 4, Category.medical: 3, Category.other: 4,
}
SOURCE_WEIGHTS = {
    Source.grid_report: 35, Source.hotline_12345: 25, Source.walk_in: 15, Source.online: 10,
    Source.petition: 6, Source.police_110: 5, Source.court: 3, Source.other: 1,
}
MEDIAN_RESOLVE_DAYS = {Tier.village: 2.0, Tier.township: 6.0, Tier.county: 12.0}
DAILY_MEAN = 23_724 / 365
"""The demo county's real yearly volume."""

DESCRIPTIONS = {
    Category.neighbour: "邻里因宅基地边界、排水发生纠纷", Category.marriage_family: "婚姻家庭矛盾，涉及赡养与财产分割",
    Category.land: "土地承包经营权流转合同纠纷", Category.labour_wages: "务工人员反映工资被拖欠",
    Category.debt: "民间借贷到期未还", Category.property_mgmt: "小区物业服务费及维修问题",
    Category.consumer: "消费者反映商品质量问题", Category.traffic: "交通事故赔偿协商",
    Category.demolition: "征地拆迁补偿标准异议", Category.environment: "养殖场异味影响周边居民",
    Category.medical: "医疗服务费用争议", Category.other: "其他诉求",
}


def _pick(rng: random.Random, weights: dict) -> object:  # type: ignore[type-arg]
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class DemoCase:
    """A case and the lifecycle steps it will take, each with its moment."""

    draft: CaseDraft
    steps: list[tuple[datetime, Action, dict[str, object]]]


class CaseFactory:
    """Draws realistic cases for a county; deterministic for a seed."""

    def __init__(self, service: CaseService, rng: random.Random) -> None:
        self.service = service
        self.rng = rng
        with service.sessions() as session:
            kinds = {code: kind for code, kind in session.execute(select(Village.code, Village.kind))}
        codes = sorted(service.places())
        # Urban communities are denser, so their grids report more.
        self.grids = codes
        self.grid_weights = [2.5 if kinds.get(service.places()[g].village_code) == "community" else 1.0 for g in codes]

    def draft(self, received_at: datetime, ref: str) -> CaseDraft:
        rng = self.rng
        source = _pick(rng, SOURCE_WEIGHTS)
        category = _pick(rng, CATEGORY_WEIGHTS)
        roll = rng.random()
        people = rng.randint(30, 80) if roll < 0.006 else rng.randint(10, 29) if roll < 0.03 else rng.choice((1, 1, 2, 2, 3, 4, 6))
        tier = Tier.township if source in (Source.petition, Source.court) and rng.random() < 0.5 else Tier.village
        return CaseDraft(
            source=source,  # type: ignore[arg-type]
            external_ref=ref,
            category=category,  # type: ignore[arg-type]
            received_at=received_at,
            grid_code=rng.choices(self.grids, weights=self.grid_weights)[0],
            tier=tier,
            people_involved=people,
            description=DESCRIPTIONS[category],  # type: ignore[index]
            risk_extreme=rng.random() < 0.001,
            risk_mass_incident=people >= 20 and rng.random() < 0.1,
            beyond_county_petition=source is Source.petition and rng.random() < 0.02,
            repeat_petition=source is Source.petition and rng.random() < 0.15,
        )

    def plan(self, draft: CaseDraft) -> DemoCase:
        """The steps this case will take: assess, dispatch, mediate, maybe escalate, resolve, follow up."""
        rng = self.rng
        t = draft.received_at + timedelta(hours=rng.lognormvariate(math.log(3), 0.9))
        steps: list[tuple[datetime, Action, dict[str, object]]] = [(t, Action.assess, {})]
        t += timedelta(hours=rng.uniform(0.2, 6))
        steps.append((t, Action.dispatch, {}))
        t += timedelta(hours=rng.uniform(0.5, 12))
        steps.append((t, Action.mediate, {}))
        tier = draft.tier
        hard = draft.people_involved >= 10 or draft.source is Source.petition
        escalations = 0
        while tier is not Tier.county and rng.random() < (0.35 if hard else 0.12):
            t += timedelta(days=rng.uniform(0.5, 3))
            steps.append((t, Action.escalate, {"note": "调处未果，提请上级中心"}))
            tier = Tier.township if tier is Tier.village else Tier.county
            escalations += 1
        median = MEDIAN_RESOLVE_DAYS[tier] * (2.5 if draft.people_involved >= 30 else 1.0)
        stuck = rng.random() < 0.004
        t += timedelta(days=rng.lognormvariate(math.log(median), 0.7) * (8 if stuck else 1))
        steps.append((t, Action.resolve, {"outcome": "达成调解协议"}))
        if rng.random() < 0.9:
            t += timedelta(days=rng.uniform(1, 5))
            satisfaction = rng.choices(list(Satisfaction), weights=(95, 4, 1))[0]
            steps.append((t, Action.follow_up, {"satisfaction": satisfaction}))
        return DemoCase(draft, steps)


def _actor(action: Action) -> str:
    return {Action.assess: "研判员", Action.dispatch: "分流员", Action.mediate: "调解员", Action.escalate: "调解员",
            Action.resolve: "调解员", Action.follow_up: "回访员"}.get(action, "值班员")


def backfill(service: CaseService, *, days: int, now: datetime, seed: int = 20260101,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Write ``days`` days of history ending ``now``; days already written are skipped, so a longer or
    later run fills in only the days missing. ``progress`` as in :func:`backfill_days`."""
    today = local_date(now)
    return backfill_days(service, [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)], now=now,
                         seed=seed, progress=progress)


def backfill_days(service: CaseService, days: Iterable[date], *, now: datetime, seed: int = 20260101,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Write the history of the given days. A day's cases depend only on the seed and the day, not on
    which other days are written with it, so any selection of days gives the same cases.
    ``progress`` is told (0, days) first, then (days done, days) after each day, skipped ones included."""
    chosen = list(days)
    factory = CaseFactory(service, random.Random(seed))
    written = 0
    if progress is not None:
        progress(0, len(chosen))
    for done, day in enumerate(chosen, start=1):
        factory.rng = random.Random(f"{seed}:{day.isoformat()}")
        plans = list(_day_plans(factory, day, now))
        if plans and not _already_written(service, plans):
            service.write(lambda session, plans=plans: [_write_history(session, service, plan, now) for plan in plans])
            written += len(plans)
        if progress is not None:
            progress(done, len(chosen))
    return written


def _already_written(service: CaseService, plans: list[DemoCase]) -> bool:
    """Whether any of the day's references exists under any source: a day written by an earlier
    version (other sources drawn for the same references) counts too."""
    refs = [plan.draft.external_ref for plan in plans]
    with service.sessions() as session:
        found = session.execute(select(Case.id).where(Case.source.in_([s.value for s in Source]),
                                                      Case.external_ref.in_(refs)).limit(1)).first()
    return found is not None


def _day_plans(factory: CaseFactory, day: date, now: datetime) -> Iterator[DemoCase]:
    rng = factory.rng
    season = 1.0 + 0.25 * math.cos((day.timetuple().tm_yday - 30) / 365 * 2 * math.pi)
    weekday = 1.15 if day.weekday() < 5 else 0.6
    count = max(0, int(rng.gauss(DAILY_MEAN * season * weekday, 6)))
    start = day_start(day)
    for n in range(count):
        # Working hours carry most reports.
        hour = min(23.99, max(0.0, rng.gauss(13, 3.5)))
        received = start + timedelta(hours=hour)
        if received > now:
            continue
        yield factory.plan(factory.draft(received, f"demo-{day:%Y%m%d}-{n:04d}"))


def _write_history(session: Session, service: CaseService, plan: DemoCase, now: datetime) -> Case:
    case, event = new_case(plan.draft, service.place(plan.draft.grid_code), actor="受理窗口", now=plan.draft.received_at, rules=service.rules)
    cases.add(session, case, event)
    for at, action, details in plan.steps:
        if at > now:
            break
        session.add(act(case, action, actor=_actor(action), at=at, rules=service.rules, **details))  # type: ignore[arg-type]
    refresh_alert(case, now=now, rules=service.rules)
    return case


NEXT_ACTION = {
    Status.received: Action.assess, Status.assessed: Action.dispatch, Status.dispatched: Action.mediate,
    Status.mediating: Action.resolve, Status.resolved: Action.follow_up,
}


def live(service: CaseService, *, rate: float = 1.0, seed: int | None = None, limit: int | None = None,
         clock: Clock = system_clock) -> int:
    """Keep writing: new cases and progress on open ones, ``rate`` changes per second on average,
    each stamped with ``clock()``."""
    rng = random.Random(seed)
    factory = CaseFactory(service, rng)
    done = 0
    while limit is None or done < limit:
        time.sleep(rng.expovariate(rate))
        now = clock()
        try:
            if rng.random() < 0.55:
                draft = factory.draft(now, f"live-{now:%Y%m%d%H%M%S%f}-{rng.randrange(10**6)}")
                service.submit(draft, actor="受理窗口", now=now)
            else:
                _advance_random_case(service, rng, now)
        except TransitionError as error:
            log.info("skipped a move: %s", error)
        done += 1
    return done


def _advance_random_case(service: CaseService, rng: random.Random, now: datetime) -> None:
    with service.sessions() as session:
        recent = session.execute(
            select(Case.id, Case.status).where(Case.county_code == service.county_code, Case.status != Status.followed_up.value)
            .order_by(Case.id.desc()).limit(400)
        ).all()
    if not recent:
        return
    case_id, status = rng.choice(recent)
    action = NEXT_ACTION[Status(status)]
    details: dict[str, object] = {}
    if action is Action.resolve:
        details["outcome"] = "达成调解协议"
    if action is Action.follow_up:
        details["satisfaction"] = rng.choices(list(Satisfaction), weights=(95, 4, 1))[0]
    service.act(case_id, action, actor=_actor(action), at=now, **details)
