"""The analytics on a real SQLite tracker store and a real, migrated decision database.

``seed_scenario`` writes a week of after-sales conversations with known times (and two
outside it); the tests check the exact figures the report must show for that week.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any, Dict, List, Optional

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.assist import analytics, analytics_sources
from bot.assist.analytics import escalation_settled
from bot.assist.analytics_sources import Conversation, Decision, Handoff
from bot.rules import db
from bot.rules.schema import DecisionRow, HandoffRow
from bot.settings import PROJECT_ROOT
from utils.rules_db import SHANGHAI, use_database

START = dt.date(2026, 11, 20)
END = dt.date(2026, 11, 26)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A November 2026 time in Asia/Shanghai."""
    return dt.datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def user(when: dt.datetime, intent: str, platform: Optional[str] = None) -> UserUttered:
    """A buyer message as the channels write it (platform in the metadata)."""
    metadata: Dict[str, Any] = {"buyer_id": "buyer_test", "shop_id": "demo_shop"}
    if platform:
        metadata["platform"] = platform
    return UserUttered(
        "……",
        intent={"name": intent, "confidence": 0.95},
        timestamp=when.timestamp(),
        input_channel="rest",
        metadata=metadata,
    )


def bot(when: dt.datetime, agent: Optional[str] = None) -> BotUttered:
    """A message to the buyer; ``agent`` marks one a person wrote from the panel."""
    metadata = {"anxin_agent": agent} if agent else {}
    return BotUttered("好的", metadata=metadata, timestamp=when.timestamp())


def decision(
    conversation_id: str, when: dt.datetime, verdict: str, reason: Optional[str] = None
) -> DecisionRow:
    """A decision-log row with the fields the schema requires."""
    return DecisionRow(
        conversation_id=conversation_id, intent="request_refund", confidence=0.9,
        created_at=when, request={}, verdict=verdict, shipping_payer="none",
        handoff_reason=reason, rule_ids=[], notes=[],
    )


def handoff(
    conversation_id: str, when: dt.datetime, reason: str, answer_by: Optional[dt.datetime] = None
) -> HandoffRow:
    """An open handoff-log row."""
    return HandoffRow(
        conversation_id=conversation_id, reason=reason, created_at=when, answer_by=answer_by
    )


def scenario() -> Dict[str, List[Event]]:
    """Conversation id → its events (times in Asia/Shanghai, 2026-11-20..27)."""
    return {
        # Quality complaint the bot hands off as a counterfeit claim; answered in 3 s.
        "counterfeit": [
            ActionExecuted("action_listen", timestamp=at(20, 10).timestamp()),
            user(at(20, 10), "complain_quality", "tmall_global"),
            bot(at(20, 10, 0, 3)),
            ConversationPaused(timestamp=at(20, 10, 0, 4).timestamp()),
        ],
        # Refund, then a threat; an agent answers at 09:30, before answer_by 11:05.
        "threat_settled": [
            user(at(21, 9), "request_refund", "taobao"),
            bot(at(21, 9, 0, 1)),
            user(at(21, 9, 5), "threaten_escalation", "taobao"),
            bot(at(21, 9, 5, 1)),
            ConversationPaused(timestamp=at(21, 9, 5, 2).timestamp()),
            bot(at(21, 9, 30), agent="小王"),
        ],
        # Return, then a threat; the agent answers the next morning, after answer_by.
        "threat_late": [
            user(at(22, 20), "request_return", "jd_international"),
            bot(at(22, 20, 0, 40)),
            user(at(22, 20, 1), "threaten_escalation", "jd_international"),
            bot(at(22, 20, 1, 5)),
            bot(at(23, 9), agent="小李"),
        ],
        # Refund on tmall (platform only in the slot), approved by the bot alone.
        "refund_approved": [
            user(at(23, 12), "request_refund"),
            SlotSet("platform", "tmall", timestamp=at(23, 12, 0, 1).timestamp()),
            bot(at(23, 12, 0, 2)),
        ],
        # Exchange on lazada; the bot asks for evidence, slowly (600 s).
        "lazada_exchange": [
            user(at(24, 15), "request_exchange", "lazada"),
            bot(at(24, 15, 10)),
        ],
        # A parcel question an agent took over from the panel; no decision.
        "takeover": [
            user(at(25, 10), "ask_logistics", "tmall"),
            bot(at(25, 10, 0, 5)),
            ConversationPaused(timestamp=at(25, 10, 2).timestamp()),
            bot(at(25, 10, 3), agent="小王"),
            ConversationResumed(timestamp=at(25, 10, 4).timestamp()),
        ],
        # The last minute of the range (15:59 UTC): counted, no decision yet.
        "late_night": [
            user(at(26, 23, 59), "request_refund", "tmall_global"),
            bot(at(26, 23, 59, 20)),
        ],
        # Outside the range: before it, and the first minute after it (still the 26th in UTC).
        "before": [user(at(10, 9), "request_refund", "tmall"), bot(at(10, 9, 0, 1))],
        "after": [user(at(27, 0, 0, 30), "request_refund", "taobao"), bot(at(27, 0, 0, 31))],
    }


