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
}

DEFINITIONS: dict[str, dict[str, str]] = {
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


def client_labels(lang: str) -> dict[str, str]:
    """The subset the map's JavaScript needs for tooltips and reasons."""
    words = {k: v[lang] for k, v in LABELS.items() if k.startswith(("tip.", "level."))}
    words.update({f"reason.{k}": v[lang] for k, v in REASONS.items()})
    return words
