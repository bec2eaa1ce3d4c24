"""Open311 GeoReport v2 (JSON) over our cases, for citizen apps and hotlines that already speak it.

Open311 clients expect their own error shape (a JSON array of ``{code, description}``) and
form-encoded POSTs, while the app renders pydantic's validation errors in the ingest API's shape.
So this router reads and validates its input itself and converts its errors inside each route:
an Open311 client never sees ``{"errors": [...]}``, and no other route changes behaviour.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from shapely import from_geojson
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dashboard.cases import personal_data
from dashboard.cases.casework import CaseDraft, CaseInputError
from dashboard.api.ingest import GridLookup
from dashboard.domain.masking import PartyDetails, mask_text
from dashboard.domain.periods import day_start
from dashboard.runtime import Runtime
from dashboard.domain.periods import LOCAL_TZ
from dashboard.access.tokens import token_hash
from dashboard.domain.vocabulary import CLOSED_STATUSES, Category, Source, Status
from data_access import api_clients, areas, cases
from data_access.models import ApiClient, Case

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00+08:00"
"""When this interface last changed; clients compare it to refresh cached service lists."""
CONTACT = "县矛盾纠纷调处化解中心（矛调中心）指挥中心值班室"
KEY_SERVICE = ("api_key 由县矛调中心指挥中心签发（python -m dashboard clients add --name NAME --source SOURCE）；"
               "来源系统的来源（source）即其上报案件的来源。")
AGENCY = "矛调中心"
GROUP = "矛盾纠纷"
MAX_RESULTS = 1000
WINDOW = timedelta(days=90)
MAX_DESCRIPTION = 4000
DERIVED_REF_PREFIX = "open311-"
PUBLIC_DECIMALS = 3
"""Decimals of the public lat/long: 0.001° is about 110 m north-south and 80 m east-west here."""


@dataclass(frozen=True)
class ServiceInfo:
    """How one category is presented as an Open311 service."""

    name: str
    description: str
    keywords: tuple[str, ...]


SERVICES: dict[Category, ServiceInfo] = {
    Category.marriage_family: ServiceInfo("婚姻家庭", "婚姻、赡养、抚养、继承等家庭矛盾", ("婚姻", "离婚", "赡养", "抚养", "继承")),
    Category.neighbour: ServiceInfo("邻里纠纷", "相邻关系、噪音、通行、采光等邻里矛盾", ("邻里", "相邻", "噪音", "通行")),
    Category.land: ServiceInfo("土地纠纷", "承包地、宅基地、林地的权属与流转纠纷", ("土地", "承包地", "宅基地", "林地")),
    Category.labour_wages: ServiceInfo("劳资纠纷", "拖欠工资、劳动合同、工伤待遇等劳动争议", ("欠薪", "工资", "劳动合同", "工伤")),
    Category.debt: ServiceInfo("债务纠纷", "借贷、欠款、担保等债权债务纠纷", ("借款", "欠款", "债务", "担保")),
    Category.demolition: ServiceInfo("征地拆迁", "征地补偿、房屋拆迁与安置纠纷", ("征地", "拆迁", "补偿", "安置")),
    Category.property_mgmt: ServiceInfo("物业管理", "物业服务、物业费、小区公共事务纠纷", ("物业", "物业费", "小区")),
    Category.consumer: ServiceInfo("消费纠纷", "商品质量、服务合同、预付卡等消费争议", ("消费", "退款", "质量", "预付卡")),
    Category.medical: ServiceInfo("医疗纠纷", "医患矛盾、医疗损害赔偿纠纷", ("医疗", "医患", "赔偿")),
    Category.traffic: ServiceInfo("交通事故", "道路交通事故损害赔偿纠纷", ("交通事故", "车祸", "赔偿")),
    Category.environment: ServiceInfo("环境污染", "噪声、废水、废气、垃圾等环境污染纠纷", ("污染", "噪声", "废水", "废气")),
    Category.other: ServiceInfo("其他", "其他矛盾纠纷与诉求", ("其他",)),
}

STATUS_NOTES: dict[Status, str] = {
    Status.received: "已受理", Status.assessed: "已研判", Status.dispatched: "已分流",
    Status.mediating: "调处中", Status.resolved: "已办结", Status.followed_up: "已回访",
}


class Open311Error(Exception):
    """A refusal in Open311's shape; routes turn it into a response themselves."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.status, self.description), status_code=self.status)


