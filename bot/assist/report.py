"""The analytics report as Chinese HTML: inline for the web panel, or files on disk.

One renderer makes the report's ``<section>``; only where the chart images come
from differs. The panel embeds the section in its own page with the PNGs inlined
as ``data:`` URIs (one response, nothing to serve besides it); ``python -m bot
report`` writes ``report.html`` next to one PNG per chart, which it references by
relative name so the folder can be zipped or mailed as it is.
"""

from __future__ import annotations

import base64
import html
import pathlib
from typing import Dict, List, Mapping, Optional, Tuple

from bot.assist.analytics import (
    BOT_ONLY_DEFINITION,
    SETTLED_DEFINITION,
    Report,
)
from bot.assist.charts import render_png
from bot.assist.labels import REASON_WORDS, VERDICT_WORDS

REPORT_FILE = "report.html"
# Scoped to the section (and inside it) so the panel's page needs no stylesheet of ours.
STYLE = """
.anxin-report { font-family: "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
  sans-serif; max-width: 960px; margin: 0 auto; color: #222; }
.anxin-report table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
.anxin-report td, .anxin-report th { border: 1px solid #ccc; padding: 4px 10px; }
.anxin-report figure { margin: 1.5em 0; }
.anxin-report img { max-width: 100%; }
.anxin-report .note { color: #555; font-size: 0.9em; }
"""


def chart_images(report: Report) -> Dict[str, bytes]:
    """Chart key → PNG bytes, for every chart of ``report``."""
    return {key: render_png(chart) for key, chart in report.charts.items()}


def report_section(report: Report) -> str:
    """The report's ``<section>`` with the charts inlined as base64 ``data:`` URIs.

    For the web panel's analytics page, which wraps it in its own page. Drawing
    the charts is CPU work: call it in a thread from async code.
    """
    sources = {
        key: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for key, png in chart_images(report).items()
    }
    return _section(report, sources)


def report_html(report: Report) -> str:
    """A complete, self-contained HTML page of the report (charts inlined)."""
    return _page(report, report_section(report))


def write_report(report: Report, out_dir: pathlib.Path) -> List[pathlib.Path]:
    """Write ``report.html`` and one PNG per chart (``<chart key>.png``) into ``out_dir``.

    Returns:
        The paths written, the HTML first.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = []
    for key, png in chart_images(report).items():
        path = out_dir / f"{key}.png"
        path.write_bytes(png)
        pngs.append(path)
    page = out_dir / REPORT_FILE
    section = _section(report, {path.stem: path.name for path in pngs})
    page.write_text(_page(report, section), encoding="utf-8")
    return [page, *pngs]


def summary_items(report: Report) -> List[Tuple[str, str]]:
    """The report's figures as (label, value) pairs: the HTML table and the CLI's text."""
    share = report.bot_only_share
    requests = "，".join(
        f"{intent} {sum(row.values())}" for intent, row in report.requests.items()
    )
    verdicts = "，".join(f"{VERDICT_WORDS[v]} {n}" for v, n in report.verdicts.items())
    handoffs = "，".join(
        f"{REASON_WORDS.get(r, r)} {n}" for r, n in report.handoffs.items()
    )
    return [
        ("日期", f"{report.start} 至 {report.end}（北京时间）"),
        ("对话数", str(report.conversations)),
        ("售后诉求", requests),
        ("自动决定", verdicts),
        (
            "机器人独立解决",
            f"{report.bot_only}/{report.with_decision}"
            + (f"（{share:.0%}）" if share is not None else ""),
        ),
        ("转人工", handoffs or "无"),
        ("扬言投诉", str(report.escalations)),
        ("其中未需平台介入即解决", str(report.escalations_settled)),
        ("首次回复时间中位数", _seconds(report.first_reply_median_s)),
        ("首次回复时间 P90", _seconds(report.first_reply_p90_s)),
    ]


def _seconds(value: Optional[float]) -> str:
    if value is None:
        return "无数据"
    if value < 10:
        return f"{value:.1f} 秒"  # the bot answers within a second: "0 秒" would hide it
    return f"{value:.0f} 秒" if value < 120 else f"{value / 60:.1f} 分钟"


def _page(report: Report, section: str) -> str:
    title = html.escape(f"安心售后分析 {report.start} 至 {report.end}")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n"
        f"{section}\n</body>\n</html>\n"
    )


def _section(report: Report, sources: Mapping[str, str]) -> str:
    """The section, with each chart's ``<img src>`` taken from ``sources``."""
    escape = html.escape
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in summary_items(report)
    )
    figures = "".join(
        f'<figure id="chart-{escape(key)}">'
        f'<img src="{escape(sources[key])}" alt="{escape(chart.title)}">'
        f"<figcaption>{escape(chart.title)}</figcaption></figure>\n"
        for key, chart in report.charts.items()
    )
    return (
        f'<section class="anxin-report">\n<style>{STYLE}</style>\n'
        f"<h1>售后分析：{escape(str(report.start))} 至 {escape(str(report.end))}</h1>\n"
        '<p class="note">数据来自对话记录（tracker store）和决定日志；对话按买家第一条消息的'
        "日期计入，决定与转人工按其创建时间计入。</p>\n"
        f"<table>{rows}</table>\n"
        f'<p class="note">{escape(BOT_ONLY_DEFINITION)}</p>\n'
        f'<p class="note">{escape(SETTLED_DEFINITION)}</p>\n'
        f"{figures}</section>"
    )
