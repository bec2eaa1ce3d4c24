"""The console's "可能为同一事项" box from plain values: candidates with score and reasons in
words, the matter with its lead, the repeat-caller flag; never a person."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.domain.matter_view import CaseBrief, Candidate, MatterPanel
from layouts import duty_matters
from tests.layouts.tree import ids as ids_of
from tests.layouts.tree import text as text_of

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _brief(case_id: int, category: str = "land", source: str = "hotline_12345") -> CaseBrief:
    return CaseBrief(case_id, category, source, "990101001001", NOW, "received", "blue")


def _panel(*, matter: bool = False, repeat: bool = False, state: str = "open") -> MatterPanel:
    candidate = Candidate(_brief(8, "neighbour", "grid_report"), 0.82,
                          (("same_village", None), ("nearby", 120), ("similar_text", 71), ("days_apart", 1.5)), state)
    return MatterPanel(case_id=7, matter_id=3 if matter else None, lead_case_id=8 if matter else None,
                       members=(_brief(7), _brief(8)) if matter else (), candidates=(candidate,),
                       repeat_calls=4 if repeat else 0, repeat_caller=repeat, repeat_days=90)


def test_a_candidate_shows_its_score_and_reasons_in_words() -> None:
    text = text_of(duty_matters.matters_panel(_panel(), "zh"))
    assert "可能为同一事项" in text and "#8" in text and "相似度 0.82" in text
    assert all(w in text for w in ("同村", "相距120米", "描述相似71%", "相隔1.5天"))
    english = text_of(duty_matters.matters_panel(_panel(), "en"))
    assert "Possibly the same matter" in english and "120 m apart" in english
    assert duty_matters.pick_options(_panel()) == [{"label": "#8", "value": 8}]


def test_the_matter_names_its_lead_and_a_decided_candidate_its_state() -> None:
    text = text_of(duty_matters.matters_panel(_panel(matter=True, state="merged"), "zh"))
    assert "已并入事项 M3，共2件，主办 #8" in text and "已合并" in text
    assert "已排除" in text_of(duty_matters.matters_panel(_panel(state="dismissed"), "zh"))


def test_a_repeat_caller_is_a_count_never_a_person() -> None:
    text = text_of(duty_matters.matters_panel(_panel(repeat=True), "zh"))
    assert "重复来访/重复信访：同一当事人90日内第4件" in text
    assert "重复" not in text_of(duty_matters.matters_panel(_panel(), "zh"))


def test_no_case_no_box_and_the_buttons_are_always_in_the_page() -> None:
    assert duty_matters.matters_panel(None, "zh") == []
    box = duty_matters.matters_box(None, "zh")
    assert box.hidden
    ids = set(ids_of(box))
    assert set(duty_matters.BUTTONS) | {duty_matters.PICK, duty_matters.MATTERS, duty_matters.MESSAGE} <= ids
