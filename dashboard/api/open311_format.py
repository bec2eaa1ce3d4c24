"""What Open311 clients read: discovery, one service per category and its definition, and a case as a
GeoReport v2 service request, as plain values that ``open311`` answers in JSON and ``open311_xml`` in XML.

Open311 reads are public. Without an api_key a request carries no free text at all (no
description, no status notes) and a rounded position; a reader with a valid api_key (a source
system of ours) gets the description masked (``masking.mask_text``: the case's own party, the
parties of every case in the same answer, and the shapes of phones and ID numbers). Names,
phones, ID numbers and addresses are never part of a request either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.cases import personal_data
from dashboard.domain.masking import KnownNames, mask_text
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.vocabulary import CLOSED_STATUSES, Category, Status
from data_access.models import Case

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00+08:00"
"""When this interface last changed; clients compare it to refresh cached service lists."""
CONTACT = "县矛盾纠纷调处化解中心（矛调中心）指挥中心值班室"
KEY_SERVICE = ("api_key 由县矛调中心指挥中心签发（python -m dashboard clients add --name NAME --source SOURCE）；"
               "来源系统的来源（source）即其上报案件的来源。")
AGENCY = "矛调中心"
GROUP = "矛盾纠纷"
PUBLIC_DECIMALS = 3
"""Decimals of the public lat/long: 0.001° is about 110 m north-south and 80 m east-west here."""
SENSITIVE_DECIMALS = 2
"""Decimals of the lat/long of a family or medical dispute read without an api_key (about 1 km):
in a village, 100 m can name the household."""
SENSITIVE = frozenset({Category.marriage_family, Category.medical})
"""Categories whose public position is coarser (``SENSITIVE_DECIMALS``)."""
FORMATS_LISTED = ["text/xml", "application/json"]
"""What discovery lists: XML, which GeoReport v2 requires, and JSON."""


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


def w3c(moment: datetime | None) -> str | None:
    """Local time with its offset: Open311 clients show it as is, and our users live in UTC+8."""
    return None if moment is None else moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def service_out(category: Category) -> dict[str, object]:
    """``metadata`` is true: every service has the optional attributes of :func:`definition_out`."""
    info = SERVICES[category]
    return {
        "service_code": category.value, "service_name": info.name, "description": info.description,
        "metadata": True, "type": "realtime", "keywords": ",".join(info.keywords), "group": GROUP,
    }


ATTRIBUTES: list[dict[str, object]] = [
    {"variable": True, "code": "grid_code", "datatype": "string", "required": False,
     "datatype_description": "15 位网格编码", "order": 1,
     "description": "网格编码：可代替 lat/long；与 lat/long 同时给出时须一致"},
    {"variable": True, "code": "external_ref", "datatype": "string", "required": False,
     "datatype_description": "最多 64 个字符", "order": 2,
     "description": "来源系统自己的编号：带同一编号的重试只受理一次"},
]
"""The ``attribute[...]`` fields a POST may carry, the same for every service."""


def definition_out(category: Category) -> dict[str, object]:
    """A service definition (``services/{code}.json|xml``)."""
    return {"service_code": category.value, "attributes": [dict(a) for a in ATTRIBUTES]}


def services_out() -> list[dict[str, object]]:
    return [service_out(category) for category in Category]


def request_status(status: str) -> str:
    """Open311 knows open and closed only; resolved and followed-up cases are closed."""
    return "closed" if Status(status) in CLOSED_STATUSES else "open"


def service_notice(case: Case) -> str:
    if Status(case.status) in CLOSED_STATUSES:
        return "已办结"
    due = case.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return f"{STATUS_NOTES[Status(case.status)]}，当前环节办理时限 {due}"


def _rounded(lon: float, lat: float, decimals: int) -> tuple[float, float]:
    return round(lon, decimals), round(lat, decimals)


def request_out(case: Case, point: tuple[float, float] | None = None, *, keyed: bool = False,
                others: KnownNames | None = None) -> dict[str, object]:
    """One case as an Open311 service request; ``point`` (lon, lat) stands in for a case without a position.

    ``keyed``: the reader gave a valid api_key. Without one, ``description`` and ``status_notes``
    are empty: no pattern finds every name or every way of writing a phone number, so public
    reads carry no free text at all. With one, the description is masked (``others``: the names
    of other people to mask too, see :func:`requests_out`). The position is rounded for every
    reader to about 100 m, which shows the neighbourhood of a dispute but not the door; a
    family or medical dispute read without a key to about 1 km. ``address`` stays empty.
    """
    category = Category(case.category)
    decimals = SENSITIVE_DECIMALS if category in SENSITIVE and not keyed else PUBLIC_DECIMALS
    lon: float | None = None
    lat: float | None = None
    if case.lon is not None and case.lat is not None:
        lon, lat = _rounded(case.lon, case.lat, decimals)
    elif point is not None:
        lon, lat = _rounded(point[0], point[1], decimals)
    return {
        "service_request_id": str(case.id),
        "status": request_status(case.status),
        "status_notes": STATUS_NOTES[Status(case.status)] if keyed else None,
        "service_name": SERVICES[category].name,
        "service_code": category.value,
        "description": mask_text(case.description, [personal_data.party_of(case)], others) if keyed else None,
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


def requests_out(found: Sequence[Case], points: dict[str, tuple[float, float]], *,
                 names: KnownNames | None = None) -> list[dict[str, object]]:
    """Cases as service requests. ``names``: the reader gave a valid api_key, and these are the
    names of the county's parties, masked in every description (``None``: a public read, no text)."""
    keyed = names is not None
    return [request_out(case, points.get(case.grid_code), keyed=keyed, others=names) for case in found]
