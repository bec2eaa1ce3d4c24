"""Write flow: one database transaction, then the Redis aggregates, then one publish.

The database is the truth: if Redis is down the write still lands and succeeds. The writer's
transaction also records the touched cases in the outbox (``data_access.outbox``); the rows are
deleted once Redis took the cases. While this process owes any, it queues every later write
behind them instead of waiting on a dead Redis, and a repair thread drains the outbox
(idempotently, from the cases' current rows) once Redis answers; a Redis that came back empty is
first rebuilt from SQL. Rows left by a process that died are drained by any other process, at
its start and periodically (``dashboard.cases.outbox_drain``): nobody has to run ``cache rebuild``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.cases.apply import OUTAGE_ERRORS, apply_and_publish, contributions
from dashboard.cases.casework import CaseDraft, act, new_case
from dashboard.cases.duplicates import ArrivalCheck
from dashboard.domain.clock import Clock, system_clock
from dashboard.domain.periods import FIRST_DAY, LAST_DAY, as_utc, local_date
from dashboard.domain.errors import FieldError
from dashboard.domain.masking import PartyDetails
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action
from data_access import aggregates, areas, cases, outbox
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent

log = logging.getLogger(__name__)

REPAIR_BATCH = 500
"""Owed cases re-applied per transaction (their rows stay locked while they are applied)."""
__all__ = ["OUTAGE_ERRORS", "REPAIR_BATCH", "CaseService"]


@contextmanager
def _session(sessions: sessionmaker[Session], given: Session | None) -> Iterator[Session]:
    """The caller's session if it has one (a request's), else a session of our own for this call."""
    if given is not None:
        yield given
        return
    with sessions() as session:
        yield session


def supported(moment: datetime, field: str) -> None:
    """Refuse a time whose day lies outside ``FIRST_DAY``..``LAST_DAY`` (a 422): stored, a case
    dated 9999 would freeze its later actions, and one dated year 1 breaks every day key and the
    arithmetic of its deadlines. The written date is checked before any conversion, which would
    overflow at the ends of the calendar."""
    message = f"must lie between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
    if not FIRST_DAY <= moment.date() <= LAST_DAY:
        raise FieldError(field, message)
    if not FIRST_DAY <= local_date(moment) <= LAST_DAY:
        raise FieldError(field, message)


class CaseService:
    """Every writer's entry point; one instance per process is enough.

    Each public write takes an optional ``session``: a request that already holds one passes it,
    so the request uses one session from start to end. The write is one transaction on that
    session, committed here; the apply-and-publish (:mod:`dashboard.cases.apply`) runs after the
    commit.
    """

    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis, rules: Rules, county_code: str, *,
                 ensure_built: Callable[[], None] | None = None, retry_seconds: float = 0.5,
                 clock: Clock = system_clock, max_skew: timedelta = timedelta(minutes=5)) -> None:
        self.sessions = sessions
        self.redis = client
        self.rules = rules
        self.county_code = county_code
        self.ensure_built = ensure_built
        """Rebuilds an empty Redis from SQL before owed cases are re-applied (``None``: apply as is)."""
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.max_skew = max_skew
        """How far ahead of this process's clock an action's time may lie; later is refused."""
        self._places: dict[str, GridPlace] | None = None
        self._behind: set[int] = set()
        """Outbox rows this process queued behind an outage, until a drain settles them."""
        self._owed_lock = threading.Lock()
        self._repairer: threading.Thread | None = None

    def places(self, session: Session | None = None) -> dict[str, GridPlace]:
        """Every grid of the county with its village and township, read once per process."""
        if self._places is None:
            with _session(self.sessions, session) as db:
                self._places = areas.grid_places(db, self.county_code)
        return self._places

    def place(self, grid_code: str, session: Session | None = None) -> GridPlace:
        try:
            return self.places(session)[grid_code]
        except KeyError:
            raise FieldError("grid_code", f"no grid {grid_code!r} in county {self.county_code}") from None

    def write(self, work: Callable[[Session], Iterable[Case]], *, session: Session | None = None) -> list[Case]:
        """Run ``work`` in one transaction and commit it; after the commit, push the touched cases.

        The same transaction records the touched cases in the outbox (``data_access.outbox``):
        should this process die before Redis took them, any process applies them later.

        A caller's session may hold a read transaction (a request that looked things up first):
        it is ended before ``work`` runs, so the write is a transaction of its own, begun by its
        own statements (SQLite cannot turn a stale read snapshot into a write).
        """
        with _session(self.sessions, session) as db:
            if db.in_transaction():
                db.commit()
            try:
                touched = list(work(db))
                owed = outbox.owe(db, self.county_code, [case.id for case in touched], as_utc(self.clock()))
                db.commit()
            except BaseException:
                db.rollback()
                raise
            self.push(touched, owed=owed, session=db)
        return touched

    def push(self, touched: Iterable[Case], *, owed: Sequence[int] | None = None,
             session: Session | None = None) -> int | None:
        """Apply committed cases to the aggregates, announce the new version, settle their outbox rows.

        ``owed`` are the outbox rows the write recorded for them (``None``: none were recorded, so
        a failure records them now); they are settled in ``session`` (the writer's, so a request
        keeps its one session) in a short transaction of their own. Returns ``None`` when Redis
        could not take them: they stay owed and the repair thread (or any process's drain)
        applies them later.
        """
        touched = list(touched)
        with self._owed_lock:
            if self._behind:  # queue behind what is owed: order is kept and no write waits on Redis
                self._behind.update(owed if owed is not None else self._record([case.id for case in touched]))
                self._start_repairer()
                return None
        try:
            version = apply_and_publish(self.redis, self.county_code, contributions(touched, self.rules))
        except OUTAGE_ERRORS:
            log.warning("Redis update failed after commit; %d case(s) owed until Redis answers", len(touched),
                        exc_info=True)
            with self._owed_lock:
                self._behind.update(owed if owed is not None else self._record([case.id for case in touched]))
                self._start_repairer()
            return None
        if owed:
            with _session(self.sessions, session) as db:
                try:
                    outbox.settle(db, owed)
                    db.commit()
                except SQLAlchemyError:  # the rows stay: a later drain re-applies them, which changes nothing
                    log.warning("could not settle %d outbox row(s); a drain will", len(owed), exc_info=True)
                    with suppress(SQLAlchemyError):
                        db.rollback()
        return version

    def owe(self, case_ids: Sequence[int]) -> int:
        """Record committed cases Redis did not take (a bulk import that gave up waiting) in the
        outbox, so any process's drain applies them; returns how many rows were recorded."""
        return len(self._record(list(case_ids)))

    def _record(self, case_ids: list[int]) -> list[int]:
        """Outbox rows for cases pushed without any (best effort: the database may be away too)."""
        try:
            with self.sessions() as db, db.begin():
                return outbox.owe(db, self.county_code, case_ids, as_utc(self.clock()))
        except SQLAlchemyError:
            log.error("could not record %d owed case(s); `cache rebuild` restores them", len(case_ids), exc_info=True)
            return []

    def owed(self) -> int:
        """How many committed cases of the county still wait for their aggregates (0 in normal
        operation), whichever process wrote them: the outbox's count."""
        with self.sessions() as db:
            return outbox.owed_cases(db, self.county_code)

    def _start_repairer(self) -> None:
        """Under ``_owed_lock``: one repair thread, restarted if an unexpected error ended it."""
        if self._repairer is None or not self._repairer.is_alive():
            self._repairer = threading.Thread(target=self._repair, name="aggregate-repair", daemon=True)
            self._repairer.start()

    def _repair(self) -> None:
        """Until this process's owed rows are applied: wait for Redis, rebuild it if it came back
        empty, drain the outbox (other processes' rows included)."""
        while True:
            try:
                self.redis.ping()
                self.drain()
                if self._caught_up():
                    log.info("owed aggregates re-applied; writes update Redis directly again")
                    return
            except OUTAGE_ERRORS:
                log.debug("aggregate repair: Redis or the database still unavailable", exc_info=True)
            time.sleep(self.retry_seconds)

    def _caught_up(self) -> bool:
        """Whether every row this process queued is gone. Decided under ``_owed_lock``, so a write
        that arrives meanwhile is either queued and drained by the next pass or, after, applied
        directly."""
        with self._owed_lock:
            if self._behind:
                with self.sessions() as db:
                    self._behind &= outbox.still_owed(db, sorted(self._behind))
            if self._behind:
                return False
            self._repairer = None
            return True

    def drain(self, *, older_than: timedelta | None = None) -> int:
        """Apply every case the outbox holds for this county, oldest first, and settle the rows;
        returns how many rows were settled. Any process may call it at any time.

        Each batch is one transaction: the owed rows and their cases are locked, the cases are
        applied from their current rows (idempotent, so a case applied already counts once) and the
        rows deleted. A failure rolls the batch back; its rows stay for the next drain. A Redis that
        came back empty is rebuilt from SQL first. ``older_than`` leaves the rows of writes still in
        flight to their writers (the periodic drain passes a few seconds).
        """
        if self.ensure_built is not None and not aggregates.is_built(self.redis, self.county_code):
            self.ensure_built()
        settled = 0
        while True:
            before = as_utc(self.clock()) - older_than if older_than is not None else None
            with self.sessions() as session, session.begin():
                rows = outbox.pending(session, self.county_code, limit=REPAIR_BATCH, before=before)
                if not rows:
                    return settled
                ids = sorted({case_id for _, case_id in rows})
                found = session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id).with_for_update()).all()
                apply_and_publish(self.redis, self.county_code, contributions(found, self.rules))
                outbox.settle(session, [row_id for row_id, _ in rows])
            settled += len(rows)

    arrival: ArrivalCheck | None = None
    """Party keys, repeat callers and duplicate candidates of each new case, in its transaction
    (``dashboard.cases.duplicates``); the runtime sets it, ``None`` skips them."""

    def _arrived(self, session: Session, case: Case, now: datetime) -> list[Case]:
        if self.arrival is not None:
            self.arrival.on_arrival(session, case, now=now)
        return []

    def submit(self, draft: CaseDraft, *, actor: str, now: datetime | None = None,
               party: PartyDetails | None = None, session: Session | None = None) -> tuple[Case, bool]:
        """Record a new case (with its parties' personal data, if any); a repeat of
        (source, external_ref) returns the first case unchanged."""
        now = now or self.clock()
        supported(draft.received_at, "received_at")
        ref = draft.external_ref.strip()
        with _session(self.sessions, session) as db:
            place = self.place(draft.grid_code, db)
            existing = cases.get_by_source_ref(db, draft.source.value, ref)
            if existing is not None:
                return existing, False
            try:
                case, event = new_case(draft, place, actor=actor, now=now, rules=self.rules)
                for field, value in (party.as_dict().items() if party else ()):
                    setattr(case, field, value)
                self.write(lambda s: [cases.add(s, case, event), *self._arrived(s, case, now)], session=db)
                return case, True
            except IntegrityError:
                existing = cases.get_by_source_ref(db, draft.source.value, ref)
                if existing is None:
                    raise
                return existing, False

    def act(self, case_id: int, action: Action, *, actor: str, at: datetime | None = None,
            only_if: Callable[[Case], bool] | None = None, also: Callable[[Session, CaseEvent], object] | None = None,
            session: Session | None = None, **details: object) -> CaseEvent | None:
        """Apply one lifecycle action to a stored case, under a row lock.

        ``only_if`` is checked under that lock, so rule-driven actions (the scheduler's) stay
        idempotent when several processes race; it returns ``None`` when the check fails.
        ``also`` runs in the same transaction after the event is written (an audit entry).
        """
        at = at or self.clock()
        supported(at, "at")
        if as_utc(at) > self.clock() + self.max_skew:
            raise FieldError("at", "lies in the future")
        recorded: list[CaseEvent] = []

        def work(db: Session) -> list[Case]:
            case = cases.get(db, case_id, for_update=True)
            if case is None:
                raise FieldError("case_id", f"no case {case_id}", code="not_found")
            if only_if is not None and not only_if(case):
                return []
            recorded.append(cases.add_event(db, act(case, action, actor=actor, at=at, rules=self.rules, **details)))  # type: ignore[arg-type]
            if also is not None:
                also(db, recorded[-1])
            return [case]

        self.write(work, session=session)
        return recorded[0] if recorded else None
