"""The panel's analytics page: the same report as ``python -m bot report``, in the browser.

The shop owner picks a date range; the page computes the report from the
server's tracker store and the decision log (nothing cached) and shows it with
the charts inlined. Drawing charts is CPU work, so it runs in a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from typing import Any, Optional, Tuple

from bot.assist.analytics import SHANGHAI, load_report, resolve_range
from bot.assist.report import report_section

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>安心 · 售后数据</title><link rel="icon" href="data:,">
<style>
body {{ margin: 0; font-family: -apple-system, "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  background: #f2f4f7; color: #1d2939; }}
header {{ display: flex; gap: 16px; align-items: center; padding: 10px 16px; background: #1d2939; color: #fff; }}
header a {{ color: #9ec5fe; }}
form {{ display: flex; gap: 8px; align-items: center; margin-left: auto; }}
main {{ padding: 16px; max-width: 1100px; margin: 0 auto; }}
.error {{ color: #b42318; background: #fef3f2; padding: 8px; border-radius: 6px; }}
img {{ max-width: 100%; }}
</style></head><body>
<header><strong>安心 · 售后数据</strong><a href="/webhooks/assist/">← 客服工作台</a>
<form method="get" action="/webhooks/assist/analytics">
<label>从 <input type="date" name="from" value="{start}"></label>
<label>到 <input type="date" name="to" value="{end}"></label>
<button type="submit">查看</button></form></header>
<main>{body}</main></body></html>"""


def _day(text: Optional[str], name: str) -> Optional[dt.date]:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} 不是日期（YYYY-MM-DD）：{text}") from None


async def analytics_page(
    tracker_store: Any, database_url: str, start: Optional[str], end: Optional[str]
) -> Tuple[str, int]:
    """The page's HTML and status: 200, or 400 with the form and the problem for bad dates."""
    today = dt.datetime.now(SHANGHAI).date()
    try:
        first, last = resolve_range(_day(start, "from"), _day(end, "to"), today)
    except ValueError as problem:
        body = f'<p class="error" role="alert">{html.escape(str(problem))}</p>'
        return PAGE.format(start=html.escape(start or ""), end=html.escape(end or ""), body=body), 400
    # Rasa's SQL tracker store reads synchronously inside its async methods: read in a
    # thread with its own loop, so buyers' messages are not held up by a long range.
    report = await asyncio.to_thread(
        asyncio.run, load_report(tracker_store, database_url, first, last)
    )
    section = await asyncio.to_thread(report_section, report)
    return PAGE.format(start=first.isoformat(), end=last.isoformat(), body=section), 200
