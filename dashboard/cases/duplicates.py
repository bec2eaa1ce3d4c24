"""What the write path does when a case arrives, inside the case's own transaction: record the
party's keyed hashes, flag a repeat caller, and store the possible duplicates of the case.

``CaseService.submit`` calls :meth:`ArrivalCheck.on_arrival` after the case row is flushed and
before the commit, so a case never exists without its suggestions and a repeat caller's case is
stored (and applied to the aggregates) with its ``repeat_petition`` fact already set. The work is
bounded: two index range scans of a few days, at most ``CANDIDATE_LIMIT`` cases scored
(``bench/duplicate_bench.py`` measures it at a million stored cases).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from dashboard.cases.casework import refresh_alert
from dashboard.domain.party_keys import party_keys
from dashboard.domain.rules import Rules
from dashboard.domain.similarity import CaseSketch, Match, best_matches
from data_access import matters
from data_access.models import Case

SECRET_FILE = "party_key.secret"


def party_key_secret(configured: str | None, var_dir: Path) -> bytes:
    """The deployment's HMAC secret: ``MEDIATION_PARTY_KEY_SECRET`` if set, else a random one kept
    in ``var/party_key.secret`` (created once, readable by the owner only).

    Changing the secret makes every stored key unrecognisable: repeat callers are then counted
    from the change on. A county running several hosts sets the variable on all of them.
    """
    if configured:
        return configured.encode()
    path = var_dir / SECRET_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class Arrival:
    """What the check found for one new case."""

    matches: list[Match]
    party_cases: int
    """Cases of the same person within the repeat-caller window, this one included (0: no key)."""
    repeat_caller: bool
    compared: int = 0
    """Stored cases fetched and scored."""


class ArrivalCheck:
    """Party keys, repeat callers and duplicate candidates for each new case; one per process."""

    def __init__(self, secret: bytes, rules: Rules) -> None:
        if not secret:
            raise ValueError("the party key secret is empty")
        self.secret = secret
        self.rules = rules
        self._grid_index: dict[str, matters.GridIndex] = {}

    def _grids(self, session: Session, county: str) -> matters.GridIndex:
        """The county's grid boxes, read once per process (a county's grids change only when it is
        imported again, and that restarts the app)."""
        if county not in self._grid_index:
            self._grid_index[county] = matters.GridIndex(matters.grid_boxes(session, county))
        return self._grid_index[county]

    def on_arrival(self, session: Session, case: Case, *, now: datetime) -> Arrival:
        """Run in the submit transaction after the case is flushed (it has an id); ``now`` is the
        submit's clock, for the alert recomputed when the case gets the repeat-petition fact."""
        rules = self.rules.matters
        at = case.received_at
        keys = party_keys(self.secret, phone=case.party_phone, id_number=case.party_id_number)
        party_cases, repeat = 0, False
        if keys:
            party_cases = 1 + matters.cases_of_party(
                session, keys, since=at - timedelta(days=rules.repeat_caller_days), until=at)
            repeat = party_cases >= rules.repeat_caller_cases
            if repeat and not case.repeat_petition:
                case.repeat_petition = True
                refresh_alert(case, now=now, rules=self.rules)
            matters.add_party_keys(session, case, keys)
        window = timedelta(days=rules.window_days)
        grids = (self._grids(session, case.county_code).near(case.lon, case.lat, rules.distance_m)
                 if case.lon is not None and case.lat is not None else [])
        others = matters.candidates(
            session, case_id=case.id, village_code=case.village_code,
            categories=sorted({case.category, *rules.related.get(case.category, ())}), lon=case.lon, lat=case.lat,
            grids=grids, keys=keys, window_start=at - window, window_end=at + window,
            recent_since=at - timedelta(days=rules.recent_days), distance_m=rules.distance_m)
        new = CaseSketch(case.id, case.category, case.village_code, at, case.lon, case.lat,
                         (case.description or "")[: matters.TEXT_LIMIT], frozenset(keys))
        best = best_matches(new, others, rules)
        matters.add_suggestions(session, case.id, best, at=at)
        session.flush()
        return Arrival(best, party_cases, repeat, len(others))
