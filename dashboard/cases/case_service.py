"""Write flow: one database transaction, then the Redis aggregates, then one publish.

The database is the truth: if Redis is down the write still lands and succeeds. The process
remembers the cases whose aggregates it could not apply and, while any are owed, sends every
later write the same way instead of waiting on a dead Redis. A repair thread re-applies them
(idempotently, from their current rows) once Redis answers; a Redis that came back empty is
first rebuilt from SQL. Only a process that dies while owing leaves work for ``cache rebuild``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.cases.apply import OUTAGE_ERRORS, apply_and_publish, contributions
from dashboard.cases.casework import CaseDraft, act, new_case
from dashboard.domain.clock import Clock, system_clock
from dashboard.domain.periods import as_utc
from dashboard.domain.errors import FieldError
from dashboard.domain.masking import PartyDetails
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action
from data_access import aggregates, areas, cases
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
        self._owed: set[int] = set()
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

        A caller's session may hold a read transaction (a request that looked things up first):
        it is ended before ``work`` runs, so the write is a transaction of its own, begun by its
        own statements (SQLite cannot turn a stale read snapshot into a write).
        """
        with _session(self.sessions, session) as db:
            if db.in_transaction():
                db.commit()
            try:
                touched = list(work(db))
                db.commit()
            except BaseException:
                db.rollback()
                raise
        self.push(touched)
        return touched

    def push(self, touched: Iterable[Case]) -> int | None:
        """Apply committed cases to the aggregates and announce the new version.

        Returns ``None`` when Redis could not take them: they are owed and re-applied later.
        """
        touched = list(touched)
        if self._owe_if_behind(case.id for case in touched):
            return None
        try:
            return apply_and_publish(self.redis, self.county_code, contributions(touched, self.rules))
        except OUTAGE_ERRORS:
            log.warning("Redis update failed after commit; %d case(s) owed until Redis answers", len(touched),
                        exc_info=True)
            self._owe(case.id for case in touched)
            return None

    def owed(self) -> int:
        """How many committed cases still wait for their aggregates (0 in normal operation)."""
        with self._owed_lock:
            return len(self._owed)

    def _owe_if_behind(self, case_ids: Iterable[int]) -> bool:
        """While cases are owed, queue new ones behind them: order is kept and no write waits on Redis."""
        with self._owed_lock:
            if not self._owed:
                return False
            self._owed.update(case_ids)
            self._start_repairer()
            return True

    def _owe(self, case_ids: Iterable[int]) -> None:
        with self._owed_lock:
            self._owed.update(case_ids)
            self._start_repairer()

    def _start_repairer(self) -> None:
        """Under ``_owed_lock``: one repair thread, restarted if an unexpected error ended it."""
        if self._repairer is None or not self._repairer.is_alive():
            self._repairer = threading.Thread(target=self._repair, name="aggregate-repair", daemon=True)
            self._repairer.start()

    def _repair(self) -> None:
        """Until nothing is owed: wait for Redis, rebuild it if it came back empty, re-apply."""
        while True:
            try:
                self.redis.ping()
                if self.ensure_built is not None and not aggregates.is_built(self.redis, self.county_code):
                    self.ensure_built()
                if self._reapply_owed():
                    log.info("owed aggregates re-applied; writes update Redis directly again")
                    return
            except OUTAGE_ERRORS:
                log.debug("aggregate repair: Redis or the database still unavailable", exc_info=True)
            time.sleep(self.retry_seconds)

    def _reapply_owed(self) -> bool:
        """Re-apply owed cases from their current rows, under row locks so no newer write of the
        same case interleaves.

        Returns ``True`` once nothing is owed. That is decided under ``_owed_lock``, so a write
        that arrives meanwhile is either queued and re-applied here or, after, applied directly.
        """
        while True:
            with self._owed_lock:
                batch = sorted(self._owed)[:REPAIR_BATCH]
                if not batch:
                    self._repairer = None
                    return True
            with self.sessions() as session, session.begin():
                rows = session.scalars(select(Case).where(Case.id.in_(batch)).with_for_update()).all()
                apply_and_publish(self.redis, self.county_code, contributions(rows, self.rules))
            with self._owed_lock:
                self._owed.difference_update(batch)

    def submit(self, draft: CaseDraft, *, actor: str, now: datetime | None = None,
               party: PartyDetails | None = None, session: Session | None = None) -> tuple[Case, bool]:
        """Record a new case (with its parties' personal data, if any); a repeat of
        (source, external_ref) returns the first case unchanged."""
        now = now or self.clock()
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
                self.write(lambda s: [cases.add(s, case, event)], session=db)
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
