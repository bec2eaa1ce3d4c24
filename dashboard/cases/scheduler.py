"""The clock's side of the loop: keep stored alert levels current, supervise and escalate late cases.

Runs for every county the deployment serves (a city or a province serves many), each county on
its own: one county's failed tick is logged and the others still run. Safe with several app
processes: one Redis lock per county makes a single process do each county's tick, and every rule
is re-checked under the case's row lock, so a repeated tick changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

from dashboard.cases.periodic import CountyRuns, PeriodicThread, for_each_county
from dashboard.domain.alerts import case_alert
from dashboard.domain.contributions import case_facts
from dashboard.domain.rules import Rules
from dashboard.domain.vocabulary import Action, Tier
from dashboard.warnings import job as warnings_job
from data_access import cases
from data_access import redis_keys as keys
from data_access.models import Case

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)
ACTOR = "system:scheduler"


@dataclass(frozen=True)
class TickReport:
    ran: bool
    relevelled: int = 0
    supervised: int = 0
    escalated: int = 0


def needs_supervision(case: Case, now: datetime, rules: Rules) -> bool:
    return (case.resolved_at is None and not case.supervised
            and now - case.due_at >= timedelta(hours=rules.supervise_after_overdue_hours))


def needs_escalation(case: Case, now: datetime, rules: Rules) -> bool:
    return (case.resolved_at is None and case.status != "received" and case.tier != Tier.county.value
            and now - case.due_at >= timedelta(days=rules.escalate_after_overdue_days))


def tick(rt: Runtime, *, now: datetime | None = None, county: str | None = None) -> TickReport:
    """One pass over the open cases of every served county (or of ``county`` only), summed:
    ``ran`` when this process ticked at least one county (another held the others' locks)."""
    runs = tick_counties(rt, now=now, counties=[county] if county is not None else None)
    done = list(runs.done.values())
    return TickReport(any(r.ran for r in done), sum(r.relevelled for r in done), sum(r.supervised for r in done),
                      sum(r.escalated for r in done))


def tick_counties(rt: Runtime, *, now: datetime | None = None, counties: list[str] | None = None) -> CountyRuns[TickReport]:
    """One pass for each of ``counties`` (default: every served county), each county's report apart;
    a county whose tick raised is in ``failed`` and the others still ran."""
    moment = now or rt.clock()
    return for_each_county(rt, lambda county: tick_county(rt, county, moment), job="scheduler", counties=counties)


def tick_county(rt: Runtime, county: str, now: datetime) -> TickReport:
    """One pass over the open cases of ``county``, unless another process holds its lock."""
    lock = rt.redis.lock(keys.scheduler_lock(county), timeout=max(30.0, rt.rules.scheduler_interval_seconds * 2))
    if not lock.acquire(blocking=False):
        return TickReport(ran=False)
    try:
        return _tick(rt, county, now)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            log.warning("scheduler lock of county %s expired during a tick", county)


def _tick(rt: Runtime, county: str, now: datetime) -> TickReport:
    rules = rt.rules
    service = rt.case_service(county)
    relevelled = supervised = escalated = 0
    with rt.sessions() as session, session.begin():
        for case in cases.open_cases(session, county):
            alert = case_alert(case_facts(case), now=now, rules=rules)
            level = alert.level.value if alert else None
            reasons = ",".join(alert.reasons) if alert else ""
            if (case.alert_level, case.alert_reasons) != (level, reasons):
                case.alert_level, case.alert_reasons = level, reasons
                relevelled += 1
        late = [(c.id, needs_supervision(c, now, rules), needs_escalation(c, now, rules))
                for c in cases.open_cases(session, county)]
    for case_id, supervise, escalate in late:
        if escalate and service.act(case_id, Action.escalate, actor=ACTOR, at=now, note="超期自动上报",
                                     only_if=lambda c: needs_escalation(c, now, rules)):
            escalated += 1
        if supervise and service.act(case_id, Action.supervise, actor=ACTOR, at=now, note="超期自动督办",
                                     only_if=lambda c: needs_supervision(c, now, rules)):
            supervised += 1
    return TickReport(True, relevelled, supervised, escalated)


def scheduler_thread(rt: Runtime) -> PeriodicThread:
    """The clock's side of the loop inside an app process: ``tick`` every
    ``scheduler_interval_seconds`` for every served county, then the early-warning job (one
    process per county per ``[warnings] interval_minutes``); a failed tick (of one county or all)
    does not keep the warnings from running."""

    def work() -> None:
        try:
            for county, report in tick_counties(rt).done.items():
                if report.supervised or report.escalated:
                    log.info("scheduler %s: %s", county, report)
        except Exception:  # noqa: BLE001 - a bad tick must not stop the early warnings
            log.exception("scheduler tick failed")
        warnings_job.run(rt)

    return PeriodicThread("case-scheduler", work, rt.rules.scheduler_interval_seconds)
