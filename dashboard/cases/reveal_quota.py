"""The reveal quota: how many times one duty officer may reveal personal data in any hour.

Revealing is legitimate casework, but a console that reveals case after case is how a leak looks
(a stolen session, an officer copying a list). So every reveal first passes :func:`admit`: the
officer's ``reveal`` entries in the audit log over the last hour are counted, and at the quota
(``Settings.reveal_quota_per_hour``) the reveal is refused. The refusal is audited
(``reveal_refused``), and the first refusal in an hour also writes ``reveal_quota_reached``, the
admin's alert: it heads the admin's audit page (``/admin/audit``) and ``/api/audit``'s ``alerts``.

The count comes from the audit log itself, so it holds across processes and restarts and cannot
disagree with what the log shows. :func:`admit` runs in its own short transaction before the
reveal's, holding the audit chain's lock while it counts; a reveal that starts while another of the
same officer is between its admission and its commit can pass too, so a burst of simultaneous
clicks may exceed the quota by the clicks in flight, never more.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dashboard.cases.personal_data import Actor, RevealRefused
from data_access import audit

WINDOW = timedelta(hours=1)
ALERT = "reveal_quota_reached"
REFUSED = "reveal_refused"


class RevealQuotaReached(RevealRefused):
    """The officer has used the hour's reveals; ``retry_after`` seconds until the oldest leaves the window."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"the quota of {limit} reveals per hour is used up; retry in {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


def admit(session: Session, who: Actor, *, target: str, limit: int, now: datetime) -> None:
    """Let one reveal by ``who`` of ``target`` through, or refuse it with :class:`RevealQuotaReached`.

    Runs and commits its own transaction in ``session`` (which must have none open): a refusal and
    the admin's alert are written even though the reveal never happens."""
    since = now - WINDOW
    with session.begin():
        audit.lock_head(session)  # admissions and appends of every process take turns from here
        used = audit.times_since(session, actor=who.name, action="reveal", since=since)
        if len(used) < limit:
            return
        oldest_counted = used[len(used) - limit] if limit > 0 else now
        retry = max(1, math.ceil((oldest_counted + WINDOW - now).total_seconds()))
        if not audit.times_since(session, actor=who.name, action=ALERT, since=since):
            audit.record(session, actor=who.name, role=who.role, action=ALERT, target=f"user:{who.name}",
                         detail={"limit": limit, "reveals_in_last_hour": len(used)}, ip=who.ip, at=now)
        audit.record(session, actor=who.name, role=who.role, action=REFUSED, target=target,
                     detail={"reason": "quota", "limit": limit, "retry_after": retry}, ip=who.ip, at=now)
    raise RevealQuotaReached(limit, retry)
