"""Every word on screen, in Chinese (default) and English, from one catalogue."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "矛盾纠纷调处化解指挥中心", "en": "Dispute Resolution Command Centre"},
    "received_today": {"zh": "今日受理", "en": "Received today"},
    "closed_today": {"zh": "今日受理已办结", "en": "Of those, closed"},
    "open": {"zh": "在办", "en": "Open"},
    "overdue": {"zh": "超期", "en": "Overdue"},
    "closure_rate_30d": {"zh": "近{days}日办结率", "en": "{days}-day closure rate"},
    "red_alerts": {"zh": "红色预警", "en": "Red alerts"},
    "updated": {"zh": "更新于", "en": "Updated"},
    "live": {"zh": "实时", "en": "Live"},
    "reconnecting": {"zh": "重连中", "en": "Reconnecting"},
    "polling": {"zh": "实时（轮询）", "en": "Live (polling)"},
    "stale_since": {"zh": "数据停滞，自", "en": "Stale since"},
    "generated_note": {"zh": "乡镇与网格边界为生成示意，非官方界线", "en": "Township and grid boundaries are generated, not official"},
    "level.red": {"zh": "红色", "en": "Red"},
    "level.orange": {"zh": "橙色", "en": "Orange"},
    "level.yellow": {"zh": "黄色", "en": "Yellow"},
    "level.blue": {"zh": "蓝色", "en": "Blue"},
    "level.none": {"zh": "无在办", "en": "No open cases"},
    "tip.open": {"zh": "在办", "en": "Open"},
    "tip.overdue": {"zh": "超期", "en": "Overdue"},
    "tip.received30": {"zh": "近30日受理", "en": "Received (30 d)"},
    "tip.closed30": {"zh": "其中已办结", "en": "Of those closed"},
    "tip.rate30": {"zh": "办结率", "en": "Closure rate"},
    "tip.center_open": {"zh": "辖区在办", "en": "Open in area"},
    "received_period": {"zh": "近{days}日受理", "en": "Received ({days} d)"},
    "satisfaction_rate": {"zh": "满意率", "en": "Satisfaction"},
    "chg.mom": {"zh": "环比", "en": "vs prev."},
    "chg.yoy": {"zh": "同比", "en": "vs last yr"},
    "panel.categories": {"zh": "案件类别 · 近{days}日", "en": "Case types · {days} d"},
    "panel.sources": {"zh": "来源渠道 · 近{days}日", "en": "Sources · {days} d"},
    "panel.trend": {"zh": "近30日受理与办结", "en": "Received and closed, 30 days"},
    "panel.pyramid": {"zh": "化解层级 · 小事不出村", "en": "Resolved at tier"},
    "panel.league": {"zh": "乡镇排行 · 近{days}日", "en": "Townships · {days} d"},
    "panel.ticker": {"zh": "最新预警", "en": "Newest alerts"},
    "league.rank": {"zh": "#", "en": "#"},
    "league.name": {"zh": "乡镇", "en": "Township"},
    "league.rate": {"zh": "办结率", "en": "Closure"},
    "league.overdue": {"zh": "超期", "en": "Overdue"},
    "league.red": {"zh": "红色", "en": "Red"},
    "trend.tip": {"zh": "{day} 受理 {received} · 其中已办结 {closed}", "en": "{day}: received {received}, closed {closed}"},
    "trend.received": {"zh": "受理", "en": "Received"},
    "trend.closed": {"zh": "其中已办结", "en": "Of those closed"},
    "tier.village": {"zh": "村级化解", "en": "Village"},
    "tier.township": {"zh": "镇级化解", "en": "Township"},
    "tier.county": {"zh": "县级化解", "en": "County"},
    "tour.caption": {"zh": "{name}：红色预警 {red} · 超期 {overdue} · 在办 {open} · 办结率 {rate}",
                     "en": "{name}: red {red} · overdue {overdue} · open {open} · closure {rate}"},
    "ticker.what": {"zh": "{category} · {people}人", "en": "{category} · {people} people"},
    "period.label": {"zh": "统计周期", "en": "Period"},
    "category.marriage_family": {"zh": "婚姻家庭", "en": "Marriage & family"},
    "category.neighbour": {"zh": "邻里纠纷", "en": "Neighbours"},
    "category.land": {"zh": "土地山林", "en": "Land"},
    "category.labour_wages": {"zh": "劳资欠薪", "en": "Labour & wages"},
    "category.debt": {"zh": "债务纠纷", "en": "Debt"},
    "category.demolition": {"zh": "征地拆迁", "en": "Demolition"},
    "category.property_mgmt": {"zh": "物业管理", "en": "Property mgmt"},
    "category.consumer": {"zh": "消费维权", "en": "Consumer"},
    "category.medical": {"zh": "医疗纠纷", "en": "Medical"},
    "category.traffic": {"zh": "交通事故", "en": "Traffic"},
    "category.environment": {"zh": "环境污染", "en": "Environment"},
    "category.other": {"zh": "其他", "en": "Other"},
    "source.hotline_12345": {"zh": "12345热线", "en": "12345 hotline"},
    "source.petition": {"zh": "信访", "en": "Petition"},
    "source.grid_report": {"zh": "网格员上报", "en": "Grid worker"},
    "source.walk_in": {"zh": "群众来访", "en": "Walk-in"},
    "source.online": {"zh": "网上（APP/小程序）", "en": "Online"},
    "source.police_110": {"zh": "110警情", "en": "Police 110"},
    "source.court": {"zh": "法院诉前", "en": "Court"},
    "source.other": {"zh": "其他", "en": "Other"},
    "status.received": {"zh": "受理", "en": "Received"},
    "status.assessed": {"zh": "研判", "en": "Assessed"},
    "status.dispatched": {"zh": "分流", "en": "Dispatched"},
    "status.mediating": {"zh": "调处", "en": "Mediating"},
    "status.resolved": {"zh": "办结", "en": "Resolved"},
    "status.followed_up": {"zh": "回访", "en": "Followed up"},
    "action.receive": {"zh": "受理", "en": "Received"},
    "action.assess": {"zh": "研判", "en": "Assessed"},
    "action.dispatch": {"zh": "分流", "en": "Dispatched"},
    "action.mediate": {"zh": "调处", "en": "Mediation started"},
    "action.resolve": {"zh": "办结", "en": "Resolved"},
    "action.follow_up": {"zh": "回访", "en": "Followed up"},
    "action.escalate": {"zh": "上报", "en": "Escalated"},
    "action.supervise": {"zh": "督办", "en": "Supervised"},
    "action.reopen": {"zh": "复发", "en": "Reopened"},
    "action.acknowledge": {"zh": "值班确认", "en": "Acknowledged"},
    "action.assign": {"zh": "分派", "en": "Assigned"},
}

DEFINITIONS: dict[str, dict[str, str]] = {
    "received_period": {
        "zh": "近{days}日（含今日）受理的案件数。环比：之前相同天数；同比：去年同期。",
        "en": "Cases received in the last {days} days (today included). Change vs the previous {days} days and the same days last year.",
    },
    "satisfaction_rate": {
        "zh": "近{days}日受理的案件中，回访满意数 ÷ 已回访数。分母：已回访数。",
        "en": "Satisfied ÷ followed up, over cases received in the last {days} days. Denominator: followed up.",
    },
    "panel.pyramid": {
        "zh": "近{days}日受理且已办结的案件，按办结时所在层级（村/镇/县）的占比。分母：已办结数。",
        "en": "Of the cases received in the last {days} days and resolved, the share resolved at each tier. Denominator: resolved.",
    },
    "panel.league": {
        "zh": "办结率 = 近{days}日受理中已办结 ÷ 近{days}日受理；超期、红色为此刻在办案件数。按办结率排序。",
        "en": "Closure rate = closed ÷ received over {days} days; overdue and red count open cases now. Sorted by closure rate.",
    },
    "panel.categories": {"zh": "近{days}日受理案件按类别计数。", "en": "Cases received in the last {days} days, by type."},
    "panel.sources": {"zh": "近{days}日受理案件按来源渠道计数。", "en": "Cases received in the last {days} days, by source."},
    "panel.trend": {
        "zh": "每日受理数（柱高）及其中截至此刻已办结的比例（深色部分）。",
        "en": "Cases received each day (bar height) and the share of them resolved by now (dark part).",
    },
    "panel.ticker": {
        "zh": "预警等级为红色或橙色的在办案件：红色在前，同级按最近变化排序；不显示任何个人信息。",
        "en": "Open cases at red or orange: red first, then most recently changed; no personal data is shown.",
    },
    "received_today": {
        "zh": "今日（北京时间）受理的案件数。",
        "en": "Cases whose receipt time falls today (Asia/Shanghai).",
    },
    "closed_today": {
        "zh": "今日受理的案件中，截至此刻已办结的数量。分母：今日受理数。",
        "en": "Of the cases received today, those resolved by now. Denominator: received today.",
    },
    "open": {"zh": "此刻尚未办结的案件数。", "en": "Cases not resolved at this instant."},
    "overdue": {
        "zh": "在办案件中已超过当前环节期限的数量。",
        "en": "Open cases past the deadline of their current stage.",
    },
    "closure_rate_30d": {
        "zh": "近{days}日（含今日）受理的案件中已办结数 ÷ 近{days}日受理数，保留两位小数。",
        "en": "Closed ÷ received, over cases received in the last {days} days (today included), two decimals.",
    },
    "red_alerts": {
        "zh": "红色预警的在办案件：涉及30人以上、有极端或群体性事件风险、或越级上访。",
        "en": "Open cases at red: 30+ people, risk of extreme behaviour or mass incident, or petitioning past the county.",
    },
}

REASONS: dict[str, dict[str, str]] = {
    "people_red": {"zh": "涉及30人以上", "en": "30+ people involved"},
    "risk_extreme": {"zh": "有极端行为风险", "en": "Risk of extreme behaviour"},
    "risk_mass_incident": {"zh": "有群体性事件风险", "en": "Risk of a mass incident"},
    "beyond_county_petition": {"zh": "越级上访", "en": "Petitioning past the county"},
    "people_orange": {"zh": "涉及10人以上", "en": "10+ people involved"},
    "repeat_petition": {"zh": "重复信访", "en": "Repeat petition"},
    "overdue_long": {"zh": "超期7天以上", "en": "Over deadline by 7+ days"},
    "overdue": {"zh": "已超期", "en": "Over deadline"},
    "due_soon": {"zh": "24小时内到期", "en": "Due within 24 h"},
    "escalated": {"zh": "已上报", "en": "Escalated"},
    "spike": {"zh": "今日新增显著高于28日基线", "en": "New cases today far above the 28-day baseline"},
}


def label(key: str, lang: str) -> str:
    return LABELS[key][lang]


def definition(key: str, lang: str) -> str:
    return DEFINITIONS[key][lang]


def reason_text(code: str, lang: str) -> str:
    return REASONS[code][lang] if code in REASONS else code


def client_labels(lang: str) -> dict[str, str]:
    """The subset the map's JavaScript needs for tooltips and reasons."""
    words = {k: v[lang] for k, v in LABELS.items() if k.startswith(("tip.", "level."))}
    words.update({f"reason.{k}": v[lang] for k, v in REASONS.items()})
    return words
