"""A report's words, in the register of a county office (Chinese by default, English available).

Pure: every number it writes comes from a :class:`ReportContent`, through the same formulas the
screens use (``figure_text``: counts with separators, rates with two decimals, 环比/同比 of a count
in percent with one decimal, of a rate in percentage points). The DOCX and the PDF print these
strings; the truth test reads them back and compares them with ``/api/figures``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dashboard.domain.figure_text import DASH, count_text, point_change, rate_text, relative_change
from dashboard.domain.figures import percent
from dashboard.domain.labels import label, reasons_text
from dashboard.domain.periods import LOCAL_TZ
from dashboard.domain.report_content import ReportContent
from dashboard.domain.report_periods import ReportKind

TEXT: dict[str, dict[str, str]] = {
    "kind.daily": {"zh": "矛盾纠纷调处化解工作日报", "en": "Daily report on dispute resolution"},
    "kind.weekly": {"zh": "矛盾纠纷调处化解工作周报", "en": "Weekly report on dispute resolution"},
    "kind.monthly": {"zh": "矛盾纠纷调处化解月分析研判", "en": "Monthly analysis of dispute resolution"},
    "short.daily": {"zh": "日报", "en": "Daily"},
    "short.weekly": {"zh": "周报", "en": "Weekly"},
    "short.monthly": {"zh": "月报", "en": "Monthly"},
    "issue": {"zh": "{year}年第{issue}期", "en": "{year}, issue {issue}"},
    "compiled": {"zh": "{office}编　{at}", "en": "Compiled by {office}, {at}"},
    "office": {"zh": "{county}矛盾纠纷调处化解中心", "en": "{county} dispute-resolution centre"},
    "period": {"zh": "统计周期：{period}", "en": "Period: {period}"},
    "area": {"zh": "统计范围：{area}", "en": "Area: {area}"},
    "h.summary": {"zh": "一、总体情况", "en": "1. Summary"},
    "h.figures": {"zh": "二、主要指标", "en": "2. Key figures"},
    "h.charts": {"zh": "三、趋势与构成", "en": "3. Trend and composition"},
    "h.map": {"zh": "四、乡镇分布", "en": "4. Townships on the map"},
    "h.league": {"zh": "五、乡镇排行", "en": "5. Township league"},
    "h.alerts": {"zh": "六、期内红色、橙色预警", "en": "6. Red and orange alerts of the period"},
    "h.overdue": {"zh": "七、期末超期在办案件", "en": "7. Cases overdue at the period's end"},
    "h.warnings": {"zh": "八、异常预警提示", "en": "8. Early-warning notes"},
    "h.appendix": {"zh": "附：指标口径", "en": "Appendix: definitions"},
    "col.figure": {"zh": "指标", "en": "Figure"},
    "col.value": {"zh": "本期", "en": "This period"},
    "col.mom": {"zh": "环比", "en": "vs previous"},
    "col.yoy": {"zh": "同比", "en": "vs last year"},
    "col.rank": {"zh": "序号", "en": "#"},
    "col.township": {"zh": "乡镇", "en": "Township"},
    "col.village": {"zh": "村（社区）", "en": "Village"},
    "col.received": {"zh": "受理", "en": "Received"},
    "col.closure": {"zh": "办结率", "en": "Closure"},
    "col.overdue": {"zh": "期末超期", "en": "Overdue at end"},
    "col.red": {"zh": "期末红色", "en": "Red at end"},
    "col.date": {"zh": "受理日期", "en": "Received"},
    "col.level": {"zh": "等级", "en": "Level"},
    "col.category": {"zh": "类别", "en": "Type"},
    "col.people": {"zh": "人数", "en": "People"},
    "col.reasons": {"zh": "预警原因", "en": "Reasons"},
    "col.tier": {"zh": "承办层级", "en": "Tier"},
    "col.days_over": {"zh": "超期天数", "en": "Days late"},
    "row.received": {"zh": "受理（件）", "en": "Received"},
    "row.closed": {"zh": "已办结（件）", "en": "Closed"},
    "row.closure_rate": {"zh": "办结率", "en": "Closure rate"},
    "row.on_time_rate": {"zh": "按期办结率", "en": "On-time rate"},
    "row.open": {"zh": "期末在办（件）", "en": "Open at end"},
    "row.overdue": {"zh": "期末超期（件）", "en": "Overdue at end"},
    "row.satisfaction_rate": {"zh": "回访满意率", "en": "Satisfaction"},
    "pt": {"zh": "个百分点", "en": " pt"},
    "chart.trend": {"zh": "每日受理与办结", "en": "Received and closed per day"},
    "chart.categories": {"zh": "案件类别", "en": "Case types"},
    "chart.sources": {"zh": "来源渠道", "en": "Sources"},
    "chart.pyramid": {"zh": "化解层级（小事不出村）", "en": "Resolved at tier"},
    "chart.received": {"zh": "受理", "en": "Received"},
    "chart.closed": {"zh": "其中已办结", "en": "Of those closed"},
    "chart.cases": {"zh": "件", "en": "cases"},
    "map.title": {"zh": "各乡镇期内受理量（件）", "en": "Cases received per township"},
    "map.generated": {"zh": "乡镇边界为生成示意，非官方界线", "en": "Township outlines are generated, not official"},
    "none": {"zh": "本期无。", "en": "None in this period."},
    "more": {"zh": "共{total}件，列出前{shown}件。", "en": "{total} in all; the first {shown} are listed."},
    "all": {"zh": "共{total}件。", "en": "{total} in all."},
    "no_personal": {"zh": "本报告不含任何个人信息。", "en": "This report holds no personal data."},
    "days": {"zh": "{n}天", "en": "{n} d"},
    "tier.village": {"zh": "村级", "en": "Village"},
    "tier.township": {"zh": "镇级", "en": "Township"},
    "tier.county": {"zh": "县级", "en": "County"},
    "def.alerts": {"zh": "期内红色、橙色预警", "en": "Red and orange alerts of the period"},
}

DEFINITIONS: list[tuple[str, dict[str, str]]] = [
    ("row.received", {"zh": "受理时间（北京时间）落在统计周期内的案件数。",
                      "en": "Cases whose receipt time (Beijing time) falls in the period."}),
    ("row.closed", {"zh": "统计周期受理的案件中，截至编制时已办结的数量。",
                    "en": "Of the cases received in the period, those resolved by the time of compiling."}),
    ("row.closure_rate", {"zh": "已办结 ÷ 受理，保留两位小数。分母：统计周期受理数。",
                          "en": "Closed ÷ received, two decimals. Denominator: received in the period."}),
    ("row.on_time_rate", {"zh": "期限内办结数 ÷ 已办结数。分母：已办结数。",
                          "en": "Resolved before the deadline ÷ resolved. Denominator: resolved."}),
    ("row.open", {"zh": "统计周期结束时（周期未结束的，为编制时）尚未办结的案件数，不论受理日期。",
                  "en": "Cases not resolved at the period's end (at compiling, if it has not ended), any receipt date."}),
    ("row.overdue", {"zh": "上述在办案件中已超过当前环节期限的数量。",
                     "en": "Of those open cases, the ones past the deadline of their current stage."}),
    ("row.satisfaction_rate", {"zh": "回访满意数（满意、基本满意）÷ 已回访数。分母：已回访数。",
                               "en": "Satisfied (satisfied or fairly satisfied) ÷ followed up. Denominator: followed up."}),
    ("chart.pyramid", {"zh": "统计周期受理且已办结的案件，按办结层级（村、镇、县）的占比。分母：已办结数。",
                       "en": "Of the cases received in the period and resolved, the share per resolving tier. Denominator: resolved."}),
    ("col.mom", {"zh": "与紧邻的前一个统计周期相比（日报为前一日，周报为上周，月报为上月）；件数为增减百分比，比率为增减百分点。",
                 "en": "Against the period just before (the day, week or month before); counts in percent, rates in percentage points."}),
    ("col.yoy", {"zh": "与去年同期相比；口径同环比。", "en": "Against the same days a year earlier; as for the previous period."}),
    ("def.alerts", {"zh": "统计周期受理、因案情（涉及人数、极端或群体性事件风险、越级访、重复信访）达到红色或橙色的案件，只列地点、类别与原因。",
                  "en": "Cases received in the period whose facts (people, risks, petitions) put them at red or orange; places, types and reasons only."}),
]


def text(key: str, lang: str) -> str:
    return TEXT[key][lang]


def day_text(day: date, lang: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else day.strftime("%-d %B %Y")


def period_text(content: ReportContent, lang: str) -> str:
    """``2025年6月2日`` / ``2025年6月2日至6月8日`` / ``2025年6月``, or the English equivalents."""
    first, last = content.period.first, content.period.last
    if content.kind is ReportKind.monthly:
        return f"{first.year}年{first.month}月" if lang == "zh" else first.strftime("%B %Y")
    if content.kind is ReportKind.daily:
        return day_text(first, lang)
    if lang == "zh":
        return f"{day_text(first, lang)}至{last.month}月{last.day}日"
    return f"{first.strftime('%-d %B')} to {last.strftime('%-d %B %Y')}"


def moment_text(moment: datetime, lang: str) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return local.strftime("%Y年%m月%d日 %H:%M") if lang == "zh" else local.strftime("%Y-%m-%d %H:%M")


def instant_text(content: ReportContent, lang: str) -> str:
    """When open and overdue were counted: ``6月8日24时`` at a period's end, else the clock time."""
    if content.instant_at >= content.period.end:
        last = content.period.last
        return f"{last.month}月{last.day}日24时" if lang == "zh" else f"the end of {last.strftime('%-d %B')}"
    local = content.instant_at.astimezone(LOCAL_TZ)
    return f"{local.month}月{local.day}日{local.hour}时{local.minute:02d}分" if lang == "zh" else local.strftime("%-d %B %H:%M")


