"""The process-wide objects built from settings: engine, sessions, Redis client, rules."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashboard.cases.cache_ops import ensure_aggregates
from dashboard.cases.case_service import CaseService
from dashboard.cases.duplicates import ArrivalCheck, party_key_secret
from dashboard.domain.clock import Clock, system_clock
from dashboard.domain.rules import Rules, load_rules
from dashboard.settings import Settings
from data_access import areas, redis_keys, regions
from data_access.database import make_engine, make_session_factory
from data_access.redis_connection import connect, start_embedded_redis


class NoCountyError(RuntimeError):
    """The database holds no county yet: run ``python -m dashboard county import``."""


@dataclass
class Runtime:
    settings: Settings
    clock: Clock = field(default=system_clock)
    """Every "now" of the process comes from here; tests pass a pinned clock."""

    def __post_init__(self) -> None:
        if self.settings.redis_namespace:
            redis_keys.use_namespace(self.settings.redis_namespace)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def redis_url(self) -> str:
        """The configured Redis, or the embedded one (started on first use)."""
        return self.settings.redis_url or start_embedded_redis(self.settings.var_dir)

    @cached_property
    def redis(self) -> redis.Redis:
        return connect(self.redis_url)

    @cached_property
    def redis_admin(self) -> redis.Redis:
        """For long operations (a rebuild writes in one MULTI/EXEC that can take many seconds)."""
        return connect(self.redis_url, socket_timeout=None)

    @cached_property
    def rules(self) -> Rules:
        return load_rules(self.settings.rules_file)

    def county_code(self) -> str:
        """The configured county, or the only one imported."""
        with self.sessions() as session:
            county = areas.get_county(session, self.settings.county_code)
        if county is None:
            raise NoCountyError("no county in the database; run `python -m dashboard county import`")
        return county.code

    def served_counties(self, session: Session | None = None) -> list[str]:
        """Every imported county this deployment serves (inside ``settings.area``), by code.

        Read from the database on each call (in ``session`` when given: a request keeps its one
        session): a county imported while the app runs is served at once."""
        if session is not None:
            return regions.county_codes(session, self.settings.area)
        with self.sessions() as own:
            return regions.county_codes(own, self.settings.area)

    def case_service(self, county: str) -> CaseService:
        """The write path of one served county, built once per process (under a lock: request
        threads ask at once, and two services of one county would each keep their own queue of
        writes owed to Redis); ``cases`` is the default county's, the same object."""
        with self._services_lock:
            service = self._services.get(county)
            if service is None:
                service = self._services[county] = self._make_service(county)
            return service

    _services: dict[str, CaseService] = field(default_factory=dict, init=False, repr=False, compare=False)
    _services_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @cached_property
    def cases(self) -> CaseService:
        return self.case_service(self.county_code())

    def _make_service(self, county: str) -> CaseService:
        service = CaseService(self.sessions, self.redis, self.rules, county, clock=self.clock,
                              max_skew=timedelta(seconds=self.settings.clock_skew_seconds),
                              ensure_built=lambda: ensure_aggregates(self, county))
        service.arrival = ArrivalCheck(party_key_secret(self.settings.party_key_secret, self.settings.var_dir),
                                       self.rules)
        return service

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
        for name in ("redis", "redis_admin"):
            if name in self.__dict__:
                self.__dict__[name].close()
