"""`python -m bot report` end to end, and the HTML the web panel embeds.

The CLI runs as a subprocess against the seeded stores of ``test_analytics``, with
DATABASE_URL in its environment as a deployment sets it.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from bot.assist import analytics, analytics_sources, charts
from bot.assist.report import report_html, report_section
from bot.rules import db
from bot.settings import PROJECT_ROOT
from test_analytics import END, START, seed_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CHARTS = (
    "conversations_per_day", "requests_by_intent_platform", "verdict_mix",
    "settled_by_bot", "handoffs_by_reason", "escalations", "first_reply_times",
)


class Seeded:
    """A seeded tracker file and decision database, and how to run the CLI on them."""

    def __init__(self, directory: pathlib.Path):
        self.tracker_db = directory / "tracker.db"
        self.database_url = f"sqlite:///{directory / 'anxin.db'}"
        self.out = directory / "report"

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """``python -m bot <args>`` with this database as DATABASE_URL."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=PROJECT_ROOT, env={**os.environ, "DATABASE_URL": self.database_url},
            capture_output=True, text=True, timeout=120,
        )


@pytest.fixture(scope="module")
async def seeded(tmp_path_factory) -> Seeded:
    """The scenario of ``test_analytics``, written once for this module."""
    stores = Seeded(tmp_path_factory.mktemp("report"))
    db.migrate(stores.database_url)
    await seed_scenario(stores.tracker_db, stores.database_url)
    return stores


@pytest.fixture(scope="module")
def cli_run(seeded) -> subprocess.CompletedProcess:
    """One report run over START..END (the slow part, shared by the checks)."""
    return seeded.run(
        "report", "--from", str(START), "--to", str(END), "--out", str(seeded.out),
        "--tracker-db", str(seeded.tracker_db),
    )


def test_report_writes_html_referencing_every_png(seeded, cli_run):
    assert cli_run.returncode == 0, cli_run.stderr
    page = (seeded.out / "report.html").read_text(encoding="utf-8")
    for chart in CHARTS:
        png = seeded.out / f"{chart}.png"
        assert f'src="{chart}.png"' in page
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, chart
    assert str(seeded.out / "report.html") in cli_run.stdout.splitlines()


def test_report_prints_the_figures(cli_run):
    assert "对话数：7" in cli_run.stdout
    assert "机器人独立解决：2/5（40%）" in cli_run.stdout
    assert "其中未需平台介入即解决：1" in cli_run.stdout
    assert "首次回复时间中位数：5.0 秒" in cli_run.stdout


@pytest.mark.parametrize(
    "dates, message",
    [
        (
            ("--from", "2026-11-30", "--to", "2026-11-01"),
            "the end date 2026-11-01 is before the start date 2026-11-30",
        ),
        (("--from", "2026-02-30"), "not a date (YYYY-MM-DD): '2026-02-30'"),
        (("--to", "yesterday"), "not a date (YYYY-MM-DD): 'yesterday'"),
    ],
)
def test_bad_dates_exit_2_with_a_message(seeded, dates, message):
    result = seeded.run("report", *dates, "--out", str(seeded.out / "bad"))
    assert result.returncode == 2
    assert message in result.stderr
    assert not (seeded.out / "bad").exists()


def test_a_missing_tracker_database_exits_1(seeded, tmp_path):
    result = seeded.run("report", "--tracker-db", str(tmp_path / "none.db"), "--out", str(tmp_path))
    assert result.returncode == 1
    assert "no tracker database" in result.stderr


async def test_panel_section_inlines_every_chart(seeded):
    store = analytics_sources.open_tracker_store(PROJECT_ROOT / "endpoints.yml", str(seeded.tracker_db))
    report = await analytics.load_report(store, seeded.database_url, START, END)
    section = report_section(report)
    assert section.startswith('<section class="anxin-report">') and section.endswith("</section>")
    assert "<html" not in section and "<head" not in section
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', section)
    assert len(images) == len(CHARTS)
    assert analytics.SETTLED_DEFINITION in section
    page = report_html(report)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page


def test_empty_report_still_renders_every_chart():
    empty = analytics.compute_report([], [], [], START, END)
    section = report_section(empty)
    assert section.count("data:image/png;base64,") == len(CHARTS)
    assert "机器人独立解决</th><td>0/0</td>" in section


def test_charts_render_without_a_cjk_font(monkeypatch, caplog):
    monkeypatch.setattr(charts, "PREFERRED_FONT_FILE", pathlib.Path("/nonexistent/font.ttc"))
    monkeypatch.setattr(charts, "_fontconfig_cjk_file", lambda: None)
    monkeypatch.setattr(charts, "KNOWN_CJK_FAMILIES", ())
    charts.cjk_font_family.cache_clear()
    try:
        png = charts.render_png(analytics.ChartData("标题", ["甲"], {"数": [1]}, "个"))
    finally:
        charts.cjk_font_family.cache_clear()
    assert png.startswith(PNG_MAGIC)
    assert "No font with Chinese glyphs found" in caplog.text
