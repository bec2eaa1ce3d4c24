"""How long a monthly report of the demo county takes, both formats, charts and map included.

    python -m bench.report_bench [--runs 3] [--period 2025-06] [--lang zh]

Uses the configured deployment (``make run``'s ``var/`` by default, or ``MEDIATION_VAR_DIR`` /
``DATABASE_URL`` / ``REDIS_URL``): the demo county with its 400 days of history. Each run is the
product's own ``dashboard.reports.service.make`` (gather figures, draw five images, write DOCX and
PDF, archive a new version, audit), timed per phase. The first-ever font merge is timed apart:
it happens once per machine (cached under ``var/fonts``). Goal: ≤ 10 s per monthly report.
Prints a table and writes ``bench/results/reports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.table import Column, render
from dashboard.domain.periods import local_date
from dashboard.domain.report_periods import ReportKind, containing, parse_period
from dashboard.reports import service
from dashboard.reports.fonts import font_files
from dashboard.runtime import Runtime
from dashboard.settings import load_settings

GOAL_SECONDS = 10.0
RESULTS = Path(__file__).with_name("results") / "reports.json"
PHASES = ("figures", "charts", "docx", "pdf", "archive", "total")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", help="YYYY-MM (default: last month)")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    args = parser.parse_args()
    rt = Runtime(load_settings())
    try:
        started = time.perf_counter()
        font_files(service.font_dir(rt))
        fonts_seconds = time.perf_counter() - started
        today = local_date(datetime.now(UTC))
        period = parse_period(ReportKind.monthly, args.period) if args.period else \
            containing(ReportKind.monthly, today.replace(day=1) - timedelta(days=1))
        rows = []
        for run in range(1, args.runs + 1):
            made = service.make(rt, kind=ReportKind.monthly, period=period, lang=args.lang, actor="bench",
                                role="cli")
            rows.append({"run": run, **{p: made.seconds[p] for p in PHASES},
                         "docx_kb": len(made.documents["docx"]) / 1024, "pdf_kb": len(made.documents["pdf"]) / 1024})
        median = {p: statistics.median(r[p] for r in rows) for p in PHASES}
        rows.append({"run": "median", **median})
        columns = [Column("run", "run"), *(Column(p, f"{p} s", ".2f") for p in PHASES),
                   Column("docx_kb", "DOCX KB", ".0f"), Column("pdf_kb", "PDF KB", ".0f")]
        with rt.sessions() as session:
            from data_access import cases
            total_cases = cases.count(session, rt.cases.county_code)
        print(f"monthly report {period.first:%Y-%m} of county {rt.cases.county_code} ({total_cases:,} cases), "
              f"lang {args.lang}; font merge (once per machine, cached): {fonts_seconds:.1f} s")
        print(render(rows, columns))
        verdict = "met" if median["total"] <= GOAL_SECONDS else "MISSED"
        print(f"goal ≤ {GOAL_SECONDS:.0f} s per monthly report, both formats: {verdict} (median {median['total']:.2f} s)")
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({
            "at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
            "cpus": os.cpu_count(), "load": os.getloadavg(), "county": rt.cases.county_code, "cases": total_cases,
            "period": f"{period.first:%Y-%m}", "lang": args.lang, "fonts_seconds_cached_or_built": fonts_seconds,
            "runs": rows, "goal_seconds": GOAL_SECONDS, "met": verdict == "met",
        }, ensure_ascii=False, indent=2, default=str) + "\n")
    finally:
        rt.close()


if __name__ == "__main__":
    main()
