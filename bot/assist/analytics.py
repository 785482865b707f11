"""After-sales analytics for a date range, read from the tracker store and the decision log.

Nothing is kept in memory between calls: every report re-reads the conversations
from Rasa's tracker store and the decisions and handoffs from the database, so the
web panel and ``python -m bot report`` always agree with what happened.

Date ranges are whole days in Asia/Shanghai (the shops' business day). A
conversation belongs to the range when its first buyer message falls in it, and
every tracker-based figure (conversations, requests, escalation threats, first
replies) is computed over those conversations. Decisions and handoffs are counted
by their own ``created_at``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import statistics
import zoneinfo
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

from rasa.core.tracker_store import TrackerStore

from bot.assist.analytics_sources import (
    Conversation,
    Decision,
    Handoff,
    load_conversations,
    load_decision_log,
)
from bot.assist.labels import AGENT_TAKEOVER, INTENT_WORDS, REASON_WORDS, VERDICT_WORDS
from bot.conversation.replies import PLATFORM_NAMES
from bot.rules.vocabulary import HANDOFF_REASONS, PLATFORMS, VERDICTS

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
# A report without dates covers the last 30 days up to today.
DEFAULT_DAYS = 30

# The buyer requests the report breaks down, with the words the shop's people use.
REQUEST_INTENTS = {
    intent: INTENT_WORDS[intent]
    for intent in ("request_refund", "request_return", "request_exchange", "complain_quality")
}
ESCALATION_INTENT = "threaten_escalation"
UNKNOWN_PLATFORM = "未知平台"
# First-reply histogram buckets: upper bounds in seconds and their labels. The bot
# answers in seconds, a person in minutes, so the buckets grow roughly tenfold.
FIRST_REPLY_BUCKETS: Tuple[Tuple[float, str], ...] = (
    (2, "≤2秒"),
    (10, "2–10秒"),
    (60, "10–60秒"),
    (300, "1–5分钟"),
    (1800, "5–30分钟"),
    (3600, "30–60分钟"),
    (math.inf, ">1小时"),
)
SETTLED_DEFINITION = (
    "扬言投诉的对话算作“未需平台介入即解决”：店铺按时答复了买家——"
    "未转人工且最后一个决定为同意；或转人工后，每次转人工都在承诺答复时间之前"
    "由客服发出了回复或交还给机器人。"
)
BOT_ONLY_DEFINITION = (
    "机器人独立解决：在所选日期内有过自动决定的对话中，既没有转人工记录、"
    "也没有客服亲自发出消息的对话所占比例。"
)


@dataclasses.dataclass(frozen=True)
class ChartData:
    """What one chart shows, so a chart and a test read the same numbers.

    Attributes:
        title: the chart's heading.
        categories: the labels along the category axis.
        series: name → one value per category; more than one series is drawn stacked.
        value_label: what the values count (axis label).
        horizontal: draw bars sideways (long category labels).
    """

    title: str
    categories: List[str]
    series: Dict[str, List[float]]
    value_label: str
    horizontal: bool = False

    @property
    def total(self) -> float:
        """The sum of every value (zero means the chart would be empty)."""
        return sum(sum(values) for values in self.series.values())


@dataclasses.dataclass(frozen=True)
class Report:
    """The metrics of one date range; ``charts`` holds the data of every chart.

    Attributes:
        start: first day (Asia/Shanghai), inclusive.
        end: last day (Asia/Shanghai), inclusive.
        conversations: conversations whose first buyer message is in the range.
        requests: request-intent buyer messages by intent then platform (Chinese labels).
        verdicts: decisions created in the range by verdict (English keys).
        bot_only: conversations with a decision in the range settled without a person.
        with_decision: conversations with a decision in the range.
        handoffs: handoffs created in the range by reason (English keys).
        escalations: conversations in the range with a threat to escalate.
        escalations_settled: of those, settled without platform intervention.
        first_reply_median_s: median first-reply time, None when nothing was answered.
        first_reply_p90_s: 90th percentile (nearest rank) of the first-reply times.
        charts: chart key → data, in display order.
    """

    start: dt.date
    end: dt.date
    conversations: int
    requests: Dict[str, Dict[str, int]]
    verdicts: Dict[str, int]
    bot_only: int
    with_decision: int
    handoffs: Dict[str, int]
    escalations: int
    escalations_settled: int
    first_reply_median_s: Optional[float]
    first_reply_p90_s: Optional[float]
    charts: Dict[str, ChartData]

    @property
    def bot_only_share(self) -> Optional[float]:
        """Share (0–1) of decided conversations the bot settled alone; None without any."""
        return self.bot_only / self.with_decision if self.with_decision else None


def resolve_range(
    start: Optional[dt.date], end: Optional[dt.date], today: dt.date
) -> Tuple[dt.date, dt.date]:
    """Fill in the default range: ``end`` defaults to today, ``start`` to 29 days before it.

    Args:
        start: first day asked for, if any.
        end: last day asked for, if any.
        today: today in Asia/Shanghai.

    Returns:
        (first day, last day), both inclusive.

    Raises:
        ValueError: the range ends before it starts.
    """
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ValueError(f"the end date {end} is before the start date {start}")
    return start, end


def day_bounds(start: dt.date, end: dt.date) -> Tuple[dt.datetime, dt.datetime]:
    """The half-open UTC interval covering the Shanghai days ``start``..``end`` inclusive."""
    begin = dt.datetime.combine(start, dt.time(), SHANGHAI)
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), SHANGHAI)
    return begin.astimezone(UTC), stop.astimezone(UTC)


async def load_report(
    tracker_store: TrackerStore, database_url: str, start: dt.date, end: dt.date
) -> Report:
    """Read the tracker store and the decision log and compute the report.

    This is what the web panel calls inside the Rasa server (with
    ``app.ctx.agent.tracker_store``); the SQL runs in a thread so the server's
    event loop keeps answering buyers.

    Args:
        tracker_store: any Rasa tracker store.
        database_url: SQLAlchemy URL of the decision log (``Settings.database_url``).
        start: first day, Asia/Shanghai, inclusive.
        end: last day, Asia/Shanghai, inclusive.

    Returns:
        The report of the range.
    """
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    conversations = await load_conversations(tracker_store)
    decisions, handoffs = await asyncio.to_thread(load_decision_log, database_url)
    return compute_report(conversations, decisions, handoffs, start, end)


def first_reply_seconds(conversation: Conversation) -> Optional[float]:
    """Seconds from the first buyer message to the first message (bot or person) after it."""
    started = conversation.started_at
    if started is None:
        return None
    replies = [message.at for message in conversation.bot_messages if message.at > started]
    return (min(replies) - started).total_seconds() if replies else None


def escalation_settled(
    conversation: Conversation, decisions: Sequence[Decision], handoffs: Sequence[Handoff]
) -> bool:
    """Whether the shop settled a threat to escalate without the platform stepping in.

    Settled means the shop answered in time: never handed off and its latest
    decision is ``approve``; or, if handed off, every handoff was answered before
    its ``answer_by`` — a person wrote to the buyer (a bot message with
    ``metadata.anxin_agent``) between the handoff and ``answer_by``, or handed the
    conversation back to the bot (``resumed_at``) by then. A handoff without a
    promised time counts as answered once either happened.

    Args:
        conversation: the conversation with the threat.
        decisions: its decisions (any time).
        handoffs: its handoffs (any time).
    """
    if not handoffs:
        latest = max(decisions, key=lambda decision: decision.created_at, default=None)
        return latest is not None and latest.verdict == "approve"
    agent_times = [message.at for message in conversation.bot_messages if message.agent]
    return all(_answered_in_time(handoff, agent_times) for handoff in handoffs)


def _answered_in_time(handoff: Handoff, agent_times: Sequence[dt.datetime]) -> bool:
    deadline = handoff.answer_by
    answers = [at for at in agent_times if at >= handoff.created_at]
    if handoff.resumed_at is not None:
        answers.append(handoff.resumed_at)
    return any(deadline is None or at <= deadline for at in answers)


def percentile(values: Sequence[float], share: float) -> Optional[float]:
    """Nearest-rank percentile (``share`` in 0–1): a value that actually occurred."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def compute_report(
    conversations: Sequence[Conversation],
    decisions: Sequence[Decision],
    handoffs: Sequence[Handoff],
    start: dt.date,
    end: dt.date,
) -> Report:
    """The metrics of ``start``..``end`` (Shanghai days, inclusive) from loaded data.

    Args:
        conversations: every conversation of the tracker store.
        decisions: every decision of the log.
        handoffs: every handoff of the log.
        start: first day, inclusive.
        end: last day, inclusive.

    Returns:
        The report, with the data of every chart.
    """
    begin, stop = day_bounds(start, end)

    def in_range(at: dt.datetime) -> bool:
        return begin <= at < stop

    by_id = {conversation.conversation_id: conversation for conversation in conversations}
    in_scope = [c for c in conversations if c.started_at and in_range(c.started_at)]
    decisions_of: Dict[str, List[Decision]] = {}
    for decision in decisions:
        decisions_of.setdefault(decision.conversation_id, []).append(decision)
    handoffs_of: Dict[str, List[Handoff]] = {}
    for handoff in handoffs:
        handoffs_of.setdefault(handoff.conversation_id, []).append(handoff)

    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    per_day = Counter(c.started_at.astimezone(SHANGHAI).date() for c in in_scope)

    requests: Dict[str, Dict[str, int]] = {
        label: {} for label in REQUEST_INTENTS.values()
    }
    for conversation in in_scope:
        for message in conversation.user_messages:
            if message.intent in REQUEST_INTENTS:
                platform = PLATFORM_NAMES.get(message.platform or "", UNKNOWN_PLATFORM)
                row = requests[REQUEST_INTENTS[message.intent]]
                row[platform] = row.get(platform, 0) + 1

    range_decisions = [d for d in decisions if in_range(d.created_at)]
    verdicts = Counter(decision.verdict for decision in range_decisions)
    decided_ids = sorted({decision.conversation_id for decision in range_decisions})
    bot_only = sum(
        1
        for conversation_id in decided_ids
        if not handoffs_of.get(conversation_id)
        and not _has_agent_message(by_id.get(conversation_id))
    )

    range_handoffs = Counter(h.reason for h in handoffs if in_range(h.created_at))

    threatened = [
        c for c in in_scope if any(m.intent == ESCALATION_INTENT for m in c.user_messages)
    ]
    settled = sum(
        1
        for c in threatened
        if escalation_settled(
            c,
            decisions_of.get(c.conversation_id, []),
            handoffs_of.get(c.conversation_id, []),
        )
    )

    replies = [s for s in (first_reply_seconds(c) for c in in_scope) if s is not None]
    median = statistics.median(replies) if replies else None
    p90 = percentile(replies, 0.9)

    charts = _charts(
        days, per_day, requests, verdicts, bot_only, len(decided_ids),
        range_handoffs, len(threatened), settled, replies,
    )
    return Report(
        start=start,
        end=end,
        conversations=len(in_scope),
        requests={intent: dict(row) for intent, row in requests.items()},
        verdicts={verdict: verdicts.get(verdict, 0) for verdict in VERDICTS},
        bot_only=bot_only,
        with_decision=len(decided_ids),
        handoffs=dict(range_handoffs),
        escalations=len(threatened),
        escalations_settled=settled,
        first_reply_median_s=median,
        first_reply_p90_s=p90,
        charts=charts,
    )


