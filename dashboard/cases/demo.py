"""Demo data: a realistic year of cases, then a live feed, both through the normal write path."""

from __future__ import annotations

import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.cases import demo_text
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
DEMO_VILLAGES = 248
"""The demo county's village-level units: another county's history is scaled by its own count
against this (:func:`scale_for`)."""
DEMO_REF_PREFIX = "demo"

REPEAT_SHARE = 0.02
"""Of the new demo cases, this share is the same dispute reported again through another channel
(a recent case of the same village, told anew): what the duty console's 可能为同一事项 is for."""
REPEAT_WITHIN = timedelta(days=3)
REPEAT_AFTER = timedelta(minutes=10)
"""A repeat comes between these times after the case it repeats."""
REPEAT_POOL = 2000
"""Recent cases the live feed remembers to repeat (it repeats only cases it wrote itself)."""


def _pick(rng: random.Random, weights: dict) -> object:  # type: ignore[type-arg]
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def scale_for(villages: int) -> float:
    """How much a county of ``villages`` village-level units writes against the demo county (its
    volume follows its size; the demo county itself is 1.0 and keeps its history exactly)."""
    return villages / DEMO_VILLAGES


@dataclass(frozen=True)
class HistoryStream:
    """Which history a county gets: its volume against the demo county, and where its references
    and random streams start. The demo county's default draws exactly the history it always had;
    another county takes its code into both, so its cases are its own and never collide."""

    scale: float = 1.0
    ref_prefix: str = DEMO_REF_PREFIX
    seed_suffix: str = ""

    @classmethod
    def of_county(cls, county: str, villages: int) -> HistoryStream:
        return cls(scale=scale_for(villages), ref_prefix=f"{DEMO_REF_PREFIX}-{county}", seed_suffix=f":{county}")


@dataclass
class DemoCase:
    """A case, the dispute it tells and the lifecycle steps it will take, each with its moment."""

    draft: CaseDraft
    steps: list[tuple[datetime, Action, dict[str, object]]]
    story: demo_text.Story | None = None
    repeats: str | None = None
    """The reference of the case whose dispute this one reports again (``None``: a new dispute)."""


class CaseFactory:
    """Draws realistic cases for a county; deterministic for a seed.

    ``rng`` draws the case (source, category, place, time, steps); ``words`` draws its text, from a
    stream of its own so the text never shifts the rest of a seed's cases.
    """

    def __init__(self, service: CaseService, rng: random.Random, words: random.Random | None = None) -> None:
        self.service = service
        self.rng = rng
        self.words = words or random.Random(rng.random())
        with service.sessions() as session:
            kinds = {code: kind for code, kind in session.execute(select(Village.code, Village.kind))}
        places = service.places()
        codes = sorted(places)
        # Urban communities are denser, so their grids report more.
        self.grids = codes
        self.urban = {g for g in codes if kinds.get(places[g].village_code) == "community"}
        self.grid_weights = [2.5 if g in self.urban else 1.0 for g in codes]
        self.village_grids: dict[str, list[str]] = {}
        for g in codes:
            self.village_grids.setdefault(places[g].village_code, []).append(g)
        self.village_of = {g: places[g].village_code for g in codes}

    def draft(self, received_at: datetime, ref: str) -> CaseDraft:
        return self.new_dispute(received_at, ref)[0]

    def new_dispute(self, received_at: datetime, ref: str) -> tuple[CaseDraft, demo_text.Story]:
        """A case of a new dispute, and the dispute's story (its description is the story told once)."""
        rng = self.rng
        source = _pick(rng, SOURCE_WEIGHTS)
        category = _pick(rng, CATEGORY_WEIGHTS)
        roll = rng.random()
        people = rng.randint(30, 80) if roll < 0.006 else rng.randint(10, 29) if roll < 0.03 else rng.choice((1, 1, 2, 2, 3, 4, 6))
        tier = Tier.township if source in (Source.petition, Source.court) and rng.random() < 0.5 else Tier.village
        grid = rng.choices(self.grids, weights=self.grid_weights)[0]
        story = demo_text.story(self.words, category, people=people, urban=grid in self.urban)  # type: ignore[arg-type]
        return CaseDraft(
            source=source,  # type: ignore[arg-type]
            external_ref=ref,
            category=category,  # type: ignore[arg-type]
            received_at=received_at,
            grid_code=grid,
            tier=tier,
            people_involved=people,
            description=demo_text.tell(self.words, story, source),  # type: ignore[arg-type]
            risk_extreme=rng.random() < 0.001,
            risk_mass_incident=people >= 20 and rng.random() < 0.1,
            beyond_county_petition=source is Source.petition and rng.random() < 0.02,
            repeat_petition=source is Source.petition and rng.random() < 0.15,
        ), story

    def repeat(self, rng: random.Random, original: DemoCase, received_at: datetime, ref: str) -> CaseDraft:
        """The dispute of ``original`` reported again through another channel: another source, a grid
        of the same village, the same or a related category, the same story told anew. ``rng`` draws
        all of it (text included). No party data: the demo records none, for any case."""
        first = original.draft
        assert original.story is not None
        sources = {s: w for s, w in SOURCE_WEIGHTS.items() if s is not first.source}
        source: Source = _pick(rng, sources)  # type: ignore[assignment]
        related = sorted(self.service.rules.matters.related.get(first.category.value, ()))
        category = Category(rng.choice(related)) if related and rng.random() < 0.2 else first.category
        grids = self.village_grids.get(self.village_of.get(first.grid_code, ""), [first.grid_code])
        return replace(
            first, source=source, external_ref=ref, category=category, received_at=received_at,
            grid_code=first.grid_code if rng.random() < 0.6 else rng.choice(grids),
            tier=Tier.township if source in (Source.petition, Source.court) and rng.random() < 0.5 else Tier.village,
            description=demo_text.tell(rng, original.story, source),
            beyond_county_petition=source is Source.petition and rng.random() < 0.02,
            repeat_petition=source is Source.petition and rng.random() < 0.3,
        )

    def plan(self, draft: CaseDraft, story: demo_text.Story | None = None, rng: random.Random | None = None) -> DemoCase:
        """The steps this case will take: assess, dispatch, mediate, maybe escalate, resolve, follow up."""
        rng = rng or self.rng
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
        return DemoCase(draft, steps, story)


