"""What Open311 clients send: a service request's fields (form-encoded or JSON) and the filters of
``GET requests.json``, validated into plain values; a refusal is an :class:`Open311Error`.

The POST route reads its body itself (so an Open311 client gets Open311's error shape), hence
FastAPI cannot document it: the JSON schemas here do, for clients and the API fuzzer.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl

from fastapi import Request

from dashboard.api.open311_errors import Open311Error
from dashboard.cases import personal_data
from dashboard.domain.errors import FieldError
from dashboard.domain.masking import PartyDetails, fold
from dashboard.domain.periods import FIRST_DAY, LAST_DAY, LOCAL_TZ, day_start
from dashboard.domain.vocabulary import Category

MAX_RESULTS = 1000
MAX_IDS = 50
"""How many ``service_request_id`` values one read may name (400 beyond)."""
RETRY_WINDOW = timedelta(seconds=60)
"""A report without an id of its own that repeats one from the same caller within this long is a retry."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
"""The client's own id of a POST (IETF httpapi draft): a retry with it returns the first request."""
MAX_IDEMPOTENCY_KEY = 128
WINDOW = timedelta(days=90)
MAX_DESCRIPTION = 4000
DERIVED_REF_PREFIX = "open311-"


def _text_field(description: str, max_length: int | None = None) -> dict[str, object]:
    field: dict[str, object] = {"type": "string", "description": description}
    if max_length is not None:
        field["maxLength"] = max_length
    return field


SUBMISSION_FIELDS: dict[str, dict[str, object]] = {
    "api_key": _text_field("a source system's token (`python -m dashboard clients add`)"),
    "service_code": {"type": "string", "enum": [c.value for c in Category], "description": "a code from services.json"},
    "jurisdiction_id": _text_field("the county code; optional"),
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84; goes with long"},
    "long": {"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84; goes with lat"},
    "attribute[grid_code]": _text_field("the grid, instead of (or checked against) lat and long", 20),
    "attribute[external_ref]": _text_field("the caller's own id: a retry with it returns the first request", 64),
    "address_string": _text_field("personal data: stored, never shown publicly; cannot locate a request",
                                  personal_data.LIMITS["address"]),
    "address_id": _text_field("not used for locating; give lat and long or attribute[grid_code]"),
    "description": _text_field("free text; public reads mask names, phones, ID numbers and addresses in it",
                               MAX_DESCRIPTION),
    "first_name": _text_field("personal data, with last_name at most 64 characters"),
    "last_name": _text_field("personal data"),
    "phone": _text_field("personal data", personal_data.LIMITS["party_phone"]),
    "email": _text_field("not stored; tells two reporters apart when a retry is recognised"),
    "device_id": _text_field("not stored; tells two reporters apart when a retry is recognised"),
    "account_id": _text_field("not stored; tells two reporters apart when a retry is recognised"),
    "media_url": _text_field("accepted and not stored"),
}
SUBMISSION_SCHEMA: dict[str, object] = {"type": "object", "required": ["api_key", "service_code"],
                                        "properties": SUBMISSION_FIELDS, "additionalProperties": {"type": "string"}}
"""``POST requests.json``'s fields. The route reads its body itself (so an Open311 client gets
Open311's error shape), hence FastAPI cannot document it; this schema does, for clients and the
API fuzzer. Other fields are ignored; a JSON body may also group the attributes as
``{"attribute": {"grid_code": …}}``, and its values are strings or numbers (null: left out)."""
JSON_SUBMISSION_SCHEMA: dict[str, object] = {
    **SUBMISSION_SCHEMA, "additionalProperties": {"type": ["string", "number", "null"]},
    "properties": {**SUBMISSION_FIELDS, "attribute": {
        "type": "object", "additionalProperties": {"type": ["string", "number", "null"]},
        "properties": {"grid_code": SUBMISSION_FIELDS["attribute[grid_code]"],
                       "external_ref": SUBMISSION_FIELDS["attribute[external_ref]"]}}}}
