"""Ledgers as counties keep them, built in the suite: a county with real-looking place names, and
one ledger's content written as XLSX (title rows, merged title, Excel date cells) and as CSV in
UTF-8, UTF-8 with BOM, GBK and GB18030."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook
from shapely.geometry import Point, box
from sqlalchemy.orm import Session

from dashboard.imports import onboarding
from geo.generate import GeneratedArea, GeneratedCounty
from tests.factories import COUNTY

TOWNSHIPS = {"001": ("平安镇", ("平安村", "保安村民委员会", "新华社区")),
             "002": ("法特镇", ("法特村", "法特社区", "保安村"))}
"""Names as official lists write them: two units whose stems are one (法特村, 法特社区), one name in
two townships (保安村), one with the long official suffix (保安村民委员会)."""

TITLE = "测试县2025年矛盾纠纷排查化解台账"
HEADER = ["序号", "案件编号", "登记时间", "来源渠道", "纠纷类型", "所属乡镇（街道）", "所属村（社区）", "涉及人数",
          "化解层级", "办理状态", "办结时间", "回访满意度", "简要案情", "当事人", "联系电话", "身份证号", "住址", "备注"]


def ledger_county() -> GeneratedCounty:
    """Two townships × three villages × two grids, 0.1° squares near the demo county."""
    townships, villages, grids = [], [], []
    for t, (suffix, (t_name, v_names)) in enumerate(TOWNSHIPS.items()):
        t_code = f"{COUNTY}{suffix}"
        t_box = box(127.0 + 0.6 * t, 44.0, 127.6 + 0.6 * t, 44.2)
        townships.append(GeneratedArea(t_code, t_name, None, "town", t_box, t_box.centroid))
        for v, v_name in enumerate(v_names):
            v_code = f"{t_code}{v + 1:03d}"
            v_box = box(127.0 + 0.6 * t + 0.2 * v, 44.0, 127.2 + 0.6 * t + 0.2 * v, 44.2)
            villages.append(GeneratedArea(v_code, v_name, t_code, "village", v_box, Point(v_box.centroid.x, 44.15)))
            for g in range(2):
                g_box = box(v_box.bounds[0], 44.0 + 0.1 * g, v_box.bounds[2], 44.1 + 0.1 * g)
                grids.append(GeneratedArea(f"{v_code}{g + 1:03d}", f"{v_name}第{g + 1}网格", v_code, "grid",
                                           g_box, g_box.centroid))
    return GeneratedCounty(townships, villages, grids, Point(127.6, 44.1))


def save_ledger_county(session: Session) -> str:
    report = onboarding.save_county(
        session, ledger_county(), name="测试县", now=datetime(2026, 1, 1, tzinfo=UTC),
        outline_geojson='{"type":"Polygon","coordinates":[[[127,44],[128.2,44],[128.2,44.2],[127,44.2],[127,44]]]}')
    return report.county_code


@dataclass(frozen=True)
class Entry:
    """One ledger row: its text as a CSV holds it, and the value an XLSX cell holds where they differ."""

    cells: list[str]
    xlsx: dict[int, object]


def _entry(n: int, ref: str, received: str, source: str, category: str, township: str, village: str, people: str,
           tier: str, status: str, resolved: str = "", satisfaction: str = "", *, xlsx: dict[int, object] | None = None,
           name: str = "", phone: str = "", id_number: str = "", address: str = "") -> Entry:
    return Entry([str(n), ref, received, source, category, township, village, people, tier, status, resolved,
                  satisfaction, f"第{n}件纠纷的简要案情", name, phone, id_number, address, "备注文字" if n % 3 else ""],
                 xlsx or {})


def march_ledger() -> list[Entry]:
    """Twenty rows of March 2025: every date shape, synonyms and labels, places with and without
    suffixes, personal data; all of them good with the county's words file (劳资债务)."""
    return [
        _entry(1, "SL-2025-0001", "2025/3/5 9:30", "12345", "土地纠纷", "平安镇", "平安村", "3", "村级", "已受理",
               name="张三", phone="13800138000", id_number="220283198001011234", address="平安镇平安村三组"),
        _entry(2, "SL-2025-0002", "2025-03-05 10:15:00", "12345热线", "欠薪", "平安镇", "平安", "12", "镇级", "调处中",
               xlsx={2: datetime(2025, 3, 5, 10, 15)}),
        _entry(3, "SL-2025-0003", "2025年3月6日 14:20", "来信来访", "婚姻家庭", "平安镇", "保安村", "2", "村级", "已办结",
               "2025年3月8日 16:00", name="李四", phone="0432-68212345"),
        _entry(4, "SL-2025-0004", "2025/3/7", "网格员", "邻里矛盾", "平安镇", "新华社区居委会", "2", "村（社区）级", "已回访",
               "2025/3/9", "满意", xlsx={2: date(2025, 3, 7), 10: date(2025, 3, 9)}),
        _entry(5, "SL-2025-0005", "2025-03-08 08:00:00", "走访", "借贷纠纷", "法特镇", "法特村委会", "1", "镇级", "已回访",
               "2025-03-20 17:30:00", "基本满意",
               xlsx={2: datetime(2025, 3, 8, 8, 0), 10: datetime(2025, 3, 20, 17, 30)}),
        _entry(6, "SL-2025-0006", "2025/3/9 11:05", "小程序", "劳资债务", "法特镇", "法特社区", "4", "县（市）级", "已办结",
               "2025/4/2 10:00"),
        _entry(7, "SL-2025-0007", "2025年3月10日", "110", "土地流转", "法特", "保安村", "6", "镇级", "已回访",
               "2025年3月25日", "一般"),
        _entry(8, "SL-2025-0008", "2025/3/11 15:45", "法院", "债务", "法特镇", "法特村", "2", "县级", "已交办"),
        _entry(9, "SL-2025-0009", "2025/3/12 9:00", "APP", "家庭纠纷", "平安镇", "平安村民委员会", "2", "村级", "已研判"),
        _entry(10, "SL-2025-0010", "2025/3/13 13:30", "网上", "山林纠纷", "平安镇", "保安", "3", "村级", "已回访",
               "2025/3/14 9:00", "不满意"),
        _entry(11, "SL-2025-0011", "2025/3/14 8:30", "信访件", "拖欠工资", "法特镇", "法特居委会", "35", "县级", "化解中"),
        _entry(12, "SL-2025-0012", "2025-03-15 16:20:00", "诉前调解", "婚姻纠纷", "法特镇", "", "2", "镇级", "已化解",
               "2025-03-18 11:00:00", xlsx={2: datetime(2025, 3, 15, 16, 20), 10: datetime(2025, 3, 18, 11, 0)}),
        _entry(13, "SL-2025-0013", "2025/3/16 10:10", "群众来访", "邻里纠纷", "平安镇", "新华", "2", "村级", "已结案",
               "2025/3/16 18:00"),
        _entry(14, "SL-2025-0014", "2025/3/18 9:40", "网格上报", "土地山林", "法特镇", "保安村委会", "5", "村级", "办理中"),
        _entry(15, "SL-2025-0015", "2025/3/20 14:00", "hotline_12345", "land", "平安镇", "平安村", "2", "village",
               "followed_up", "2025/3/22 10:00", "satisfied"),
        _entry(16, "SL-2025-0016", "2025/3/22 9:15", "12345", "劳资纠纷", "法特镇", "法特社区", "15", "镇级", "待研判"),
        _entry(17, "SL-2025-0017", "2025/3/25 10:30", "线上", "债务纠纷", "平安镇", "保安村民委员会", "1", "村级", "已办结",
               "2025/3/26"),
        _entry(18, "SL-2025-0018", "2025/3/27 11:00", "来访", "其他", "法特镇", "法特村", "1", "村级", "已分流"),
        _entry(19, "SL-2025-0019", "2025年3月29日 8:05", "１２３４５", "婚姻家庭", "平安镇", "平安村", "2", "村级", "已回访",
               "2025年3月31日 9:00", "满意"),
        _entry(20, "SL-2025-0020", "2025/3/31 23:50", "网格员上报", "欠薪", "法特镇", "保安村", "8", "镇级", "已办结",
               "2025/3/31"),
    ]


