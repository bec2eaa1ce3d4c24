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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.cases.casework import CaseDraft, CaseInputError, act, new_case
from dashboard.domain.contributions import contribution
from dashboard.domain.masking import PartyDetails
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action
from data_access import aggregates, areas, cases
from data_access import redis_keys as keys
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent

log = logging.getLogger(__name__)

REPAIR_BATCH = 500
"""Owed cases re-applied per transaction (their rows stay locked while they are applied)."""
OUTAGE_ERRORS = (redis.RedisError, OSError, SQLAlchemyError)
"""What a push may meet after the commit; none of it may fail a write that is already stored."""


class CaseService:
    """Every writer's entry point; one instance per process is enough."""

    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis, rules: Rules, county_code: str, *,
                 ensure_built: Callable[[], None] | None = None, retry_seconds: float = 0.5) -> None:
        self.sessions = sessions
        self.redis = client
        self.rules = rules
        self.county_code = county_code
        self.ensure_built = ensure_built
        """Rebuilds an empty Redis from SQL before owed cases are re-applied (``None``: apply as is)."""
        self.retry_seconds = retry_seconds
        self._places: dict[str, GridPlace] | None = None
        self._owed: set[int] = set()
        self._owed_lock = threading.Lock()
        self._repairer: threading.Thread | None = None

    def places(self) -> dict[str, GridPlace]:
        if self._places is None:
            with self.sessions() as session:
                self._places = areas.grid_places(session, self.county_code)
        return self._places

    def place(self, grid_code: str) -> GridPlace:
        try:
            return self.places()[grid_code]
        except KeyError:
            raise CaseInputError("grid_code", f"no grid {grid_code!r} in county {self.county_code}") from None

    def write(self, work: Callable[[Session], Iterable[Case]]) -> list[Case]:
        """Run ``work`` in one transaction; after commit, push the touched cases to Redis."""
        with self.sessions() as session, session.begin():
            touched = list(work(session))
        self.push(touched)
        return touched

    def push(self, touched: Iterable[Case]) -> int | None:
        """Apply committed cases to the aggregates and announce the new version.

        Returns ``None`` when Redis could not take them: they are owed and re-applied later.
        """
        touched = list(touched)
        if self._owe_if_behind(case.id for case in touched):
            return None
        version = None
        try:
            for case in touched:
                version = aggregates.apply_case(self.redis, self.county_code, case.id, contribution(case, self.rules))
            if version is not None:
                self.redis.publish(keys.changes_channel(self.county_code), str(version))
        except OUTAGE_ERRORS:
            log.warning("Redis update failed after commit; %d case(s) owed until Redis answers", len(touched),
                        exc_info=True)
            self._owe(case.id for case in touched)
            return None
        return version

    def push_new(self, created: Iterable[Case]) -> int | None:
        """``push`` for a batch of cases created by one bulk transaction (imports)."""
        created = list(created)
        if self._owe_if_behind(case.id for case in created):
            return None
        try:
            version = aggregates.apply_new_cases(
                self.redis, self.county_code, ((case.id, contribution(case, self.rules)) for case in created)
            )
            self.redis.publish(keys.changes_channel(self.county_code), str(version))
            return version
        except OUTAGE_ERRORS:
            log.warning("Redis update failed after commit; %d case(s) owed until Redis answers", len(created),
                        exc_info=True)
            self._owe(case.id for case in created)
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
            version = None
            with self.sessions() as session, session.begin():
                rows = session.scalars(select(Case).where(Case.id.in_(batch)).with_for_update()).all()
                for case in rows:
                    version = aggregates.apply_case(self.redis, self.county_code, case.id,
                                                    contribution(case, self.rules))
            if version is not None:
                self.redis.publish(keys.changes_channel(self.county_code), str(version))
            with self._owed_lock:
                self._owed.difference_update(batch)

    def submit(self, draft: CaseDraft, *, actor: str, now: datetime | None = None,
               party: PartyDetails | None = None) -> tuple[Case, bool]:
        """Record a new case (with its parties' personal data, if any); a repeat of
        (source, external_ref) returns the first case unchanged."""
        now = now or datetime.now(UTC)
        place = self.place(draft.grid_code)
        with self.sessions() as session:
            existing = cases.get_by_source_ref(session, draft.source.value, draft.external_ref.strip())
            if existing is not None:
                return existing, False
        try:
            case, event = new_case(draft, place, actor=actor, now=now, rules=self.rules)
            for field, value in (party.as_dict().items() if party else ()):
                setattr(case, field, value)
            self.write(lambda session: [cases.add(session, case, event)])
            return case, True
        except IntegrityError:
            with self.sessions() as session:
                existing = cases.get_by_source_ref(session, draft.source.value, draft.external_ref.strip())
            if existing is None:
                raise
            return existing, False

    def act(self, case_id: int, action: Action, *, actor: str, at: datetime | None = None,
            only_if: Callable[[Case], bool] | None = None, also: Callable[[Session, CaseEvent], object] | None = None,
            **details: object) -> CaseEvent | None:
        """Apply one lifecycle action to a stored case, under a row lock.

        ``only_if`` is checked under that lock, so rule-driven actions (the scheduler's) stay
        idempotent when several processes race; it returns ``None`` when the check fails.
        ``also`` runs in the same transaction after the event is written (an audit entry).
        """
        at = at or datetime.now(UTC)
        recorded: list[CaseEvent] = []

        def work(session: Session) -> list[Case]:
            case = cases.get(session, case_id, for_update=True)
            if case is None:
                raise CaseInputError("case_id", f"no case {case_id}")
            if only_if is not None and not only_if(case):
                return []
            recorded.append(cases.add_event(session, act(case, action, actor=actor, at=at, rules=self.rules, **details)))  # type: ignore[arg-type]
            if also is not None:
                also(session, recorded[-1])
            return [case]

        self.write(work)
        return recorded[0] if recorded else None
