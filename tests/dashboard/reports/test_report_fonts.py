"""The report font renders every township and village name of the demo county and of its whole
city (吉林市), every label of the reports and the screens, not only the wall's subset."""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard.domain.labels import DEFINITIONS, LABELS
from dashboard.domain.report_text import DEFINITIONS as REPORT_DEFINITIONS, TEXT
from dashboard.reports.fonts import covers, font_files
from dashboard.settings import PROJECT_ROOT

DATA = PROJECT_ROOT.parent / "shared" / "data"


def _names() -> str:
    files = sorted(DATA.glob("shulan/*.csv")) + sorted(DATA.glob("jilin-city/*.csv"))
    assert len(files) >= 4, "the demo county's and the city's lists are beside the checkout"
    names = []
    for path in files:
        with path.open(encoding="utf-8-sig") as handle:
            names += [row.get("name", "") + row.get("township_name", "") for row in csv.DictReader(handle)]
    return "".join(names)


def test_every_place_name_and_label_has_a_glyph_in_both_weights(report_fonts: list[Path], tmp_path: Path) -> None:
    words = _names() + "".join(v for entry in (*LABELS.values(), *DEFINITIONS.values(), *TEXT.values()) for v in entry.values())
    words += "".join(v for _, entry in REPORT_DEFINITIONS for v in entry.values())
    assert len(set(words)) > 900
    for font in report_fonts:
        assert covers(font, words) == set(), font.name


def test_the_merged_fonts_are_reused_not_rebuilt(report_fonts: list[Path], tmp_path: Path) -> None:
    again = font_files(tmp_path / "fonts")
    assert again == report_fonts, "a second var directory reuses the fonts already built"
    assert [f.stat().st_size > 3_000_000 for f in again] == [True, True]
