"""Write flow: one database transaction, then the Redis aggregates, then one publish.

The database is the truth: if Redis is down the write still lands, and the aggregates are
repaired by the next rebuild (on start, or ``python -m dashboard cache rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dashboard.casework import CaseDraft, CaseInputError, act, new_case
from dashboard.contributions import contribution
from dashboard.rules import Rules
from dashboard.vocabulary import Action
from data_access import aggregates, areas, cases
from data_access import redis_keys as keys
from data_access.areas import GridPlace
from data_access.models import Case, CaseEvent

log = logging.getLogger(__name__)


class CaseService:
    """Every writer's entry point; one instance per process is enough."""

    def __init__(self, sessions: sessionmaker[Session], client: redis.Redis, rules: Rules, county_code: str) -> None:
        self.sessions = sessions
        self.redis = client
        self.rules = rules
        self.county_code = county_code
        self._places: dict[str, GridPlace] | None = None

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
        """Apply committed cases to the aggregates and announce the new version."""
        version = None
        try:
            for case in touched:
                version = aggregates.apply_case(self.redis, self.county_code, case.id, contribution(case, self.rules))
            if version is not None:
                self.redis.publish(keys.changes_channel(self.county_code), str(version))
        except redis.RedisError:
            log.exception("Redis update failed after commit; aggregates will be rebuilt from SQL")
        return version

    def push_new(self, created: Iterable[Case]) -> int | None:
        """``push`` for a batch of cases created by one bulk transaction (imports)."""
        try:
            version = aggregates.apply_new_cases(
                self.redis, self.county_code, ((case.id, contribution(case, self.rules)) for case in created)
            )
            self.redis.publish(keys.changes_channel(self.county_code), str(version))
            return version
        except redis.RedisError:
            log.exception("Redis update failed after commit; aggregates will be rebuilt from SQL")
            return None

    def submit(self, draft: CaseDraft, *, actor: str, now: datetime | None = None) -> tuple[Case, bool]:
        """Record a new case; a repeat of (source, external_ref) returns the first case unchanged."""
        now = now or datetime.now(UTC)
        place = self.place(draft.grid_code)
        with self.sessions() as session:
            existing = cases.get_by_source_ref(session, draft.source.value, draft.external_ref.strip())
            if existing is not None:
                return existing, False
        try:
            case, event = new_case(draft, place, actor=actor, now=now, rules=self.rules)
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