def _actor(action: Action) -> str:
    return {Action.assess: "研判员", Action.dispatch: "分流员", Action.mediate: "调解员", Action.escalate: "调解员",
            Action.resolve: "调解员", Action.follow_up: "回访员"}.get(action, "值班员")


def backfill(service: CaseService, *, days: int, now: datetime, seed: int = 20260101,
             progress: Callable[[int, int], None] | None = None, stream: HistoryStream = HistoryStream()) -> int:
    """Write ``days`` days of history ending ``now``; days already written are skipped, so a longer or
    later run fills in only the days missing. ``progress`` and ``stream`` as in :func:`backfill_days`."""
    today = local_date(now)
    return backfill_days(service, [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)], now=now,
                         seed=seed, progress=progress, stream=stream)


def backfill_days(service: CaseService, days: Iterable[date], *, now: datetime, seed: int = 20260101,
                  progress: Callable[[int, int], None] | None = None, stream: HistoryStream = HistoryStream()) -> int:
    """Write the history of the given days. A day's cases depend only on the seed and the day, not on
    which other days are written with it, so any selection of days gives the same cases.
    ``progress`` is told (0, days) first, then (days done, days) after each day, skipped ones included.

    Cases received in the last ``matters.recent_days`` before ``now`` get the write path's arrival
    check (``service.arrival``: their possible duplicates, as the duty console shows them); older
    ones are past the finder's pool anyway, and checking a year of them would add about half to the
    backfill's time (about a millisecond a case on SQLite). Each day is written in order of receipt.

    ``stream`` says whose history it is: the default is the demo county's; a county of the demo's
    city writes its own (:meth:`HistoryStream.of_county`), of its own size."""
    chosen = list(days)
    history = History(CaseFactory(service, random.Random(f"{seed}{stream.seed_suffix}" if stream.seed_suffix else seed)),
                      seed, stream=stream)
    check_since = now - timedelta(days=service.rules.matters.recent_days)
    written = 0
    if progress is not None:
        progress(0, len(chosen))
    for done, day in enumerate(chosen, start=1):
        plans = sorted((plan for plan in history.day(day) if plan.draft.received_at <= now),
                       key=lambda plan: plan.draft.received_at)
        if plans and not _already_written(service, plans):
            service.write(lambda session, plans=plans: [_write_history(session, service, plan, now, check_since)
                                                        for plan in plans])
            written += len(plans)
        if progress is not None:
            progress(done, len(chosen))
    return written