EXPECTED = {"received": 20, "closed": 12, "followed_up": 6, "satisfied": 4,
            "township": {"990101001": 10, "990101002": 10}}
"""What the March ledger must give, counted by hand from the rows above."""

WORDS = '[category]\n"劳资债务" = "labour_wages"\n'


def title_rows(width: int) -> list[list[str]]:
    return [[TITLE] + [""] * (width - 1), ["填报单位：测试县矛调中心", "", "", "填报日期：2025年4月1日"] + [""] * (width - 4)]


def write_csv(path: Path, entries: list[Entry], encoding: str, *, header: list[str] = HEADER) -> Path:
    """As Excel saves a CSV: the title rows too; ``utf-8-sig``, ``utf-8``, ``gbk`` or ``gb18030``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerows(title_rows(len(header)))
    writer.writerow(header)
    writer.writerows(entry.cells for entry in entries)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, entries: list[Entry], *, header: list[str] = HEADER) -> Path:
    """A merged title over the header, a second title row, then the header and the rows; the
    cells listed in ``Entry.xlsx`` hold Excel dates (or numbers) instead of text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "台账"
    for row in title_rows(len(header)):
        sheet.append([cell or None for cell in row])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(header)
    for entry in entries:
        values: list[object] = [cell or None for cell in entry.cells]
        values[0] = int(entry.cells[0])
        values[7] = int(entry.cells[7])
        for index, value in entry.xlsx.items():
            values[index] = value
        sheet.append(values)
    for row in sheet.iter_rows(min_row=4, min_col=3, max_col=3):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    book.save(path)
    return path
