"""The report's charts as PNG images with CJK labels: daily trend, categories, sources, tier pyramid,
and the county map with each township coloured by the period's received cases.

matplotlib draws with the Agg backend (no display, no browser) and the merged report font
(``dashboard.reports.fonts``); the map comes from our own township geometry through geopandas,
with no tiles. The same content gives the same pixels: nothing here depends on the clock.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager, patheffects  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dashboard.domain.labels import label  # noqa: E402
from dashboard.domain.report_content import ReportContent  # noqa: E402
from dashboard.domain.report_text import text  # noqa: E402
from dashboard.domain.vocabulary import Category, Source  # noqa: E402
from dashboard.reports.fonts import FAMILY  # noqa: E402

DPI = 150
RED, GREY, BLUE = "#c0392b", "#7f8c8d", "#2c6fb7"
_registered: set[Path] = set()
_draw_lock = threading.Lock()
"""pyplot's state is global: one chart at a time per process."""


def use_fonts(paths: Sequence[Path]) -> None:
    for path in paths:
        if path not in _registered:
            font_manager.fontManager.addfont(str(path))
            _registered.add(path)
    plt.rcParams.update({"font.family": FAMILY, "font.size": 9, "axes.unicode_minus": False,
                         "svg.hashsalt": "report", "axes.spines.top": False, "axes.spines.right": False})


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return out.getvalue()


def trend_chart(content: ReportContent, lang: str) -> bytes:
    days = [d for d, _ in content.trend]
    received = [c.received for _, c in content.trend]
    closed = [c.closed for _, c in content.trend]
    fig, ax = plt.subplots(figsize=(6.6, 2.4))
    xs = range(len(days))
    ax.bar(xs, received, color="#f2b8b0", label=text("chart.received", lang), width=0.8)
    ax.bar(xs, closed, color=RED, label=text("chart.closed", lang), width=0.5)
    step = max(1, len(days) // 10)
    ax.set_xticks(list(xs)[::step], [d.strftime("%m-%d") for d in days][::step])
    ax.set_ylabel(text("chart.cases", lang), rotation=0, labelpad=10)
    ax.set_title(text("chart.trend", lang), loc="left", fontweight="bold")
    ax.legend(frameon=False, ncols=2, loc="upper right", bbox_to_anchor=(1, 1.18))
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def _barh(title: str, names: list[str], values: list[int], color: str) -> bytes:
    fig, ax = plt.subplots(figsize=(3.2, 0.22 * len(names) + 0.7))
    ys = range(len(names))
    ax.barh(ys, values, color=color, height=0.65)
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    top = max(values, default=0)
    for y, v in zip(ys, values):
        ax.text(v + top * 0.02, y, f"{v:,}", va="center", fontsize=8)
    ax.set_xlim(0, max(1, top) * 1.18)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.set_title(title, loc="left", fontweight="bold")
    return _png(fig)


def categories_chart(content: ReportContent, lang: str) -> bytes:
    keys = sorted((c.value for c in Category), key=lambda k: -content.categories.get(k, 0))
    return _barh(text("chart.categories", lang), [label(f"category.{k}", lang) for k in keys],
                 [content.categories.get(k, 0) for k in keys], RED)


def sources_chart(content: ReportContent, lang: str) -> bytes:
    keys = sorted((s.value for s in Source), key=lambda k: -content.sources.get(k, 0))
    return _barh(text("chart.sources", lang), [label(f"source.{k}", lang) for k in keys],
                 [content.sources.get(k, 0) for k in keys], BLUE)


def pyramid_chart(content: ReportContent, lang: str) -> bytes:
    """小事不出村: the village tier at the bottom and widest when the county works as it should."""
    counts = content.current
    tiers = [("county", counts.closed_county), ("township", counts.closed_township), ("village", counts.closed_village)]
    shares = counts.tier_shares()
    fig, ax = plt.subplots(figsize=(3.2, 1.6))
    outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for y, (tier, n) in enumerate(tiers):
        share = shares[tier] or 0.0
        ax.barh(y, share, left=-share / 2, color=["#e67e22", "#f1c40f", "#27ae60"][y], height=0.8)
        ax.text(0, y, f"{label(f'tier.{tier}', lang)} {n:,} · {share:.2f}%", ha="center", va="center", fontsize=8,
                path_effects=outline)
    ax.set_xlim(-55, 55)
    ax.set_axis_off()
    ax.set_title(text("chart.pyramid", lang), loc="left", fontweight="bold")
    return _png(fig)


def county_map(content: ReportContent, townships: list[tuple[str, str, str]], lang: str) -> bytes:
    """``townships``: (code, name, GeoJSON geometry). Coloured by received in the period."""
    import geopandas as gpd
    from shapely.geometry import shape

    received = {r.code: r.counts.received for r in content.league}
    frame = gpd.GeoDataFrame(
        {"code": [c for c, _, _ in townships], "name": [n for _, n, _ in townships],
         "received": [received.get(c, 0) for c, _, _ in townships]},
        geometry=[shape(json.loads(g)) for _, _, g in townships], crs="EPSG:4326")
    fig, ax = plt.subplots(figsize=(6.6, 4.6))
    if not frame.empty:
        top = max(1, int(frame["received"].max()))
        frame.plot(column="received", cmap="OrRd", linewidth=0.6, edgecolor="#555555", ax=ax, legend=True,
                   vmin=0, vmax=top * 1.15, legend_kwds={"shrink": 0.6})
        outline = [patheffects.withStroke(linewidth=2, foreground="white")]
        biggest = max(g.area for g in frame.geometry) or 1.0
        for row in frame.itertuples():
            point = row.geometry.representative_point()
            size = min(6.5, max(4.0, 6.5 * (row.geometry.area / biggest) ** 0.5 + 1.5))  # small towns, small labels
            ax.annotate(f"{row.name}\n{row.received:,}", (point.x, point.y), ha="center", va="center", fontsize=size,
                        color="#111111", path_effects=outline, linespacing=1.0)
    ax.set_axis_off()
    ax.set_title(text("map.title", lang), loc="left", fontweight="bold")
    if content.generated_geometry:
        ax.text(0, -0.02, text("map.generated", lang), transform=ax.transAxes, fontsize=7, color=GREY)
    return _png(fig)


def all_charts(content: ReportContent, townships: list[tuple[str, str, str]], fonts: Sequence[Path],
               lang: str) -> dict[str, bytes]:
    with _draw_lock:
        use_fonts(fonts)
        return {"trend": trend_chart(content, lang), "categories": categories_chart(content, lang),
                "sources": sources_chart(content, lang), "pyramid": pyramid_chart(content, lang),
                "map": county_map(content, townships, lang)}
