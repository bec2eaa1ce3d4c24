"""Request and response shapes of the ingest API (pydantic validates; OpenAPI documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from dashboard.domain.vocabulary import Action, AlertLevel, Category, Satisfaction, Tier


def storable(value: str) -> str:
    """Text goes into the database verbatim, so refuse what it cannot hold: NUL characters and
    lone UTF-16 surrogates (neither is valid UTF-8 text)."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text must not contain lone surrogates (invalid Unicode)")
    return value


Storable = AfterValidator(storable)


class ErrorItem(BaseModel):
    code: str
    field: str | None
    message: str


class ErrorBody(BaseModel):
    errors: list[ErrorItem]


class Location(BaseModel):
    """Either a grid code, or a WGS84 position that is assigned to its grid."""

    model_config = ConfigDict(extra="forbid")
    grid_code: Annotated[str, Field(min_length=1, max_length=20), Storable] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None

    @model_validator(mode="after")
    def one_kind(self) -> Location:
        has_point = self.lon is not None or self.lat is not None
        if self.grid_code is None and not has_point:
            raise ValueError("give grid_code or lon and lat")
        if has_point and (self.lon is None or self.lat is None):
            raise ValueError("lon and lat go together")
        return self


class CaseIn(BaseModel):
    """A new case from a source system; the source comes from the client's token."""

    model_config = ConfigDict(extra="forbid")
    external_ref: Annotated[str, Field(min_length=1, max_length=64), Storable]
    category: Category
    received_at: AwareDatetime
    location: Location
    people_involved: Annotated[int, Field(ge=1, le=100_000)] = 1
    tier: Tier = Tier.village
    description: Annotated[str, Field(max_length=4000), Storable] = ""
    risk_extreme: bool = False
    risk_mass_incident: bool = False
    beyond_county_petition: bool = False
    repeat_petition: bool = False
    received_by: Annotated[str, Field(min_length=1, max_length=64), Storable] = "api"
    party_name: Annotated[str, Field(max_length=64), Storable] | None = None
    """Personal data: stored as sent, shown masked everywhere, revealed only by a duty officer."""
    party_phone: Annotated[str, Field(max_length=32), Storable] | None = None
    party_id_number: Annotated[str, Field(max_length=32), Storable] | None = None
    address: Annotated[str, Field(max_length=255), Storable] | None = None


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Action
    actor: Annotated[str, Field(min_length=1, max_length=64), Storable]
    at: AwareDatetime | None = None
    note: Annotated[str, Field(max_length=2000), Storable] = ""
    outcome: Annotated[str, Field(max_length=2000), Storable] | None = None
    satisfaction: Satisfaction | None = None
    center_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    """A centre of the county (``GET /api/geo/centers.geojson``); with ``department_id``, one of its departments."""
    department_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class ReasonOut(BaseModel):
    code: str
    text: str


class AlertOut(BaseModel):
    level: AlertLevel
    reasons: list[ReasonOut]


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str


class DuplicateOut(BaseModel):
    """A possible duplicate of a case: its id, the score in [0, 1], the reasons and the officer's decision."""

    case_id: int
    score: float
    reasons: list[ReasonOut]
    state: str


class CaseOut(BaseModel):
    id: int
    source: str
    external_ref: str
    category: str
    status: str
    tier: str
    county_code: str
    township_code: str
    village_code: str
    grid_code: str
    people_involved: int
    received_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolved_tier: str | None
    satisfaction: str | None
    escalated: bool
    supervised: bool
    first_receiver: str
    alert: AlertOut | None
    party_name: str | None = None
    """Masked (张*明); ``POST /api/cases/{id}/reveal`` gives the full value to a duty officer."""
    party_phone: str | None = None
    party_id_number: str | None = None
    address: str | None = None
    events: list[EventOut] = []
    matter_id: int | None = None
    """The matter (事项) this case was merged into; ``None``: the case is its own matter."""
    possible_duplicates: list[DuplicateOut] = []
    """Cases found alike when either arrived, best first (open, dismissed or merged)."""


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=200), Storable] = ""


class RevealOut(BaseModel):
    """The unmasked personal data of one case; every reveal is in the audit log."""

    case_id: int
    party_name: str | None
    party_phone: str | None
    party_id_number: str | None
    address: str | None
    revealed_by: str
    revealed_at: datetime
