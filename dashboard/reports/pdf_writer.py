"""The report as PDF, typeset by Typst (its Python package: a compiler in the wheel, no system
package) with the product's merged Noto Sans SC (``dashboard.reports.fonts``); system fonts are
ignored, so every machine produces the same document and nothing is fetched.

The template (``templates/report.typ``) reads one JSON file of strings already rendered by
``dashboard.domain.report_text``: the PDF prints exactly what the DOCX prints.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import typst

from dashboard.domain.report_content import ReportContent
from dashboard.domain.report_periods import report_year
from dashboard.domain.report_text import (
    alert_cells, compiled_text, definitions, issue_text, key_figures, league_cells, overdue_cells, period_text,
    summary, table_note, text, title,
)

TEMPLATE = files("dashboard.reports").joinpath("templates", "report.typ")


def document_data(content: ReportContent) -> dict[str, object]:
    lang = content.lang
    heads = {k: text(f"h.{k}", lang) for k in ("summary", "figures", "charts", "map", "league", "alerts", "overdue",
                                                "warnings", "appendix")}
    return {
        "lang": lang, "title": title(content, lang),
        "short": f"{content.county_name} {text(f'short.{content.kind.value}', lang)} {content.period_name}",
        "office": text("office", lang).format(county=content.county_name),
        "issue": issue_text(content, report_year(content.kind, content.period), lang),
        "compiled": compiled_text(content, lang),
        "period": text("period", lang).format(period=period_text(content, lang)),
        "area": text("area", lang).format(area=content.area_name),
        "headings": heads, "summary": summary(content, lang),
        "figures": {"header": [text(k, lang) for k in ("col.figure", "col.value", "col.mom", "col.yoy")],
                    "rows": [[f.label, f.value, f.mom, f.yoy] for f in key_figures(content, lang)]},
        "league": {"header": [text(k, lang) for k in ("col.rank", "col.township", "col.received", "col.closure",
                                                      "col.overdue", "col.red")],
                   "rows": league_cells(content, lang)},
        "alerts": {"header": [text(k, lang) for k in ("col.date", "col.level", "col.township", "col.village",
                                                      "col.category", "col.people", "col.reasons")],
                   "rows": alert_cells(content, lang),
                   "note": table_note(content.alerts_total, len(content.alerts), lang)},
        "overdue": {"header": [text(k, lang) for k in ("col.township", "col.village", "col.category", "col.tier",
                                                       "col.level", "col.days_over")],
                    "rows": overdue_cells(content, lang),
                    "note": table_note(content.overdue_total, len(content.overdue_cases), lang)},
        "warnings": [w.text for w in content.warnings],
        "definitions": [list(pair) for pair in definitions(lang)],
        "no_personal": text("no_personal", lang),
    }


def write_pdf(content: ReportContent, charts: dict[str, bytes], fonts: Sequence[Path]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="report-") as folder:
        root = Path(folder)
        (root / "report.typ").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
        (root / "data.json").write_text(json.dumps(document_data(content), ensure_ascii=False), encoding="utf-8")
        for name, png in charts.items():
            (root / f"{name}.png").write_bytes(png)
        folders = sorted({str(path.parent) for path in fonts})
        return typst.compile(str(root / "report.typ"), root=str(root), font_paths=folders, ignore_system_fonts=True,
                             timestamp=int(content.compiled_at.timestamp()))
