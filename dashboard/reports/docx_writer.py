"""The report as a Word document (python-docx), editable in Word and WPS.

Chinese runs name 宋体 (body) and 黑体 (headings), the fonts every Chinese Windows and WPS
install has, as government offices file their documents; Latin text uses the same faces. The
charts are embedded as PNG (drawn with the product's own font), so they look the same everywhere.
A4, 2.5 cm margins, tables with a header row that repeats on each page.
"""

from __future__ import annotations

import io


from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from dashboard.domain.report_content import ReportContent
from dashboard.domain.report_periods import report_year
from dashboard.domain.report_text import (
    alert_cells, compiled_text, definitions, issue_text, key_figures, league_cells, overdue_cells, period_text,
    summary, table_note, text, title,
)

BODY_FONT, HEADING_FONT = "宋体", "黑体"


def _font(run_or_style, name: str, size: float | None = None, bold: bool | None = None) -> None:  # type: ignore[no-untyped-def]
    font = run_or_style.font
    font.name = name
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _heading(document, words: str) -> None:  # type: ignore[no-untyped-def]
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.space_after = Pt(4)
    paragraph.paragraph_format.keep_with_next = True
    _font(paragraph.add_run(words), HEADING_FONT, 14, True)


def _table(document, header: list[str], rows: list[list[str]], widths: list[float]) -> None:  # type: ignore[no-untyped-def]
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, words in zip(table.rows[0].cells, header):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(words), HEADING_FONT, 10, True)
    header_props = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header_props.append(repeat)
    for row in rows:
        cells = table.add_row().cells
        for i, (cell, words) in enumerate(zip(cells, row)):
            paragraph = cell.paragraphs[0]
            if i > 0 and any(ch.isdigit() for ch in words[:1] + words[-1:]) and len(words) < 14:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _font(paragraph.add_run(words), BODY_FONT, 10)
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Cm(width)


def _note(document, words: str) -> None:  # type: ignore[no-untyped-def]
    run = document.add_paragraph().add_run(words)
    _font(run, BODY_FONT, 9)
    run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)


def _picture(document, png: bytes, width_cm: float) -> None:  # type: ignore[no-untyped-def]
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))


def write_docx(content: ReportContent, charts: dict[str, bytes]) -> bytes:
    lang = content.lang
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    _font(document.styles["Normal"], BODY_FONT, 11)
    properties = document.core_properties
    properties.title = title(content, lang)
    properties.author = text("office", lang).format(county=content.county_name)
    properties.created = properties.modified = content.compiled_at.replace(tzinfo=None)
    properties.revision = 1
    properties.last_modified_by = ""

    head = document.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(head.add_run(title(content, lang)), HEADING_FONT, 20, True)
    line = document.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(line.add_run(issue_text(content, report_year(content.kind, content.period), lang)), BODY_FONT, 12)
    meta = document.add_paragraph()
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(meta.add_run(f"{compiled_text(content, lang)}\n{text('period', lang).format(period=period_text(content, lang))}"
                       f"　{text('area', lang).format(area=content.area_name)}"), BODY_FONT, 10)

    _heading(document, text("h.summary", lang))
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.first_line_indent = Pt(22)
    paragraph.paragraph_format.line_spacing = 1.4
    _font(paragraph.add_run(summary(content, lang)), BODY_FONT, 12)

    _heading(document, text("h.figures", lang))
    _table(document, [text("col.figure", lang), text("col.value", lang), text("col.mom", lang), text("col.yoy", lang)],
           [[f.label, f.value, f.mom, f.yoy] for f in key_figures(content, lang)], [5.0, 3.5, 3.5, 3.5])

    _heading(document, text("h.charts", lang))
    _picture(document, charts["trend"], 15.5)
    _picture(document, charts["categories"], 7.5)
    _picture(document, charts["sources"], 7.5)
    _picture(document, charts["pyramid"], 7.5)

    _heading(document, text("h.map", lang))
    _picture(document, charts["map"], 15.5)

    _heading(document, text("h.league", lang))
    _table(document, [text(k, lang) for k in ("col.rank", "col.township", "col.received", "col.closure", "col.overdue",
                                              "col.red")],
           league_cells(content, lang), [1.2, 4.3, 2.5, 2.5, 2.5, 2.5])

    _heading(document, text("h.alerts", lang))
    _note(document, table_note(content.alerts_total, len(content.alerts), lang))
    if content.alerts:
        _table(document, [text(k, lang) for k in ("col.date", "col.level", "col.township", "col.village",
                                                  "col.category", "col.people", "col.reasons")],
               alert_cells(content, lang), [1.6, 1.3, 2.4, 2.6, 2.0, 1.4, 4.2])

    _heading(document, text("h.overdue", lang))
    _note(document, table_note(content.overdue_total, len(content.overdue_cases), lang))
    if content.overdue_cases:
        _table(document, [text(k, lang) for k in ("col.township", "col.village", "col.category", "col.tier",
                                                  "col.level", "col.days_over")],
               overdue_cells(content, lang), [3.0, 3.4, 2.4, 2.4, 1.6, 2.2])

    if content.warnings:
        _heading(document, text("h.warnings", lang))
        for note in content.warnings:
            _font(document.add_paragraph().add_run(note.text), BODY_FONT, 11)

    _heading(document, text("h.appendix", lang))
    for name, meaning in definitions(lang):
        paragraph = document.add_paragraph()
        _font(paragraph.add_run(f"{name}："), HEADING_FONT, 10, True)
        _font(paragraph.add_run(meaning), BODY_FONT, 10)
    _note(document, text("no_personal", lang))

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


