"""How alike two cases are, as a score in [0, 1] with its reasons in words (DESIGN.md "matter").

Pure functions over the few columns a candidate needs; ``dashboard.cases.duplicates`` fetches the
candidates by index and stores what this scores. The weights were set by
``bench/duplicate_bench.py`` (precision and recall on generated duplicate groups and look-alikes).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime

from dashboard.domain.matter_rules import MatterRules

COMMON_PHRASES = (
    "有关部门", "反映", "来电", "来访", "信访", "调解", "纠纷", "矛盾", "争执", "冲突", "争吵", "要求", "处理",
    "请求", "协调", "解决", "希望", "尽快", "双方", "村民", "网格员", "网格", "上报", "巡查", "发现", "市民",
    "群众", "诉求", "问题", "情绪", "激动", "多次", "协商", "未果", "说法", "民警", "到场", "警情", "转来",
    "中心", "存在", "之间", "发生", "给个", "网上", "两户", "到", "称", "与", "因", "其", "的", "了", "和", "在",
    "已", "对", "及", "等", "为", "被", "人", "约",
)
"""How every report is phrased, whatever the dispute (反映…要求处理, 双方…请求调解) and the common
function characters: left out before comparing, so two different disputes told in the same
channel's words do not look alike. Only the words that tell the dispute (names, the object, the
amounts and durations, the place) are compared."""
_SPLIT = re.compile("|".join(sorted(COMMON_PHRASES, key=len, reverse=True)) + r"|[\s\W_]+", re.UNICODE)

GRAM_CACHE = 2048
"""Texts whose bigrams a process keeps (a few kilobytes each: ~10 MB at most)."""

W_TEXT, W_PLACE, W_CATEGORY, W_TIME, W_PARTY = 0.7, 0.1, 0.15, 0.05, 0.35
"""Weights of the five signals, set with ``bench/duplicate_bench.py``: the text decides (two
different disputes of one village and week share place, type and time), the rest breaks ties; a
same-party pair gains a third."""


@dataclass(frozen=True)
class CaseSketch:
    """The columns similarity reads: no person, only place, time, type, text and party keys."""

    id: int
    category: str
    village_code: str
    received_at: datetime
    lon: float | None
    lat: float | None
    description: str
    keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Reason:
    """One reason a pair was suggested: a code (``labels`` has its words) and its number, if any."""

    code: str
    value: float | int | None = None

    def as_json(self) -> list[object]:
        return [self.code, self.value]


@dataclass(frozen=True)
class Match:
    other_id: int
    score: float
    reasons: tuple[Reason, ...]


@lru_cache(maxsize=GRAM_CACHE)
def content_bigrams(text: str) -> frozenset[str]:
    """Character bigrams of what tells the dispute: the text without its common phrases,
    punctuation and spaces, each remaining run split into bigrams (a lone character kept).

    Cached per process: each arrival compares the recent cases of its village, so the same
    stored texts come back arrival after arrival (``bench/duplicate_bench.py``: the bigrams were
    two thirds of the write-path cost before)."""
    grams: set[str] = set()
    for run in _SPLIT.split(text.lower()):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(grams)


def text_similarity(a: str, b: str) -> float:
    """Overlap coefficient of the two texts' content bigrams, in [0, 1]: shared / the smaller set.

    A short hotline note that retells part of a long grid report scores as high as two reports of
    one length; reworded phrasing is left out before (``COMMON_PHRASES``), and word order does not
    matter to a set.
    """
    grams_a, grams_b = content_bigrams(a), content_bigrams(b)
    if not grams_a or not grams_b:
        return 0.0
    return len(grams_a & grams_b) / min(len(grams_a), len(grams_b))


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; ample at a few kilometres)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def degrees_around(lat: float, metres: float) -> tuple[float, float]:
    """Half-widths (Δlat, Δlon) in degrees of a box holding every point within ``metres``."""
    dlat = metres / 111_320
    return dlat, dlat / max(math.cos(math.radians(lat)), 0.01)


def match(new: CaseSketch, old: CaseSketch, rules: MatterRules, *, floor: float = 0.0) -> Match | None:
    """Score ``old`` as a duplicate of ``new``; ``None`` when it is no candidate at all.

    A candidate shares the party (keyed hash), or is near (same village or within
    ``distance_m``), within ``window_days``, of the same or a related category. The score weighs
    text similarity most, then place, category, time and the party. ``None`` as well when the
    score cannot reach ``floor`` whatever the rest (most pairs: their texts tell other disputes).
    """
    reasons: list[Reason] = []
    same_party = bool(new.keys & old.keys)
    days = abs((new.received_at - old.received_at).total_seconds()) / 86400
    relation = rules.relation(new.category, old.category)

    place = 0.0
    if new.village_code == old.village_code:
        place = 1.0
        reasons.append(Reason("same_village"))
    if new.lon is not None and new.lat is not None and old.lon is not None and old.lat is not None:
        metres = distance_m(new.lon, new.lat, old.lon, old.lat)
        if metres <= rules.distance_m:
            place = max(place, 1.0 - 0.5 * metres / rules.distance_m)
            reasons.append(Reason("nearby", round(metres)))
    near = place > 0 and days <= rules.window_days and relation is not None
    if not (near or same_party):
        return None

    text = text_similarity(new.description, old.description)
    if W_TEXT * text + W_PLACE + W_CATEGORY + W_TIME + (W_PARTY if same_party else 0.0) < floor:
        return None
    if relation is not None:
        reasons.append(Reason(f"{relation}_category"))
    if text >= 0.4:
        reasons.append(Reason("similar_text", round(100 * text)))
    time = max(0.0, 1.0 - days / rules.window_days)
    reasons.append(Reason("days_apart", round(days, 1)))
    if same_party:
        reasons.insert(0, Reason("same_party"))
    category = {"same": 1.0, "related": 0.5}.get(relation or "", 0.0)
    score = W_TEXT * text + W_PLACE * place + W_CATEGORY * category + W_TIME * time + (W_PARTY if same_party else 0.0)
    return Match(old.id, round(min(score, 1.0), 3), tuple(reasons))


def best_matches(new: CaseSketch, others: list[CaseSketch], rules: MatterRules) -> list[Match]:
    """The candidates at or above ``min_score``, best first, at most ``max_candidates``."""
    floor = rules.min_score
    found = [m for m in (match(new, o, rules, floor=floor) for o in others if o.id != new.id) if m and m.score >= floor]
    found.sort(key=lambda m: (-m.score, m.other_id))
    return found[: rules.max_candidates]