ERRORS_SCHEMA: dict[str, object] = {"type": "array", "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}}
CREATED_SCHEMA: dict[str, object] = {"type": "array", "minItems": 1, "maxItems": 1, "items": {
    "type": "object", "required": ["service_request_id", "service_notice", "account_id"],
    "properties": {"service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
                   "account_id": {"type": "null"}}}}
SUBMISSION_OPENAPI: dict[str, object] = {
    "requestBody": {"required": True, "content": {
        "application/x-www-form-urlencoded": {"schema": SUBMISSION_SCHEMA},
        "application/json": {"schema": JSON_SUBMISSION_SCHEMA}}},
}
XML_BODY: dict[str, object] = {"text/xml": {"schema": {"type": "string"}}}
"""An XML answer, as OpenAPI names it: a document of the GeoReport v2 elements (``open311_xml``)."""
XML_SUBMISSION_RESPONSES: dict[int | str, dict[str, object]] = {
    201: {"description": "the request was created: <service_requests><request>…", "content": XML_BODY},
    200: {"description": "a retry: the request first created", "content": XML_BODY},
    400: {"description": "a field is missing or wrong: <errors><error>…", "content": XML_BODY},
    403: {"description": "api_key missing, unknown or revoked", "content": XML_BODY},
}
SUBMISSION_RESPONSES: dict[int | str, dict[str, object]] = {
    201: {"description": "the request was created", "content": {"application/json": {"schema": CREATED_SCHEMA}}},
    200: {"description": "a retry: the request first created", "content": {"application/json": {"schema": CREATED_SCHEMA}}},
    400: {"description": "a field is missing or wrong", "content": {"application/json": {"schema": ERRORS_SCHEMA}}},
    403: {"description": "api_key missing, unknown or revoked", "content": {"application/json": {"schema": ERRORS_SCHEMA}}},
}


def parse_w3c(value: str, name: str, *, end: bool = False) -> datetime:
    """A W3C date or date-time as a UTC instant; a bare date covers that whole local day.

    A '+' in an unencoded query string arrives as a space, so '… 08:00' at the end means '+08:00'.
    """
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    out_of_range = Open311Error(400, f"{name} must lie between {FIRST_DAY} and {LAST_DAY}")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise Open311Error(400, f"{name} is not a valid date: {value!r}") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise out_of_range
        return day_start(day + timedelta(days=1)) - timedelta(microseconds=1) if end else day_start(day)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-11-22T09:30:00+08:00") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs a UTC offset, e.g. 2026-11-22T09:30:00+08:00")
    if not FIRST_DAY <= moment.date() <= LAST_DAY:  # before converting: year 1 or 9999 overflows
        raise out_of_range
    moment = moment.astimezone(UTC)
    if not FIRST_DAY <= moment.astimezone(LOCAL_TZ).date() <= LAST_DAY:
        raise out_of_range
    return moment


def check_jurisdiction(jurisdiction_id: str | None, counties: Sequence[str]) -> str | None:
    """The county a request names as its jurisdiction, which must be one of ``counties`` (the
    served counties the caller may use): naming another is asking for a jurisdiction we do not
    have (404). ``None`` when the request names none."""
    if not jurisdiction_id:
        return None
    named = jurisdiction_id.strip()
    if named not in counties:
        served = ", ".join(counties[:5]) + (" …" if len(counties) > 5 else "")
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} is not served here; this endpoint serves "
                                f"{served or 'no county'}")
    return named


def category_of(service_code: str) -> Category:
    try:
        return Category(service_code.strip())
    except ValueError:
        raise Open311Error(400, f"service_code {service_code!r} is not one of: {', '.join(c.value for c in Category)}") from None


