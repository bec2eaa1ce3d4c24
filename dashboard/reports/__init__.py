"""Written reports (日报 / 周报 / 月分析研判): content, charts, the county map, DOCX and PDF, the
archive, the schedule and the /reports pages. See docs/reports.md."""
