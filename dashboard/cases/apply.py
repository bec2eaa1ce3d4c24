"""The one apply-and-publish step every writer runs after its commit.

A writer commits its cases to the database first; this then applies their contributions to the
Redis aggregates (which bumps the aggregate version) and publishes that version once on the
county's change channel, so every server process learns of the write in one message.

Applying is idempotent: each case's last applied contribution is recorded, so a case applied
twice counts once. While a rebuild is under way the aggregates refuse the case with
:class:`data_access.aggregates.RebuildUnderWay`, a ``redis.RedisError``: like any Redis error it
reaches the writer, who owes the case (``CaseService``) or retries (the import) and applies it
after the rebuild. Nothing here swallows an error; deciding what is owed is the writer's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import redis
from sqlalchemy.exc import SQLAlchemyError

from dashboard.domain.contributions import Contribution, contribution
from dashboard.domain.rules import Rules
from data_access import aggregates, redis_changes
from data_access.models import Case

OUTAGE_ERRORS = (redis.RedisError, OSError, SQLAlchemyError)
"""What applying may meet after the commit (``RebuildUnderWay`` included); none of it may fail a
write that is already stored: the writer owes or retries the cases instead."""

Applicable = Sequence[tuple[int, Contribution]] | aggregates.NewCases
"""What can be applied: (case id, contribution) pairs, or a bulk insert prepared ahead of time."""


def contributions(cases: Iterable[Case], rules: Rules) -> list[tuple[int, Contribution]]:
    """Each committed case's contribution to the aggregates, computed from its current row."""
    return [(case.id, contribution(case, rules)) for case in cases]


def apply_and_publish(client: redis.Redis, county: str, cases: Applicable, *, fresh: bool = False) -> int | None:
    """Apply committed cases to ``county``'s aggregates, then publish the new version once.

    ``cases`` are (id, contribution) pairs or a prepared bulk insert (:class:`aggregates.NewCases`).
    Pairs are applied one case at a time, each in its own optimistic transaction; with
    ``fresh=True`` (cases just inserted in bulk, e.g. an import) they go in one MULTI/EXEC
    instead, and a case that turns out to have a record already is still applied by difference.

    Returns the aggregate version published, or ``None`` when pairs applied one at a time were
    none (then nothing is published). Raises what Redis raises, ``RebuildUnderWay`` included.
    """
    if isinstance(cases, aggregates.NewCases):
        version: int | None = aggregates.apply_prepared(client, county, cases)
    elif fresh:
        version = aggregates.apply_new_cases(client, county, cases)
    else:
        version = None
        for case_id, contrib in cases:
            version = aggregates.apply_case(client, county, case_id, contrib)
    if version is not None:
        redis_changes.publish_change(client, county, version)
    return version