def title(content: ReportContent, lang: str) -> str:
    return f"{content.county_name}{text(f'kind.{content.kind.value}', lang)}" if lang == "zh" else \
        f"{content.county_name}: {text(f'kind.{content.kind.value}', lang)}"


def issue_text(content: ReportContent, year: int, lang: str) -> str:
    return text("issue", lang).format(year=year, issue=content.issue)


def compiled_text(content: ReportContent, lang: str) -> str:
    office = text("office", lang).format(county=content.county_name)
    return text("compiled", lang).format(office=office, at=moment_text(content.compiled_at, lang))


def count_change_text(now: int, before: int) -> str:
    change = relative_change(now, before)
    return DASH if change is None else f"{change:+.1f}%"


def rate_change_text(now: float | None, before: float | None, lang: str) -> str:
    change = point_change(now, before)
    return DASH if change is None else f"{change:+.2f}{text('pt', lang)}"


@dataclass(frozen=True)
class KeyFigure:
    key: str
    label: str
    value: str
    mom: str
    yoy: str


def key_figures(content: ReportContent, lang: str) -> list[KeyFigure]:
    """The key-figure table: received, closed, closure rate, on-time rate, open, overdue, satisfaction."""
    now, prev, year = content.current, content.previous, content.last_year
    i_now, i_prev, i_year = content.instant, content.instant_previous, content.instant_last_year

    def counts(key: str, a: int, b: int, c: int) -> KeyFigure:
        return KeyFigure(key, text(f"row.{key}", lang), count_text(a), count_change_text(a, b), count_change_text(a, c))

    def rates(key: str, a: float | None, b: float | None, c: float | None) -> KeyFigure:
        return KeyFigure(key, text(f"row.{key}", lang), rate_text(a), rate_change_text(a, b, lang),
                         rate_change_text(a, c, lang))

    return [
        counts("received", now.received, prev.received, year.received),
        counts("closed", now.closed, prev.closed, year.closed),
        rates("closure_rate", now.closure_rate, prev.closure_rate, year.closure_rate),
        rates("on_time_rate", now.on_time_rate, prev.on_time_rate, year.on_time_rate),
        counts("open", i_now.open, i_prev.open, i_year.open),
        counts("overdue", i_now.overdue, i_prev.overdue, i_year.overdue),
        rates("satisfaction_rate", now.satisfaction_rate, prev.satisfaction_rate, year.satisfaction_rate),
    ]