class History:
    """The demo's days, each a function of the seed and the day alone.

    A day's new disputes are drawn from the day's own streams, all of them whatever ``now``; a few
    of its cases (:data:`REPEAT_SHARE`, chosen by a stream of their own) are instead a repeat of a
    new dispute of the days before (up to :data:`REPEAT_WITHIN`) or earlier the same day. The days
    before are drawn again when not at hand, so a day written alone has the same cases as when
    written in a run of days.
    """

    def __init__(self, factory: CaseFactory, seed: int, *, stream: HistoryStream = HistoryStream()) -> None:
        self.factory = factory
        self.seed = f"{seed}{stream.seed_suffix}"
        self.stream = stream
        self._new: dict[date, tuple[list[DemoCase], set[int]]] = {}

    def _new_disputes(self, day: date) -> tuple[list[DemoCase], set[int]]:
        """The day's new disputes in drawing order, and the numbers that will be repeats instead."""
        if day not in self._new:
            factory = self.factory
            factory.rng = random.Random(f"{self.seed}:{day.isoformat()}")
            factory.words = random.Random(f"{self.seed}:{day.isoformat()}:words")
            rng = factory.rng
            season = 1.0 + 0.25 * math.cos((day.timetuple().tm_yday - 30) / 365 * 2 * math.pi)
            weekday = 1.15 if day.weekday() < 5 else 0.6
            scale = self.stream.scale
            count = max(0, int(rng.gauss(DAILY_MEAN * scale * season * weekday, 6 * math.sqrt(scale))))
            start = day_start(day)
            cases: list[DemoCase] = []
            for n in range(count):
                # Working hours carry most reports.
                hour = min(23.99, max(0.0, rng.gauss(13, 3.5)))
                draft, story = factory.new_dispute(start + timedelta(hours=hour), f"{self.stream.ref_prefix}-{day:%Y%m%d}-{n:04d}")
                cases.append(factory.plan(draft, story))
            slots = random.Random(f"{self.seed}:{day.isoformat()}:repeat-slots")
            repeats = {n for n in range(count) if slots.random() < REPEAT_SHARE}
            self._new[day] = (cases, repeats)
            for old in [d for d in self._new if d < day - REPEAT_WITHIN - timedelta(days=2)]:
                del self._new[old]
        return self._new[day]

    def day(self, day: date) -> list[DemoCase]:
        """Every case of the day (``now`` not applied), repeats in their place."""
        cases, repeats = self._new_disputes(day)
        if not repeats:
            return cases
        earlier = [case for d in range(REPEAT_WITHIN.days + 1, -1, -1)
                   for case in self._kept(day - timedelta(days=d))]
        rng = random.Random(f"{self.seed}:{day.isoformat()}:repeats")
        cases = list(cases)
        for n in sorted(repeats):
            at, ref = cases[n].draft.received_at, cases[n].draft.external_ref
            originals = [c for c in earlier if at - REPEAT_WITHIN <= c.draft.received_at <= at - REPEAT_AFTER]
            if originals:
                original = rng.choice(originals)
                again = self.factory.plan(self.factory.repeat(rng, original, at, ref), original.story, rng)
                cases[n] = replace(again, repeats=original.draft.external_ref)
        return cases

    def _kept(self, day: date) -> list[DemoCase]:
        """The day's new disputes that are written as such (not replaced by a repeat)."""
        cases, repeats = self._new_disputes(day)
        return [case for n, case in enumerate(cases) if n not in repeats]


def _already_written(service: CaseService, plans: list[DemoCase]) -> bool:
    """Whether any of the day's references exists under any source: a day written by an earlier
    version (other sources drawn for the same references) counts too."""
    refs = [plan.draft.external_ref for plan in plans]
    with service.sessions() as session:
        found = session.execute(select(Case.id).where(Case.source.in_([s.value for s in Source]),
                                                      Case.external_ref.in_(refs)).limit(1)).first()
    return found is not None


