"""The pure parts of one matter across channels: keyed party hashes, text similarity, the score
and its reasons, and the ``[matters]`` rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.domain.matter_rules import MatterRules, matter_rules_from_mapping
from dashboard.domain.party_keys import normal_id_number, normal_phone, party_keys
from dashboard.domain.rules import RulesError, load_rules, rules_from_mapping
from dashboard.domain.similarity import CaseSketch, best_matches, content_bigrams, match, text_similarity

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
RULES = MatterRules()


def test_one_number_written_many_ways_is_one_key_and_the_key_needs_the_secret() -> None:
    assert normal_phone("+86 138-0013-8000") == normal_phone("13800138000") == normal_phone("0086 13800138000")
    assert normal_phone("123") is None and normal_id_number("22028319851231567x") == "22028319851231567X"
    assert normal_id_number("12345") is None
    one = party_keys(b"s1", phone="138 0013 8000", id_number=None)
    assert one == party_keys(b"s1", phone="+8613800138000", id_number=None)
    assert one != party_keys(b"s2", phone="13800138000", id_number=None), "another deployment, another key"
    both = party_keys(b"s1", phone="13800138000", id_number="220283199001011234")
    assert len(both) == 2 and "13800138000" not in "".join(both)
    assert party_keys(b"s1", phone="", id_number=None) == []
    with pytest.raises(ValueError):
        party_keys(b"", phone="13800138000", id_number=None)


def test_common_phrasing_is_left_out_and_the_dispute_words_compared() -> None:
    assert "反映" not in "".join(content_bigrams("市民来电反映，要求处理"))
    a = "网格员上报：欧某明与韩某军因宅基地东侧围墙界线争执，涉及约12米，请求调解"
    b = "来电反映韩某军占用欧某明宅基地东侧约12米，围墙界线纠纷，要求处理"
    other = "网格员上报：赵某与钱某因承包地灌溉水渠发生争执，已持续3个月，请求调解"
    assert text_similarity(a, b) > 0.6 > 0.3 > text_similarity(a, other)
    assert text_similarity("", a) == 0.0


def _sketch(case_id: int, *, text: str = "欧某明韩某军宅基地东侧围墙界线12米", category: str = "land",
            village: str = "v1", hours: float = 0, lon: float | None = None, lat: float | None = None,
            keys: frozenset[str] = frozenset()) -> CaseSketch:
    return CaseSketch(case_id, category, village, AT - timedelta(hours=hours), lon, lat, text, keys)


def test_a_candidate_is_near_in_place_time_and_type_or_the_same_party() -> None:
    new = _sketch(1)
    assert match(new, _sketch(2, hours=30), RULES).score >= RULES.min_score
    assert match(new, _sketch(3, village="v2"), RULES) is None, "another village, not located"
    assert match(new, _sketch(4, hours=24 * 8), RULES) is None, "beyond the 7-day window"
    assert match(new, _sketch(5, category="consumer"), RULES) is None, "an unrelated type"
    related = match(new, _sketch(6, category="neighbour"), RULES)
    assert related is not None and ("related_category", None) in [(r.code, r.value) for r in related.reasons]
    far_party = match(_sketch(1, keys=frozenset({"k"})), _sketch(7, village="v9", category="consumer", hours=24 * 20,
                                                                   keys=frozenset({"k"})), RULES)
    assert far_party is not None and far_party.reasons[0].code == "same_party"
    located = match(_sketch(1, village="v1", lon=127.0, lat=44.0), _sketch(8, village="v2", lon=127.001, lat=44.0), RULES)
    assert located is not None and any(r.code == "nearby" and r.value == 80 for r in located.reasons)


def test_best_matches_keeps_the_best_few_above_the_threshold() -> None:
    others = [_sketch(i, hours=i) for i in range(2, 12)] + [_sketch(20, text="完全不同的一件事：物业停车费")]
    found = best_matches(_sketch(1), others, RULES)
    assert len(found) == RULES.max_candidates and 20 not in [m.other_id for m in found]
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


def test_the_matters_rules_are_read_checked_and_optional() -> None:
    rules = load_rules()
    assert rules.matters.relation("land", "neighbour") == rules.matters.relation("neighbour", "land") == "related"
    assert matter_rules_from_mapping(None) == MatterRules()
    assert matter_rules_from_mapping({"min_score": 0.7, "related": {"land": ["debt"]}}).relation("debt", "land") == "related"
    for bad in ({"min_scor": 0.7}, {"min_score": 0}, {"repeat_caller_cases": 1}, {"related": {"land": ["nonsense"]}}):
        with pytest.raises(ValueError):
            matter_rules_from_mapping(bad)
    document = {"deadlines": {"assess_hours": 24, "follow_up_days": 15, "petition_resolve_days": 60,
                              "resolve_days": {"village": 7, "township": 15, "county": 30}},
                "alerts": {"levels": 4, "red_people": 30, "orange_people": 10, "orange_overdue_days": 7,
                           "yellow_due_within_hours": 24, "spike_baseline_days": 28, "spike_sigmas": 3,
                           "spike_min_cases": 3},
                "scheduler": {"interval_seconds": 60, "supervise_after_overdue_hours": 24,
                              "escalate_after_overdue_days": 3}}
    assert rules_from_mapping(document).matters == MatterRules(), "a rules file without [matters] keeps the defaults"
    with pytest.raises(RulesError):
        rules_from_mapping({**document, "matters": {"window_days": -1}})