def _has_agent_message(conversation: Optional[Conversation]) -> bool:
    return conversation is not None and any(m.agent for m in conversation.bot_messages)


def _charts(
    days: Sequence[dt.date],
    per_day: Counter,
    requests: Dict[str, Dict[str, int]],
    verdicts: Counter,
    bot_only: int,
    with_decision: int,
    handoffs: Counter,
    escalations: int,
    settled: int,
    replies: Sequence[float],
) -> Dict[str, ChartData]:
    """The data of every chart, keyed by the PNG file stem, in display order."""
    platform_order = [PLATFORM_NAMES[p] for p in PLATFORMS] + [UNKNOWN_PLATFORM]
    seen = {platform for row in requests.values() for platform in row}
    platforms = [p for p in platform_order if p in seen]
    share = f"{bot_only / with_decision:.0%}" if with_decision else "无数据"
    reasons = [r for r in (*HANDOFF_REASONS, AGENT_TAKEOVER) if handoffs.get(r)] + sorted(
        r for r in handoffs if r not in REASON_WORDS
    )
    buckets = Counter(
        next(label for bound, label in FIRST_REPLY_BUCKETS if seconds <= bound)
        for seconds in replies
    )
    return {
        "conversations_per_day": ChartData(
            title="每日对话数",
            categories=[day.strftime("%m-%d") for day in days],
            series={"对话": [per_day.get(day, 0) for day in days]},
            value_label="对话数",
        ),
        "requests_by_intent_platform": ChartData(
            title="售后诉求（按类型与平台）",
            categories=list(requests),
            series={p: [requests[i].get(p, 0) for i in requests] for p in platforms},
            value_label="买家消息数",
        ),
        "verdict_mix": ChartData(
            title="自动决定结果",
            categories=[VERDICT_WORDS[v] for v in VERDICTS],
            series={"决定": [verdicts.get(v, 0) for v in VERDICTS]},
            value_label="决定数",
        ),
        "settled_by_bot": ChartData(
            title=f"机器人独立解决占比：{share}",
            categories=["机器人独立解决", "有人工参与"],
            series={"对话": [bot_only, with_decision - bot_only]},
            value_label="对话数",
        ),
        "handoffs_by_reason": ChartData(
            title="转人工原因",
            categories=[REASON_WORDS.get(r, r) for r in reasons],
            series={"转人工": [handoffs[r] for r in reasons]},
            value_label="次数",
            horizontal=True,
        ),
        "escalations": ChartData(
            title="扬言投诉：未需平台介入即解决",
            categories=["按时解决", "未按时解决"],
            series={"对话": [settled, escalations - settled]},
            value_label="对话数",
        ),
        "first_reply_times": ChartData(
            title="首次回复时间分布",
            categories=[label for _, label in FIRST_REPLY_BUCKETS],
            series={"对话": [buckets.get(label, 0) for _, label in FIRST_REPLY_BUCKETS]},
            value_label="对话数",
        ),
    }