def _ref(material: list[object]) -> str:
    text = json.dumps(material, ensure_ascii=False)
    return DERIVED_REF_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def derived_refs(client_id: int, submission: Submission, now: datetime) -> tuple[str, str]:
    """The case references of a report without an id of its own: this minute's and the previous minute's.

    Open311 gives a report no id, so a retry is recognised by its content: the same client, the
    same reporter (:attr:`Submission.reporter`: name, phone, e-mail, device_id, account_id), the
    same service, place and description. Two people reporting the same thing in the same
    minute stay two cases. The reference names the minute of receipt; the route also looks up the
    previous minute's, so a retry that crosses a minute boundary within :data:`RETRY_WINDOW` is
    still the first case.
    """
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    content: list[object] = [client_id, submission.reporter, submission.category.value, submission.lat,
                             submission.long, submission.grid_code, submission.description]
    return _ref([*content, minute.isoformat()]), _ref([*content, (minute - timedelta(minutes=1)).isoformat()])


def keyed_ref(client_id: int, idempotency_key: str) -> str:
    """The case reference of a report sent with the client's own ``Idempotency-Key``: any retry, any time later."""
    return _ref([client_id, "idempotency-key", idempotency_key])


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    """The client's ``Idempotency-Key`` header, if any: printable ASCII, at most 128 characters.

    ``X-Request-ID`` is not used: proxies make a new one for every request they forward, which
    would turn every retry into a new case.
    """
    value = headers.get(IDEMPOTENCY_HEADER.lower(), "").strip()
    if not value:
        return None
    if len(value) > MAX_IDEMPOTENCY_KEY or not re.fullmatch(r"[\x21-\x7e]+", value):
        raise Open311Error(400, f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return value


@dataclass(frozen=True)
class Submission:
    """A POSTed service request after validation.

    The reporter's name, phone and address are kept as the case's personal data (masked
    everywhere, never in a GET here: Open311 reads are public); the e-mail is not kept.
    ``reporter`` is a hash of who reports (name, phone, e-mail, device_id, account_id), only to
    tell two reporters' identical reports apart (:func:`derived_refs`).
    """

    category: Category
    description: str
    lat: float | None
    long: float | None
    grid_code: str | None
    external_ref: str | None
    party: PartyDetails = PartyDetails()
    reporter: str = ""


def field_text(fields: Mapping[str, str], name: str) -> str | None:
    """A field's trimmed text; missing or blank is ``None``."""
    value = fields.get(name, "").strip()
    return value or None


def _coordinate(fields: Mapping[str, str], name: str, limit: float) -> float | None:
    raw = field_text(fields, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number (WGS84), not {raw!r}") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, f"{name} must lie between -{limit:g} and {limit:g}")
    return value


def parse_submission(fields: Mapping[str, str]) -> Submission:
    """Validate a POST's fields; a grid code (``attribute[grid_code]``) may replace lat and long."""
    service_code = field_text(fields, "service_code")
    if service_code is None:
        raise Open311Error(400, "service_code is required")
    category = category_of(service_code)
    lat, long = _coordinate(fields, "lat", 90), _coordinate(fields, "long", 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long go together")
    grid_code = field_text(fields, "attribute[grid_code]")
    if lat is None and grid_code is None:
        if field_text(fields, "address_string") or field_text(fields, "address_id"):
            raise Open311Error(400, "addresses cannot be located here; send lat and long, or attribute[grid_code]")
        raise Open311Error(400, "a location is required: lat and long, or attribute[grid_code]")
    description = fields.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is limited to {MAX_DESCRIPTION} characters")
    name = "".join(part for part in (field_text(fields, "last_name"), field_text(fields, "first_name")) if part)
    try:
        party = personal_data.clean_party(party_name=name or None, party_phone=field_text(fields, "phone"),
                                          address=field_text(fields, "address_string"))
    except FieldError as error:
        raise Open311Error.of(error) from None
    return Submission(category=category, description=description, lat=lat, long=long, grid_code=grid_code,
                      external_ref=field_text(fields, "attribute[external_ref]"), party=party,
                      reporter=_reporter(fields))


def _reporter(fields: Mapping[str, str]) -> str:
    """Who reports, as a hash: the fields normalised so a retry spelled the same way matches
    (names without spaces, phones by their digits, e-mail in lower case)."""
    name = re.sub(r"\s", "", (field_text(fields, "last_name") or "") + (field_text(fields, "first_name") or ""))
    phone = re.sub(r"[^0-9]", "", fold(field_text(fields, "phone") or ""))
    email = (field_text(fields, "email") or "").lower()
    material = json.dumps([name, phone, email, field_text(fields, "device_id"), field_text(fields, "account_id")],
                          ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _flatten_json(body: object) -> dict[str, str]:
    """A JSON body as form fields; ``{"attribute": {"k": v}}`` becomes ``attribute[k]``."""
    if not isinstance(body, dict):
        raise Open311Error(400, "a JSON body must be an object of fields")
    fields: dict[str, str] = {}
    for name, value in body.items():
        if name == "attribute" and isinstance(value, dict):
            fields.update(_flatten_json({f"attribute[{k}]": v for k, v in value.items()}))
        elif value is None:
            continue
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            raise Open311Error(400, f"{name} must be a string or a number")
    return fields


async def read_fields(request: Request) -> dict[str, str]:
    """The POST's fields from a form-encoded or JSON body; query parameters fill in what the body lacks."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, "the body must be UTF-8") from None
    if content_type == "application/json":
        try:
            fields = _flatten_json(json.loads(text) if text.strip() else {})
        except json.JSONDecodeError:
            raise Open311Error(400, "the body is not valid JSON") from None
        except RecursionError:  # a few thousand nested brackets exhaust the parser's stack
            raise Open311Error(400, "the JSON body is nested too deeply") from None
    elif content_type in ("application/x-www-form-urlencoded", ""):
        try:
            fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))
        except ValueError:
            raise Open311Error(400, "the form has too many fields") from None
    else:
        raise Open311Error(400, "send the request as application/x-www-form-urlencoded or application/json")
    return {**dict(request.query_params), **fields}


@dataclass(frozen=True)
class RequestQuery:
    """The filters of ``GET requests.json``; ``ids`` overrides every other filter, as the spec says."""

    ids: tuple[int, ...] = ()
    categories: frozenset[Category] = frozenset()
    closed: bool | None = None
    start: datetime | None = None
    end: datetime | None = None


def is_request_id(text: str) -> bool:
    """Our ids are positive 64-bit integers; anything else cannot name a case (and must not reach SQL)."""
    return re.fullmatch(r"[0-9]{1,18}", text) is not None


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def request_query(*, service_request_id: str | None = None, service_code: str | None = None, status: str | None = None,
                  start_date: str | None = None, end_date: str | None = None, now: datetime) -> RequestQuery:
    """Parse the filters; without dates, the last 90 days; a range may span 90 days at most."""
    ids = _listed(service_request_id)
    if ids:
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values at once")
        if not all(is_request_id(i) for i in ids):
            raise Open311Error(400, "service_request_id must be comma-separated numbers")
        return RequestQuery(ids=tuple(int(i) for i in ids))
    categories = frozenset(category_of(code) for code in _listed(service_code))
    statuses = set(_listed(status))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open, closed or both (comma-separated)")
    closed = None if len(statuses) != 1 else statuses == {"closed"}
    start = parse_w3c(start_date, "start_date") if start_date else None
    end = parse_w3c(end_date, "end_date", end=True) if end_date else None
    if start is None:
        start = (end or now) - WINDOW
    elif end is None:
        end = start + WINDOW
    if end is not None and end < start:
        raise Open311Error(400, "end_date lies before start_date")
    if end is not None and end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return RequestQuery(categories=categories, closed=closed, start=start, end=end)
