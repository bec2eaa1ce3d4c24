"""The words of a county's ledger (台账): its column headers, its values, its place names.

A ledger names its columns in Chinese (登记时间, 纠纷类型 …) and writes its values as people do
(12345热线, 婚姻家庭, 已办结, 村级). This module holds the built-in table from which a column is
mapped to one of our fields and a value to one of our code names, plus what a county adds in its
own words file (:func:`county_words`). It is pure: the caller reads the file and hands in text.

A value is looked up, in this order: our code name (``land``), the county's own words, the
screens' own labels (``dashboard.domain.labels``: 土地山林, Land), the built-in synonyms. Before
any comparison both sides are normalised (:func:`normal`): full-width characters folded to
half-width (NFKC), spaces dropped, case folded, so ``１２３４５`` is ``12345`` and ``ＡＰＰ`` is ``app``.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dashboard.domain.labels import LABELS
from dashboard.domain.vocabulary import Category, Satisfaction, Source, Status, Tier

FIELDS: tuple[str, ...] = (
    "external_ref", "source", "category", "received_at", "lon", "lat", "grid_code", "township", "village",
    "people_involved", "tier", "status", "resolved_at", "satisfaction", "description",
    "party_name", "party_phone", "party_id_number", "address",
)
"""Every field a ledger column can give, in report order."""

PERSONAL_FIELDS = frozenset({"party_name", "party_phone", "party_id_number", "address"})
"""Personal data: stored with the case (masked in every view), never printed by the import."""

CHOICE_FIELDS: dict[str, type[StrEnum]] = {
    "source": Source, "category": Category, "status": Status, "tier": Tier, "satisfaction": Satisfaction,
}
"""The fields whose values are one of a closed word list."""

HEADERS: dict[str, tuple[str, ...]] = {
    "external_ref": ("案件编号", "登记编号", "编号", "案号", "流水号", "事项编号", "纠纷编号"),
    "received_at": ("登记时间", "受理时间", "登记日期", "受理日期"),
    "source": ("来源", "来源渠道", "渠道", "信息来源", "案件来源"),
    "category": ("纠纷类型", "类别", "案件类别", "矛盾类型", "纠纷类别", "案件类型"),
    "township": ("所属乡镇", "乡镇", "乡镇（街道）", "所属乡镇（街道）", "乡镇街道"),
    "village": ("所属村（社区）", "村（社区）", "村居", "所属村", "村", "村社区", "所属村居"),
    "people_involved": ("涉及人数", "人数"),
    "tier": ("化解层级", "办理层级", "层级"),
    "status": ("办理状态", "状态", "进展"),
    "resolved_at": ("办结时间", "化解时间", "办结日期"),
    "satisfaction": ("回访满意度", "满意度", "回访情况", "回访结果"),
    "description": ("简要案情", "基本情况", "纠纷简况", "内容", "诉求内容"),
    "party_name": ("当事人", "姓名", "当事人姓名"),
    "party_phone": ("联系电话", "电话", "手机", "手机号码", "联系方式"),
    "party_id_number": ("身份证号", "证件号码", "身份证号码"),
    "address": ("住址", "地址", "家庭住址"),
    "lon": ("经度",),
    "lat": ("纬度",),
    "grid_code": ("网格编码", "网格代码"),
}
"""The Chinese headers counties use, per field (issue 14); our English field names always work too."""

SYNONYMS: dict[str, dict[str, str]] = {
    "source": {
        "12345": "hotline_12345", "12345热线": "hotline_12345", "12345政务服务热线": "hotline_12345",
        "来信来访": "petition", "信访件": "petition", "信访": "petition",
        "网格上报": "grid_report", "网格员": "grid_report", "网格员上报": "grid_report",
        "来访": "walk_in", "走访": "walk_in", "群众来访": "walk_in",
        "线上": "online", "网上": "online", "小程序": "online", "app": "online",
        "110": "police_110", "110警情": "police_110",
        "诉前调解": "court", "法院": "court", "法院诉前": "court",
        "其他": "other", "其它": "other",
    },
    "category": {
        "土地纠纷": "land", "土地流转": "land", "山林纠纷": "land", "土地山林": "land",
        "劳资纠纷": "labour_wages", "欠薪": "labour_wages", "拖欠工资": "labour_wages", "劳资欠薪": "labour_wages",
        "借贷纠纷": "debt", "债务": "debt", "债务纠纷": "debt",
        "邻里矛盾": "neighbour", "邻里纠纷": "neighbour",
        "婚姻纠纷": "marriage_family", "家庭纠纷": "marriage_family", "婚姻家庭": "marriage_family",
        "婚姻家庭纠纷": "marriage_family",
        "征地拆迁": "demolition", "拆迁纠纷": "demolition", "征地纠纷": "demolition",
        "物业纠纷": "property_mgmt", "物业管理": "property_mgmt",
        "消费纠纷": "consumer", "消费维权": "consumer",
        "医疗纠纷": "medical", "医患纠纷": "medical",
        "交通事故": "traffic", "交通事故纠纷": "traffic",
        "环境污染": "environment", "环境纠纷": "environment",
        "其他": "other", "其它": "other", "其他纠纷": "other",
    },
    "status": {
        "已受理": "received", "待研判": "received", "受理": "received",
        "已研判": "assessed", "研判": "assessed",
        "已分流": "dispatched", "已交办": "dispatched", "分流": "dispatched",
        "调处中": "mediating", "办理中": "mediating", "化解中": "mediating", "调处": "mediating",
        "已办结": "resolved", "已化解": "resolved", "已结案": "resolved", "办结": "resolved",
        "已回访": "followed_up", "回访": "followed_up",
    },
    "tier": {
        "村级": "village", "村（社区）级": "village", "村": "village", "村级化解": "village",
        "镇级": "township", "乡级": "township", "乡镇级": "township", "街道级": "township", "镇级化解": "township",
        "县级": "county", "市级": "county", "县（市）级": "county", "县级化解": "county",
    },
    "satisfaction": {
        "满意": "satisfied", "基本满意": "satisfied", "非常满意": "satisfied",
        "一般": "neutral",
        "不满意": "dissatisfied",
    },
}
"""Common synonyms of our code names (issue 14; DESIGN.md "Words": 满意 and 基本满意 → satisfied,
一般 → neutral, 不满意 → dissatisfied)."""

VILLAGE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("村民委员会", "村"), ("居民委员会", "社区"), ("村委会", "村"), ("居委会", "社区"), ("社区", "社区"), ("村", "村"),
)
"""Suffixes dropped from a village name before matching, each with the kind of unit it names
(村民委员会 and 村委会 name a 村, 居委会 a 社区), longest first."""

TOWNSHIP_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("街道办事处", "街道"), ("人民政府", ""), ("街道", "街道"), ("镇", "镇"), ("乡", "乡"),
)
"""Suffixes dropped from a township name before matching."""


class WordsFileError(ValueError):
    """A county words file that cannot be used (bad TOML, unknown field or code)."""


def normal(text: str) -> str:
    """A header or value as compared: NFKC (full-width to half-width), no spaces, case folded."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).casefold()