def error_body(status: int, description: str) -> list[dict[str, object]]:
    return [{"code": status, "description": description}]


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
    "email": _text_field("accepted and not stored"),
    "device_id": _text_field("accepted and not stored"),
    "account_id": _text_field("accepted and not stored"),
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
SUBMISSION_RESPONSES: dict[int | str, dict[str, object]] = {
    201: {"description": "the request was created", "content": {"application/json": {"schema": CREATED_SCHEMA}}},
    200: {"description": "a retry: the request first created", "content": {"application/json": {"schema": CREATED_SCHEMA}}},
    400: {"description": "a field is missing or wrong", "content": {"application/json": {"schema": ERRORS_SCHEMA}}},
    403: {"description": "api_key missing, unknown or revoked", "content": {"application/json": {"schema": ERRORS_SCHEMA}}},
}


def guarded(work: Callable[[], JSONResponse]) -> JSONResponse:
    """Run a route's work, answering an ``Open311Error`` in Open311's shape."""
    try:
        return work()
    except Open311Error as error:
        return error.response()


def w3c(moment: datetime | None) -> str | None:
    """Local time with its offset: Open311 clients show it as is, and our users live in UTC+8."""
    return None if moment is None else moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def parse_w3c(value: str, name: str, *, end: bool = False) -> datetime:
    """A W3C date or date-time as a UTC instant; a bare date covers that whole local day.

    A '+' in an unencoded query string arrives as a space, so '… 08:00' at the end means '+08:00'.
    """
    text = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise Open311Error(400, f"{name} is not a valid date: {value!r}") from None
        return day_start(day + timedelta(days=1)) - timedelta(microseconds=1) if end else day_start(day)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-11-22T09:30:00+08:00") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} needs a UTC offset, e.g. 2026-11-22T09:30:00+08:00")
    return moment.astimezone(UTC)


def check_jurisdiction(jurisdiction_id: str | None, county_code: str) -> None:
    """We serve one county; naming another one is asking for a jurisdiction we do not have."""
    if jurisdiction_id and jurisdiction_id.strip() != county_code:
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} is not served here; this endpoint serves {county_code}")


def service_out(category: Category) -> dict[str, object]:
    info = SERVICES[category]
    return {
        "service_code": category.value, "service_name": info.name, "description": info.description,
        "metadata": False, "type": "realtime", "keywords": ",".join(info.keywords), "group": GROUP,
    }


def services_out() -> list[dict[str, object]]:
    return [service_out(category) for category in Category]


def category_of(service_code: str) -> Category:
    try:
        return Category(service_code.strip())
    except ValueError:
        raise Open311Error(400, f"service_code {service_code!r} is not one of: {', '.join(c.value for c in Category)}") from None


def request_status(status: str) -> str:
    """Open311 knows open and closed only; resolved and followed-up cases are closed."""
    return "closed" if Status(status) in CLOSED_STATUSES else "open"


def service_notice(case: Case) -> str:
    if Status(case.status) in CLOSED_STATUSES:
        return "已办结"
    due = case.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return f"{STATUS_NOTES[Status(case.status)]}，当前环节办理时限 {due}"


def request_out(case: Case, point: tuple[float, float] | None = None) -> dict[str, object]:
    """One case as an Open311 service request; ``point`` (lon, lat) stands in for a case without a position.

    Open311 reads are public, so no personal data goes out: ``address`` stays empty, the party's
    name, phone and ID number are never part of a request, the description is masked like every
    other view (``masking.mask_text``) and the position is rounded to about 100 m, which shows
    the neighbourhood of a dispute but not the door.
    """
    category = Category(case.category)
    lon: float | None = None
    lat: float | None = None
    if case.lon is not None and case.lat is not None:
        lon, lat = round(case.lon, PUBLIC_DECIMALS), round(case.lat, PUBLIC_DECIMALS)
    elif point is not None:
        lon, lat = round(point[0], PUBLIC_DECIMALS), round(point[1], PUBLIC_DECIMALS)
    return {
        "service_request_id": str(case.id),
        "status": request_status(case.status),
        "status_notes": STATUS_NOTES[Status(case.status)],
        "service_name": SERVICES[category].name,
        "service_code": category.value,
        "description": mask_text(case.description, [personal_data.party_of(case)]),
        "agency_responsible": AGENCY,
        "service_notice": service_notice(case),
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.due_at),
        "address": "",
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": None,
    }