def _write_history(session: Session, service: CaseService, plan: DemoCase, now: datetime, check_since: datetime) -> Case:
    """One case with its steps up to ``now``, as the write path would have stored it; received from
    ``check_since`` on, it gets the arrival check too (its possible duplicates)."""
    case, event = new_case(plan.draft, service.place(plan.draft.grid_code), actor="受理窗口", now=plan.draft.received_at, rules=service.rules)
    cases.add(session, case, event)
    if service.arrival is not None and plan.draft.received_at >= check_since:
        service.arrival.on_arrival(session, case, now=plan.draft.received_at)
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
    each stamped with ``clock()``. :data:`REPEAT_SHARE` of the new cases repeat a dispute this feed
    reported in the last :data:`REPEAT_WITHIN` (and at least :data:`REPEAT_AFTER` before)."""
    return live_counties(lambda: [(service, 1.0)], rate=rate, seed=seed, limit=limit, clock=clock)


FedCounties = Callable[[], Sequence[tuple[CaseService, float]]]
"""The counties a live feed writes to, each with its weight (the demo county 1.0, another county
its size against it, :func:`scale_for`)."""


@dataclass
class _Feed:
    """One county's part of the live feed: its write path, its share, the disputes it may repeat."""

    service: CaseService
    weight: float
    factory: CaseFactory
    recent: deque[DemoCase] = field(default_factory=lambda: deque(maxlen=REPEAT_POOL))


def live_counties(counties: FedCounties, *, rate: float = 1.0, seed: int | None = None, limit: int | None = None,
                  clock: Clock = system_clock, refresh_seconds: float = 60.0) -> int:
    """:func:`live` over several counties: each gets about ``rate`` × its weight changes per second,
    through its own write path. ``counties()`` is asked again every ``refresh_seconds``, so a county
    onboarded while the feed runs joins it. Each county repeats only disputes it reported itself.
    With one county this draws exactly what :func:`live` always drew for a seed."""
    rng = random.Random(seed)
    feeds: dict[str, _Feed] = {}

    def refresh() -> None:
        try:
            fed = list(counties())
        except SQLAlchemyError:
            log.warning("live feed: could not list the counties; keeping %d", len(feeds), exc_info=True)
            return
        for service, weight in fed:
            feed = feeds.get(service.county_code)
            if feed is not None:
                feed.weight = weight
                continue
            suffix = f":{service.county_code}" if feeds else ""
            words = random.Random(f"{seed}:words{suffix}") if seed is not None else None
            feeds[service.county_code] = _Feed(service, weight, CaseFactory(service, rng, words))
            if len(feeds) > 1:
                log.info("live feed: county %s joins (weight %.2f)", service.county_code, weight)

    refresh()
    refreshed = time.monotonic()
    done = 0
    while limit is None or done < limit:
        if time.monotonic() - refreshed >= refresh_seconds:
            refresh()
            refreshed = time.monotonic()
        active = [feed for feed in feeds.values() if feed.weight > 0]
        if not active:
            time.sleep(refresh_seconds)
            refreshed = 0.0
            continue
        time.sleep(rng.expovariate(rate * sum(feed.weight for feed in active)))
        feed = active[0] if len(active) == 1 else rng.choices(active, weights=[f.weight for f in active])[0]
        _live_change(feed, rng, clock())
        done += 1
    return done


def _live_change(feed: _Feed, rng: random.Random, now: datetime) -> None:
    """One change of the live feed in ``feed``'s county: a new case (now and then a repeat of a
    dispute it reported before), or the next step of one of its open cases."""
    service, factory, recent = feed.service, feed.factory, feed.recent
    try:
        if rng.random() < 0.55:
            ref = f"live-{now:%Y%m%d%H%M%S%f}-{rng.randrange(10**6)}"
            originals = [c for c in recent if now - REPEAT_WITHIN <= c.draft.received_at <= now - REPEAT_AFTER]
            if originals and rng.random() < REPEAT_SHARE:
                original = rng.choice(originals)
                draft = factory.repeat(rng, original, now, ref)
            else:
                draft, story = factory.new_dispute(now, ref)
                recent.append(DemoCase(draft, [], story))
            service.submit(draft, actor="受理窗口", now=now)
        else:
            _advance_random_case(service, rng, now)
    except TransitionError as error:
        log.info("skipped a move: %s", error)


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