def _trend_words(change: float | None, lang: str, unit: str = "%") -> str:
    if lang == "zh":
        if change is None:
            return "无可比数据"
        if change == 0:
            return "持平"
        amount = f"{abs(change):.1f}%" if unit == "%" else f"{abs(change):.2f}个百分点"
        return ("上升" if change > 0 else "下降") + amount
    if change is None:
        return "no comparison"
    if change == 0:
        return "unchanged"
    amount = f"{abs(change):.1f}%" if unit == "%" else f"{abs(change):.2f} pt"
    return ("up " if change > 0 else "down ") + amount


def top_townships(content: ReportContent, n: int = 3) -> list[tuple[str, int]]:
    """The townships that received most in the period (ties by code), with at least one case."""
    rows = sorted((r for r in content.league if r.counts.received > 0), key=lambda r: (-r.counts.received, r.code))
    return [(r.name, r.counts.received) for r in rows[:n]]


def top_category(content: ReportContent) -> tuple[str, int] | None:
    ranked = sorted(((n, k) for k, n in content.categories.items() if n > 0), key=lambda item: (-item[0], item[1]))
    return (ranked[0][1], ranked[0][0]) if ranked else None


def summary(content: ReportContent, lang: str) -> str:
    """The summary paragraph; every number in it is a figure of the key-figure table or of the tables below."""
    now, prev, year = content.current, content.previous, content.last_year
    mom, yoy = relative_change(now.received, prev.received), relative_change(now.received, year.received)
    towns = top_townships(content) if content.area_code == content.county_code else []
    category = top_category(content)
    when, at = period_text(content, lang), instant_text(content, lang)
    if lang == "zh":
        parts = [
            f"{when}，{content.area_name}共受理矛盾纠纷{count_text(now.received)}件，环比{_trend_words(mom, lang)}，"
            f"同比{_trend_words(yoy, lang)}；其中已办结{count_text(now.closed)}件，办结率{rate_text(now.closure_rate)}，"
            f"按期办结率{rate_text(now.on_time_rate)}，回访满意率{rate_text(now.satisfaction_rate)}。",
            f"截至{at}，在办{count_text(content.instant.open)}件，其中超期{count_text(content.instant.overdue)}件。",
            f"期内新增红色预警{count_text(content.red_new)}件、橙色预警{count_text(content.orange_new)}件。",
        ]
        if towns:
            parts.append("、".join(name for name, _ in towns) + "受理量居前，分别为"
                         + "、".join(f"{count_text(n)}件" for _, n in towns) + "。")
        if category:
            key, n = category
            parts.append(f"从类别看，{label(f'category.{key}', lang)}最多，{count_text(n)}件，"
                         f"占{rate_text(percent(n, now.received))}。")
        return "".join(parts)
    parts = [
        f"{ {'daily': 'On', 'weekly': 'From', 'monthly': 'In'}[content.kind.value]} {when}, {content.area_name} received {count_text(now.received)} disputes, "
        f"{_trend_words(mom, lang)} on the previous period and {_trend_words(yoy, lang)} on a year earlier; "
        f"{count_text(now.closed)} of them are closed, a closure rate of {rate_text(now.closure_rate)}, "
        f"an on-time rate of {rate_text(now.on_time_rate)} and a satisfaction rate of {rate_text(now.satisfaction_rate)}.",
        f" At {at}, {count_text(content.instant.open)} cases were open, {count_text(content.instant.overdue)} of them overdue.",
        f" New in the period: {count_text(content.red_new)} red and {count_text(content.orange_new)} orange alerts.",
    ]
    if towns:
        parts.append(" Most received: " + ", ".join(f"{name} ({count_text(n)})" for name, n in towns) + ".")
    if category:
        key, n = category
        parts.append(f" The commonest type was {label(f'category.{key}', lang).lower()}, {count_text(n)} cases, "
                     f"{rate_text(percent(n, now.received))} of all.")
    return "".join(parts)