def decision_log() -> List[Any]:
    """The decisions and handoffs of ``scenario``."""
    return [
        decision("counterfeit", at(20, 10, 0, 2), "handoff", "counterfeit_claim"),
        handoff("counterfeit", at(20, 10, 0, 2), "counterfeit_claim", answer_by=at(21, 10)),
        decision("threat_settled", at(21, 9, 0, 1), "need_evidence"),
        decision("threat_settled", at(21, 9, 5, 1), "handoff", "escalation_threat"),
        handoff("threat_settled", at(21, 9, 5, 1), "escalation_threat", answer_by=at(21, 11, 5)),
        decision("threat_late", at(22, 20, 0, 30), "decline"),
        decision("threat_late", at(22, 20, 1, 5), "handoff", "escalation_threat"),
        handoff("threat_late", at(22, 20, 1, 5), "escalation_threat", answer_by=at(23, 8)),
        decision("refund_approved", at(23, 12, 0, 2), "approve"),
        decision("lazada_exchange", at(24, 15, 10), "need_evidence"),
        handoff("takeover", at(25, 10, 2), "agent_takeover"),
        decision("before", at(10, 9, 0, 1), "approve"),
        handoff("before", at(10, 9, 0, 2), "low_confidence"),
        decision("after", at(27, 0, 0, 31), "approve"),
    ]


