"""The domain's closed word lists (DESIGN.md "Words"); values are stored in the database as-is."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    county = "county"
    township = "township"
    village = "village"


class Status(StrEnum):
    received = "received"
    assessed = "assessed"
    dispatched = "dispatched"
    mediating = "mediating"
    resolved = "resolved"
    followed_up = "followed_up"


CLOSED_STATUSES = frozenset({Status.resolved, Status.followed_up})


class Source(StrEnum):
    hotline_12345 = "hotline_12345"
    petition = "petition"
    grid_report = "grid_report"
    walk_in = "walk_in"
    online = "online"
    police_110 = "police_110"
    court = "court"
    other = "other"


class Category(StrEnum):
    marriage_family = "marriage_family"
    neighbour = "neighbour"
    land = "land"
    labour_wages = "labour_wages"
    debt = "debt"
    demolition = "demolition"
    property_mgmt = "property_mgmt"
    consumer = "consumer"
    medical = "medical"
    traffic = "traffic"
    environment = "environment"
    other = "other"


class AlertLevel(StrEnum):
    blue = "blue"
    yellow = "yellow"
    orange = "orange"
    red = "red"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {AlertLevel.blue: 1, AlertLevel.yellow: 2, AlertLevel.orange: 3, AlertLevel.red: 4}


class Residency(StrEnum):
    resident = "resident"
    rotating = "rotating"
    on_call = "on_call"


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    neutral = "neutral"
    dissatisfied = "dissatisfied"


class Action(StrEnum):
    """Everything that can happen to a case; each one writes an event."""

    receive = "receive"
    import_ = "import"
    """A case brought in by a bulk import, straight into the state its file gives: one event, at
    the time of the import, instead of invented times for steps the file does not record."""
    assess = "assess"
    dispatch = "dispatch"
    mediate = "mediate"
    resolve = "resolve"
    follow_up = "follow_up"
    escalate = "escalate"
    supervise = "supervise"
    reopen = "reopen"
    acknowledge = "acknowledge"
    assign = "assign"