def league_cells(content: ReportContent, lang: str) -> list[list[str]]:
    rows = sorted(content.league, key=lambda r: (r.counts.closure_rate is None, -(r.counts.closure_rate or 0.0),
                                                 r.overdue, r.red, r.code))
    return [[str(i + 1), r.name, count_text(r.counts.received), rate_text(r.counts.closure_rate),
             count_text(r.overdue), count_text(r.red)] for i, r in enumerate(rows)]


def alert_cells(content: ReportContent, lang: str) -> list[list[str]]:
    return [[a.received.strftime("%m-%d"), label(f"level.{a.level}", lang), a.township, a.village,
             label(f"category.{a.category}", lang), str(a.people), reasons_text(a.reasons, lang)]
            for a in content.alerts]


def overdue_cells(content: ReportContent, lang: str) -> list[list[str]]:
    return [[o.township, o.village, label(f"category.{o.category}", lang), text(f"tier.{o.tier}", lang),
             label(f"level.{o.level}", lang), text("days", lang).format(n=o.days_over)]
            for o in content.overdue_cases]


def table_note(total: int, shown: int, lang: str) -> str:
    if total == 0:
        return text("none", lang)
    if total > shown:
        return text("more", lang).format(total=count_text(total), shown=shown)
    return text("all", lang).format(total=count_text(total))


def definitions(lang: str) -> list[tuple[str, str]]:
    return [(text(key, lang), words[lang]) for key, words in DEFINITIONS]


def file_stem(content: ReportContent) -> str:
    """``daily-2025-06-02-220283-zh``: what the files are called when downloaded."""
    return f"{content.kind.value}-{content.period_name}-{content.area_code}-{content.lang}"


def days_between(later: datetime, earlier: datetime) -> int:
    """Whole days ``later`` is past ``earlier`` (at least 0)."""
    return max(0, (later - earlier) // timedelta(days=1))