async def seed_scenario(tracker_db: pathlib.Path, database_url: str) -> None:
    """Write ``scenario`` to a SQLite tracker store and ``decision_log`` to a migrated database."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tracker_db))
    for conversation_id, events in scenario().items():
        await store.save(DialogueStateTracker.from_events(conversation_id, events, domain.slots))
    with db.session_scope(database_url) as session:
        session.add_all(decision_log())


@pytest.fixture
async def report(tmp_path, monkeypatch) -> analytics.Report:
    """The report of START..END over the seeded stores, read the way the panel reads it."""
    url = use_database(tmp_path, monkeypatch)
    tracker_db = tmp_path / "tracker.db"
    await seed_scenario(tracker_db, url)
    store = analytics_sources.open_tracker_store(PROJECT_ROOT / "endpoints.yml", str(tracker_db))
    return await analytics.load_report(store, url, START, END)


async def test_counts_conversations_by_their_first_message_day_in_shanghai(report):
    assert report.conversations == 7
    assert report.charts["conversations_per_day"].series == {"对话": [1] * 7}
    assert report.charts["conversations_per_day"].categories[-1] == "11-26"


async def test_requests_by_intent_and_platform(report):
    assert report.requests == {
        "退款": {"淘宝": 1, "天猫": 1, "天猫国际": 1},
        "退货": {"京东国际": 1},
        "换货": {"Lazada": 1},
        "质量投诉": {"天猫国际": 1},
    }
    chart = report.charts["requests_by_intent_platform"]
    assert chart.categories == ["退款", "退货", "换货", "质量投诉"]
    assert chart.series["天猫国际"] == [1, 0, 0, 1]
    assert chart.total == 6


async def test_verdict_mix_counts_decisions_created_in_the_range(report):
    assert report.verdicts == {"approve": 1, "need_evidence": 2, "decline": 1, "handoff": 3}
    assert report.charts["verdict_mix"].series == {"决定": [1, 2, 1, 3]}


async def test_share_settled_by_the_bot_excludes_handoffs_and_agent_messages(report):
    assert (report.bot_only, report.with_decision) == (2, 5)
    assert report.bot_only_share == pytest.approx(0.4)
    chart = report.charts["settled_by_bot"]
    assert chart.series == {"对话": [2, 3]}
    assert "40%" in chart.title


async def test_handoffs_by_reason_include_agent_takeovers(report):
    assert report.handoffs == {"counterfeit_claim": 1, "escalation_threat": 2, "agent_takeover": 1}
    chart = report.charts["handoffs_by_reason"]
    assert dict(zip(chart.categories, chart.series["转人工"])) == {
        "质疑正品": 1, "扬言投诉/介入": 2, "客服主动接管": 1,
    }


async def test_escalations_settled_only_when_answered_before_answer_by(report):
    assert (report.escalations, report.escalations_settled) == (2, 1)
    assert report.charts["escalations"].series == {"对话": [1, 1]}


async def test_first_reply_median_p90_and_histogram(report):
    # First replies: 3, 1, 40, 2, 600, 5 and 20 seconds.
    assert report.first_reply_median_s == 5
    assert report.first_reply_p90_s == 600
    chart = report.charts["first_reply_times"]
    assert dict(zip(chart.categories, chart.series["对话"])) == {
        "≤2秒": 2, "2–10秒": 2, "10–60秒": 2, "1–5分钟": 0,
        "5–30分钟": 1, "30–60分钟": 0, ">1小时": 0,
    }


async def test_every_chart_has_data(report):
    assert list(report.charts) == [
        "conversations_per_day", "requests_by_intent_platform", "verdict_mix",
        "settled_by_bot", "handoffs_by_reason", "escalations", "first_reply_times",
    ]
    assert all(chart.total > 0 for chart in report.charts.values())


async def test_a_range_before_any_conversation_is_empty_not_an_error(tmp_path, monkeypatch):
    url = use_database(tmp_path, monkeypatch)
    tracker_db = tmp_path / "tracker.db"
    await seed_scenario(tracker_db, url)
    store = analytics_sources.open_tracker_store(PROJECT_ROOT / "endpoints.yml", str(tracker_db))
    empty = await analytics.load_report(store, url, dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert (empty.conversations, empty.with_decision, empty.escalations) == (0, 0, 0)
    assert empty.bot_only_share is None and empty.first_reply_median_s is None


def test_a_missing_tracker_database_is_refused_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        analytics_sources.open_tracker_store(PROJECT_ROOT / "endpoints.yml", str(tmp_path / "none.db"))
    assert not (tmp_path / "none.db").exists()


def threat(agent_at: Optional[dt.datetime] = None) -> Conversation:
    """A conversation with a threat at 09:00 and, optionally, an agent's message."""
    users = (analytics_sources.UserMessage(at(21, 9), "threaten_escalation", "tmall"),)
    bots = (analytics_sources.BotMessage(agent_at, "小王"),) if agent_at else ()
    return Conversation("c", users, bots)


def verdicts(*names: str) -> List[Decision]:
    """Decisions of conversation ``c`` in this order, an hour apart from 09:00."""
    return [Decision("c", name, at(21, 9 + hour)) for hour, name in enumerate(names)]


def handed_off(answer_by: Optional[int], resumed: Optional[int] = None) -> List[Handoff]:
    """One escalation handoff of ``c`` at 09:00; the other times are hours of the 21st."""
    return [
        Handoff(
            "c", "escalation_threat", at(21, 9),
            at(21, answer_by) if answer_by else None, at(21, resumed) if resumed else None,
        )
    ]


@pytest.mark.parametrize(
    "conversation, decisions, handoffs, settled",
    [
        (threat(), verdicts("need_evidence", "approve"), [], True),
        (threat(), verdicts("approve", "decline"), [], False),
        (threat(), [], [], False),
        # Handed back to the bot before the promised time, without an agent's message.
        (threat(), [], handed_off(answer_by=11, resumed=10), True),
        (threat(), [], handed_off(answer_by=11, resumed=12), False),
        (threat(at(21, 10)), verdicts("decline"), handed_off(answer_by=11), True),
        (threat(at(21, 12)), verdicts("approve"), handed_off(answer_by=11), False),
        # An agent's message from before the handoff does not answer it.
        (threat(at(21, 8)), [], handed_off(answer_by=11), False),
        (threat(at(21, 10)), [], handed_off(answer_by=None), True),
    ],
)
def test_escalation_settled_definition(conversation, decisions, handoffs, settled):
    assert escalation_settled(conversation, decisions, handoffs) is settled


def test_default_range_is_the_last_30_days_up_to_today():
    today = dt.date(2026, 11, 27)
    assert analytics.resolve_range(None, None, today) == (dt.date(2026, 10, 29), today)
    assert analytics.resolve_range(START, None, today) == (START, today)
    with pytest.raises(ValueError, match="before the start date"):
        analytics.resolve_range(END, START, today)
