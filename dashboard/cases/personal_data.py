"""Personal data on cases: written with the case, read masked, revealed only on purpose and audited.

The write path (``dashboard.cases.case_service``) knows nothing of people; a case with personal data is
built by the same ``new_case`` and written in the same single transaction, with the party details
set on the row before the commit, so a case never exists without the details it came with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from dashboard.access.auth import REVEAL
from dashboard.cases.casework import CaseDraft
from dashboard.domain.errors import FieldError
from dashboard.domain.masking import PartyDetails
from data_access import audit
from data_access.models import Case

if TYPE_CHECKING:
    from dashboard.runtime import Runtime

LIMITS = {"party_name": 64, "party_phone": 32, "party_id_number": 32, "address": 255}


def clean_party(party_name: str | None = None, party_phone: str | None = None, party_id_number: str | None = None,
                address: str | None = None) -> PartyDetails:
    """Trimmed details, empty strings as ``None``; a value over its column's length is refused."""
    values = {"party_name": party_name, "party_phone": party_phone, "party_id_number": party_id_number,
              "address": address}
    cleaned: dict[str, str | None] = {}
    for field, value in values.items():
        text = (value or "").strip() or None
        if text is not None and len(text) > LIMITS[field]:
            raise FieldError(field, f"is limited to {LIMITS[field]} characters")
        cleaned[field] = text
    return PartyDetails(**cleaned)


def party_of(case: Case) -> PartyDetails:
    return PartyDetails(party_name=case.party_name, party_phone=case.party_phone,
                        party_id_number=case.party_id_number, address=case.address)


def submit(rt: Runtime, draft: CaseDraft, party: PartyDetails, *, actor: str,
           now: datetime | None = None, session: Session | None = None, county: str | None = None) -> tuple[Case, bool]:
    """``CaseService.submit`` with personal data: a repeat of (source, external_ref) returns the first case.
    ``county``: the served county the case belongs to (default: the deployment's default county)."""
    service = rt.cases if county is None else rt.case_service(county)
    return service.submit(draft, actor=actor, now=now, party=None if party.is_empty() else party, session=session)


@dataclass(frozen=True)
class Actor:
    """Who asks, for the audit log."""

    name: str
    role: str
    ip: str | None = None


class RevealRefused(PermissionError):
    """Only a duty officer may see personal data in full (``auth.REVEAL``)."""


def reveal(session: Session, case: Case, who: Actor, *, reason: str = "") -> PartyDetails:
    """The unmasked personal data of a case the caller has loaded (and checked may be shown),
    with an audit entry in the caller's transaction.

    The role is checked here as well as at the routes, so no screen can reach the data by a
    path the route table does not name.
    """
    if who.role not in {role.value for role in REVEAL}:
        raise RevealRefused(f"the role {who.role} may not reveal personal data")
    details = party_of(case)
    audit.record(session, actor=who.name, role=who.role, action="reveal", target=f"case:{case.id}",
                 detail={"fields": [k for k, v in details.as_dict().items() if v], "reason": reason[:200]},
                 ip=who.ip)
    return details
