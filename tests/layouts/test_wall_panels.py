"""The wall's side panels on plain values: the elements the live cells fill, sized by the shared
constants, with the definitions on hover."""

from __future__ import annotations

from dashboard.domain.labels import definition, label
from dashboard.domain.screen_period import ScreenPeriod
from dashboard.domain.vocabulary import Category, Source
from dashboard.domain.wall_values import TICKER_ROWS, TREND_BARS, TREND_DAYS
from layouts.wall_panels import (
    categories_panel, league_panel, panel, pyramid_panel, sources_panel, ticker_panel, trend_panel,
)
from tests.layouts.tree import by_id, classes, ids, text, with_class

WORDS = ScreenPeriod(days=7).words("zh")


def test_a_panel_has_its_title_and_definition_and_takes_focus() -> None:
    section = panel("标题", ["内容"], tip="口径", class_name="panel-x")
    assert classes(section) == ["panel", "panel-x"] and section.title == "口径" and section.tabIndex == "0"
    assert text(section) == "标题 内容"
    assert panel("标题", []).title is None, "no empty tooltip"


def test_breakdowns_have_a_bar_for_every_word_and_name_the_period() -> None:
    categories = categories_panel("zh", WORDS)
    for category in Category:
        assert by_id(categories, f"cat-{category.value}-n").children == "—"
        assert "bar-fill" in classes(by_id(categories, f"cat-{category.value}-bar"))
        assert label(f"category.{category.value}", "zh") in text(categories)
    assert len(with_class(categories, "bar-row")) == len(Category)
    assert categories.title == definition("panel.categories", "zh").format(**WORDS)
    assert text(categories.children[0]) == label("panel.categories", "zh").format(**WORDS)
    sources = sources_panel("en", WORDS)
    assert [i for i in ids(sources) if i.endswith("-n")] == [f"src-{s.value}-n" for s in Source]


def test_the_pyramid_puts_the_village_at_the_bottom() -> None:
    pyramid = pyramid_panel("zh", WORDS)
    assert [row.className for row in with_class(pyramid, "pyramid-row")] == [
        "pyramid-row pyramid-county", "pyramid-row pyramid-township", "pyramid-row pyramid-village"]
    for tier in ("county", "township", "village"):
        assert {f"tier-{tier}-bar", f"tier-{tier}-pct", f"tier-{tier}-n"} <= set(ids(pyramid))
    assert pyramid.title == definition("panel.pyramid", "zh").format(**WORDS)


def test_the_trend_has_one_bar_per_day_in_its_scaled_box() -> None:
    trend = trend_panel("en")
    box = by_id(trend, TREND_BARS)
    assert [bar.id for bar in box.children] == [f"trend-{i}" for i in range(TREND_DAYS)]
    assert all(bar.children.id == f"{bar.id}-closed" for bar in box.children)
    assert {"trend-first", "trend-last", "trend-max"} <= set(ids(trend))
    assert trend.title == definition("panel.trend", "en")


def test_the_league_has_as_many_rows_as_townships_and_ranks_them() -> None:
    league = league_panel("zh", WORDS, 3)
    rows = [node for node in with_class(league, "league-row") if "league-head" not in classes(node)]
    assert [row.id for row in rows] == ["league-0", "league-1", "league-2"]
    assert [row.children[0].children for row in rows] == ["1", "2", "3"]
    for part in ("name", "dot", "rate", "overdue", "red"):
        assert f"league-2-{part}" in ids(league)
    assert "dot-none" in classes(by_id(league, "league-0-dot")), "no level until the live state says"
    assert league_panel("zh", WORDS, 0).children[1].children[1].children == []


def test_the_ticker_has_its_rows_empty_until_an_alert_arrives() -> None:
    ticker = ticker_panel("zh")
    rows = with_class(ticker, "ticker-row")
    assert [row.id for row in rows] == [f"ticker-{i}" for i in range(TICKER_ROWS)]
    assert all("ticker-empty" in classes(row) for row in rows)
    for part in ("time", "level", "place", "what"):
        assert by_id(ticker, f"ticker-0-{part}").children == ""
    assert ticker.title == definition("panel.ticker", "zh") and "个人信息" in ticker.title