def derived_ref(client_id: int, service_code: str, lat: float | None, long: float | None, grid_code: str | None,
                description: str, now: datetime) -> str:
    """Open311 has no external id: the same report from the same client within one minute is a retry."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    material = json.dumps([client_id, service_code, lat, long, grid_code, description, minute], ensure_ascii=False)
    return DERIVED_REF_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class Submission:
    """A POSTed service request after validation.

    The reporter's name, phone and address are kept as the case's personal data (masked
    everywhere, never in a GET here: Open311 reads are public); the e-mail is not kept.
    """

    category: Category
    description: str
    lat: float | None
    long: float | None
    grid_code: str | None
    external_ref: str | None
    party: PartyDetails = PartyDetails()


def _text(fields: Mapping[str, str], name: str) -> str | None:
    value = fields.get(name, "").strip()
    return value or None


def _coordinate(fields: Mapping[str, str], name: str, limit: float) -> float | None:
    raw = _text(fields, name)
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
    service_code = _text(fields, "service_code")
    if service_code is None:
        raise Open311Error(400, "service_code is required")
    category = category_of(service_code)
    lat, long = _coordinate(fields, "lat", 90), _coordinate(fields, "long", 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long go together")
    grid_code = _text(fields, "attribute[grid_code]")
    if lat is None and grid_code is None:
        if _text(fields, "address_string") or _text(fields, "address_id"):
            raise Open311Error(400, "addresses cannot be located here; send lat and long, or attribute[grid_code]")
        raise Open311Error(400, "a location is required: lat and long, or attribute[grid_code]")
    description = fields.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is limited to {MAX_DESCRIPTION} characters")
    name = "".join(part for part in (_text(fields, "last_name"), _text(fields, "first_name")) if part)
    try:
        party = personal_data.clean_party(party_name=name or None, party_phone=_text(fields, "phone"),
                                          address=_text(fields, "address_string"))
    except personal_data.PartyInputError as error:
        names = {"party_name": "first_name and last_name", "party_phone": "phone", "address": "address_string"}
        raise Open311Error(400, f"{names.get(error.field, error.field)} {error.message}") from None
    return Submission(category=category, description=description, lat=lat, long=long, grid_code=grid_code,
                      external_ref=_text(fields, "attribute[external_ref]"), party=party)


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
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id values at once")
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


class GridPoints:
    """A representative point per grid, for cases reported by grid code only; rebuilt after a re-import."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._points: dict[str, tuple[float, float]] = {}

    def points(self, session: Session, county: str) -> dict[str, tuple[float, float]]:
        record = areas.get_county(session, county)
        stamp = record.imported_at.isoformat() if record else ""
        with self._lock:
            if self._key != (county, stamp):
                points: dict[str, tuple[float, float]] = {}
                for code, _, _, geometry in areas.grid_geometries(session, county):
                    point = from_geojson(geometry).representative_point()
                    points[code] = (round(point.x, 6), round(point.y, 6))
                self._points, self._key = points, (county, stamp)
            return self._points