def _header_normal(text: str) -> str:
    """Headers also lose a required mark or a trailing colon (``*登记时间：``)."""
    return normal(text).strip("*:")


@dataclass(frozen=True)
class PlaceStem:
    """A place name with its suffixes dropped, and the kind of unit the dropped suffix named."""

    stem: str
    kind: str


def place_stem(name: str, suffixes: tuple[tuple[str, str], ...] = VILLAGE_SUFFIXES) -> PlaceStem:
    """Drop suffixes as long as one applies (育才社区居委会 → 育才, kind 社区); the first one dropped
    names the kind. A name that is nothing but a suffix keeps it."""
    text = normal(name)
    kind = ""
    changed = True
    while changed:
        changed = False
        for suffix, suffix_kind in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)]
                kind = kind or suffix_kind
                changed = True
                break
    return PlaceStem(text, kind)


@dataclass(frozen=True)
class LedgerWords:
    """Header and value words: the built-in ones merged with a county's own."""

    headers: Mapping[str, str]
    """Normalised header → field."""
    values: Mapping[str, Mapping[str, str]]
    """Field → normalised value → code name, in lookup order after the code names."""
    county_values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Field → normalised value → code name: the county's own words, looked up before the rest."""

    def field_of(self, header: str) -> str | None:
        """The field a column header gives, or ``None`` for a column the import ignores."""
        return self.headers.get(_header_normal(header))

    def code_of(self, field_name: str, value: str) -> str | None:
        """The code name ``value`` stands for in ``field_name``, or ``None`` when it is unknown."""
        kind = CHOICE_FIELDS[field_name]
        key = normal(value)
        if key in _codes(kind):
            return key
        for table in (self.county_values.get(field_name, {}), self.values.get(field_name, {})):
            if key in table:
                return table[key]
        return None

    def known_headers(self) -> list[str]:
        """Every header the import understands, for a "did you mean" hint."""
        return sorted(self.headers)


