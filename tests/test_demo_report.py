"""The demo conversations, played through the real bot, fill every chart of the report.

``python -m bot demo`` talks to the running bot like buyers and an agent would;
the report is then computed over exactly those conversations (the session's
other tests add their own, which must not be what makes a chart non-zero), and
``python -m bot report`` writes the HTML and PNGs from the same stores.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.assist.analytics import SHANGHAI, compute_report
from bot.assist.analytics_sources import load_conversations, load_decision_log, open_tracker_store
from bot.demo_conversations import load_conversations as load_scripts
from conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def demo_ids(running_bot) -> list:
    played = running_bot.run("bot", "demo")
    assert played.returncode == 0, played.stderr[-2000:]
    lines = [line.split("\t") for line in played.stdout.splitlines() if line.startswith("demo-")]
    assert len(lines) == len(load_scripts())
    return [line[0] for line in lines]


def test_every_chart_has_data_from_the_demo_conversations_alone(running_bot, demo_ids) -> None:
    store = open_tracker_store(PROJECT_ROOT / "endpoints.yml", str(running_bot.tracker_db))
    conversations = [c for c in asyncio.run(load_conversations(store)) if c.conversation_id in demo_ids]
    decisions, handoffs = load_decision_log(running_bot.env["DATABASE_URL"])
    decisions = [d for d in decisions if d.conversation_id in demo_ids]
    handoffs = [h for h in handoffs if h.conversation_id in demo_ids]
    today = dt.datetime.now(SHANGHAI).date()
    report = compute_report(conversations, decisions, handoffs, today - dt.timedelta(days=1), today)

    assert len(conversations) == len(demo_ids)
    empty = [key for key, chart in report.charts.items() if not chart.total]
    assert not empty, f"charts without data: {empty}"
    assert report.escalations >= 1
    assert {h.reason for h in handoffs} >= {"counterfeit_claim", "agent_takeover"}


def test_the_report_command_writes_html_and_pngs_for_today(running_bot, demo_ids, tmp_path) -> None:
    today = dt.datetime.now(SHANGHAI).date().isoformat()
    written = running_bot.run(
        "bot", "report", "--from", today, "--to", today, "--out", str(tmp_path),
        "--tracker-db", str(running_bot.tracker_db),
    )
    assert written.returncode == 0, written.stderr[-2000:]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 7
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.name in html