def build_open311_api(rt: Runtime, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                      lookup: GridLookup | None = None) -> APIRouter:
    """The GeoReport v2 routes; ``clock`` is injectable so tests can pin the retry window."""
    router = APIRouter(prefix=PREFIX, tags=["open311"])
    lookup = lookup or GridLookup(rt)
    grid_points = GridPoints(rt)

    def authenticate(api_key: str | None) -> ApiClient:
        if not api_key:
            raise Open311Error(403, "api_key is required to post a service request")
        with rt.sessions() as session:
            found = api_clients.find_active(session, token_hash(api_key))
        if found is None:
            raise Open311Error(403, "api_key is unknown or revoked")
        return found

    def locate(submission: Submission, county: str) -> str:
        if submission.lat is None or submission.long is None:
            assert submission.grid_code is not None
            return submission.grid_code
        located = lookup.locate(county, submission.long, submission.lat)
        if located is None:
            raise Open311Error(400, f"lat/long lies outside every grid of county {county}")
        if submission.grid_code is not None and submission.grid_code != located:
            raise Open311Error(400, f"lat/long lies in grid {located}, not in attribute[grid_code] {submission.grid_code}")
        return located

    def submit(fields: Mapping[str, str]) -> tuple[Case, bool]:
        who = authenticate(_text(fields, "api_key"))
        county = rt.cases.county_code
        check_jurisdiction(_text(fields, "jurisdiction_id"), county)
        submission = parse_submission(fields)
        grid = locate(submission, county)
        now = clock()
        ref = submission.external_ref or derived_ref(
            who.id, submission.category.value, submission.lat, submission.long, submission.grid_code,
            submission.description, now)
        try:
            draft = CaseDraft(source=Source(who.source), external_ref=ref, category=submission.category, received_at=now,
                              grid_code=grid, description=submission.description, lon=submission.long, lat=submission.lat)
            return personal_data.submit(rt, draft, submission.party, actor=who.name, now=now)
        except CaseInputError as error:
            field = f"attribute[{error.field}]" if error.field in ("grid_code", "external_ref") else error.field
            raise Open311Error(400, f"{field}: {error.message}") from None

    def requests_out(session: Session, found: Sequence[Case]) -> list[dict[str, object]]:
        unplaced = any(c.lon is None or c.lat is None for c in found)
        points = grid_points.points(session, rt.cases.county_code) if unplaced else {}
        return [request_out(case, points.get(case.grid_code)) for case in found]

    @router.get("/discovery.json")
    def discovery(request: Request) -> JSONResponse:
        """Where and how this endpoint speaks GeoReport v2."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "changeset": CHANGESET, "contact": CONTACT, "key_service": KEY_SERVICE,
            "endpoints": [{"specification": SPECIFICATION, "url": base + PREFIX, "changeset": CHANGESET,
                           "type": "production", "formats": ["application/json"]}],
        })

    @router.get("/services.json")
    def services(jurisdiction_id: Annotated[str | None, Query()] = None) -> JSONResponse:
        """One service per case category."""
        def work() -> JSONResponse:
            check_jurisdiction(jurisdiction_id, rt.cases.county_code)
            return JSONResponse(services_out())
        return guarded(work)

    @router.post("/requests.json", openapi_extra=SUBMISSION_OPENAPI, responses=SUBMISSION_RESPONSES,
                 status_code=201)
    async def post_request(request: Request) -> JSONResponse:
        """Report a case; a retry within the minute (or with the same attribute[external_ref]) returns the first case."""
        try:
            fields = await read_fields(request)
            case, created = await run_in_threadpool(submit, fields)
        except Open311Error as error:
            return error.response()
        body = [{"service_request_id": str(case.id), "service_notice": service_notice(case), "account_id": None}]
        return JSONResponse(body, status_code=201 if created else 200)

    @router.get("/requests.json")
    def get_requests(
        jurisdiction_id: Annotated[str | None, Query()] = None,
        service_request_id: Annotated[str | None, Query()] = None,
        service_code: Annotated[str | None, Query()] = None,
        start_date: Annotated[str | None, Query()] = None,
        end_date: Annotated[str | None, Query()] = None,
        status: Annotated[str | None, Query()] = None,
    ) -> JSONResponse:
        """Service requests, newest first: the last 90 days unless dated, at most 1000."""
        def work() -> JSONResponse:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            query = request_query(service_request_id=service_request_id, service_code=service_code, status=status,
                                  start_date=start_date, end_date=end_date, now=clock())
            with rt.sessions() as session:
                return JSONResponse(requests_out(session, cases.find(session, county, ids=query.ids, categories=[c.value for c in query.categories],
                                                         closed=query.closed, start=query.start, end=query.end,
                                                         limit=MAX_RESULTS)))
        return guarded(work)

    @router.get("/requests/{service_request_id}.json")
    def get_request(service_request_id: str, jurisdiction_id: Annotated[str | None, Query()] = None) -> JSONResponse:
        """One service request, as a one-element array."""
        def work() -> JSONResponse:
            county = rt.cases.county_code
            check_jurisdiction(jurisdiction_id, county)
            with rt.sessions() as session:
                case = cases.get(session, int(service_request_id)) if is_request_id(service_request_id) else None
                if case is None or case.county_code != county:
                    raise Open311Error(404, f"no service request {service_request_id!r}")
                return JSONResponse(requests_out(session, [case]))
        return guarded(work)

    @router.get("/{rest:path}", include_in_schema=False)
    def unknown(rest: str) -> JSONResponse:
        """Anything else under the prefix (e.g. the .xml formats) gets an Open311 404, not the screens' page."""
        return Open311Error(404, f"no resource {rest!r}; this endpoint serves GeoReport v2 in JSON (.json) only").response()

    return router