def _codes(kind: type[StrEnum]) -> frozenset[str]:
    return frozenset(m.value for m in kind)


def _labels_for(field_name: str) -> dict[str, str]:
    """The screens' own labels of a choice field (zh and en): 土地山林 → land, Land → land."""
    prefix = f"{field_name}."
    found: dict[str, str] = {}
    for key, texts in LABELS.items():
        if key.startswith(prefix):
            code = key[len(prefix):]
            if code in _codes(CHOICE_FIELDS[field_name]):
                for text in texts.values():
                    found.setdefault(normal(text), code)
    return found


def builtin_words() -> LedgerWords:
    """The built-in words: our field names, the issue's Chinese headers, labels and synonyms."""
    headers = {normal(name): name for name in FIELDS}
    for name, texts in HEADERS.items():
        for text in texts:
            headers[_header_normal(text)] = name
    values: dict[str, dict[str, str]] = {}
    for name in CHOICE_FIELDS:
        table = _labels_for(name)
        for word, code in SYNONYMS.get(name, {}).items():
            table.setdefault(normal(word), code)
        values[name] = table
    return LedgerWords(headers, values)


def county_words(text: str, base: LedgerWords | None = None, *, origin: str = "words file") -> LedgerWords:
    """``base`` (default: the built-in words) with a county's own words from TOML text.

    The file has a ``[headers]`` table (header → field) and one table per choice field
    (``[category]``, ``[source]``, ``[status]``, ``[tier]``, ``[satisfaction]``: word → code name)::

        [category]
        "劳资债务" = "labour_wages"

        [headers]
        "案件来源" = "source"

    A county's word is looked up before the labels and the built-in synonyms, so it can also
    change what a built-in synonym means. Any unknown table, field or code refuses the whole file.
    """
    base = base or builtin_words()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WordsFileError(f"{origin}: not TOML ({error})") from None
    headers = dict(base.headers)
    county: dict[str, dict[str, str]] = {name: dict(table) for name, table in base.county_values.items()}
    for table_name, table in data.items():
        if not isinstance(table, dict):
            raise WordsFileError(f"{origin}: {table_name!r} must be a table such as [{table_name}]")
        if table_name == "headers":
            for header, target in table.items():
                if target not in FIELDS:
                    raise WordsFileError(f"{origin}: [headers] {header!r} = {target!r}: "
                                         f"the field must be one of {', '.join(FIELDS)}")
                headers[_header_normal(header)] = target
            continue
        if table_name not in CHOICE_FIELDS:
            raise WordsFileError(f"{origin}: unknown table [{table_name}]; tables are [headers], "
                                 f"{', '.join(f'[{n}]' for n in CHOICE_FIELDS)}")
        codes = [m.value for m in CHOICE_FIELDS[table_name]]
        for word, target in table.items():
            if target not in codes:
                raise WordsFileError(f"{origin}: [{table_name}] {word!r} = {target!r}: "
                                     f"the code must be one of {', '.join(codes)}")
            county.setdefault(table_name, {})[normal(word)] = target
    return LedgerWords(headers, base.values, county)


def choice_hint(field_name: str, limit: int = 40) -> str:
    """The accepted values of a choice field as one line: code (label), …"""
    parts = []
    for member in CHOICE_FIELDS[field_name]:
        label = LABELS.get(f"{field_name}.{member.value}", {}).get("zh")
        parts.append(f"{member.value} ({label})" if label else member.value)
    return ", ".join(parts[:limit])

