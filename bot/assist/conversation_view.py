"""Everything the agent sees about one conversation, as plain JSON-ready values.

Transcript (buyer, bot and agent messages, with photos), what the NLU made of
the latest buyer message (intent, confidence, the runners-up, entities), the
order, the bot's verdict with each rule's plain-Chinese note and sources, and
the suggested reply. Read from the tracker and the decision log each time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Iterable, List, Optional

from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.assist.agent_desk import DecisionFacts, HandoffFacts
from bot.assist.labels import INTENT_WORDS, REASON_WORDS, VERDICT_WORDS, words
from bot.conversation.channel_metadata import identity, image_urls
from bot.conversation.desk import OrderView
from bot.conversation.replies import PLATFORM_NAMES, STATUS_WORDS
from bot.rules.model import RuleSet
from bot.rules.sources import project_sources

AGENT_KEY = "anxin_agent"
ALTERNATIVES = 3
SHOWN_SLOTS = ("request_type", "order_id", "reason", "evidence", "verdict", "handoff_reason")
PAUSE_WORDS = {"pause": "机器人已暂停，人工处理中", "resume": "已交还机器人"}


def _time(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat()


def button_titles(events: Iterable[Any]) -> Dict[str, str]:
    """Payload → title of every button the bot offered, so a press reads as the buyer saw it."""
    titles: Dict[str, str] = {}
    for event in events:
        if isinstance(event, BotUttered):
            for button in (event.data or {}).get("buttons") or []:
                if isinstance(button, dict) and button.get("payload") and button.get("title"):
                    titles[str(button["payload"])] = str(button["title"])
    return titles


def buyer_text(event: UserUttered, titles: Dict[str, str]) -> str:
    """What the buyer wrote, or ``[按钮] <title>`` for a button press."""
    text = event.text or ""
    return f"[按钮] {titles[text]}" if text in titles else text


def transcript(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """Buyer, bot and agent messages (and pauses), oldest first."""
    lines: List[Dict[str, Any]] = []
    titles = button_titles(tracker.events)
    for event in tracker.events:
        if isinstance(event, UserUttered):
            line: Dict[str, Any] = {
                "who": "buyer", "text": buyer_text(event, titles), "at": _time(event.timestamp),
                "images": image_urls(event.metadata),
                "intent": (event.intent or {}).get("name"),
                "intent_words": words(INTENT_WORDS, (event.intent or {}).get("name")),
                "confidence": (event.intent or {}).get("confidence"),
            }
        elif isinstance(event, BotUttered):
            agent = (event.metadata or {}).get(AGENT_KEY)
            buttons = (event.data or {}).get("buttons") or []
            line = {
                "who": "agent" if agent else "bot", "agent": agent, "text": event.text or "",
                "at": _time(event.timestamp),
                "buttons": [b.get("title") for b in buttons if isinstance(b, dict)],
                "images": [event.data["image"]] if (event.data or {}).get("image") else [],
            }
        elif getattr(event, "type_name", None) in PAUSE_WORDS:
            line = {"who": "system", "text": PAUSE_WORDS[event.type_name], "at": _time(event.timestamp)}
        else:
            continue
        lines.append(line)
    return lines


def understanding(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """The NLU's reading of the latest buyer message and the slots the bot filled."""
    message = next((e for e in reversed(tracker.events) if isinstance(e, UserUttered)), None)
    slots = {name: tracker.get_slot(name) for name in SHOWN_SLOTS if tracker.get_slot(name) is not None}
    if message is None:
        return {"text": None, "intent": None, "confidence": None, "alternatives": [],
                "entities": [], "slots": slots}
    parse = message.parse_data or {}
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != intent.get("name")]
    return {
        "text": buyer_text(message, button_titles(tracker.events)),
        "intent": intent.get("name"),
        "intent_words": words(INTENT_WORDS, intent.get("name")),
        "confidence": intent.get("confidence"),
        "alternatives": [
            {"intent": r.get("name"), "intent_words": words(INTENT_WORDS, r.get("name")),
             "confidence": r.get("confidence")}
            for r in ranking[:ALTERNATIVES]
        ],
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value"), "extractor": e.get("extractor")}
            for e in parse.get("entities") or []
        ],
        "slots": slots,
    }


def buyer(tracker: DialogueStateTracker) -> Dict[str, Optional[str]]:
    """Who the buyer is and where they write from (latest message's metadata, then slots)."""
    found: Dict[str, str] = {}
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            found = identity(event.metadata)
            break
    who = {field: found.get(field) or tracker.get_slot(field) for field in ("buyer_id", "shop_id", "platform")}
    who["channel"] = tracker.get_latest_input_channel()
    who["platform_name"] = PLATFORM_NAMES.get(who["platform"] or "")
    return who


def order_facts(view: Optional[OrderView]) -> Optional[Dict[str, Any]]:
    """The order as the agent needs it: what, where, status, key dates."""
    if view is None:
        return None
    order = view.order
    return {
        "order_id": order.order_id,
        "shop": view.shop_name,
        "platform": PLATFORM_NAMES.get(view.platform, view.platform),
        "item": order.category,
        "status": STATUS_WORDS.get(order.status, order.status),
        "amount": order.amount,
        "fulfillment": order.fulfillment,
        "signed_at": order.signed_at.isoformat() if order.signed_at else None,
        "condition": order.condition,
        "shipping_insurance": order.shipping_insurance,
    }


def verdict_facts(decision: Optional[DecisionFacts], rules: RuleSet) -> Optional[Dict[str, Any]]:
    """The bot's decision and, for each rule it applied, the rule in words and its sources."""
    if decision is None:
        return None
    by_id = {rule.rule_id: rule for rule in rules.rules.values()}
    register = project_sources()
    cited = []
    for rule_id in decision.rule_ids:
        rule = by_id.get(rule_id)
        cited.append({
            "rule_id": rule_id,
            "note": rule.note if rule else None,
            "certainty": rule.certainty if rule else None,
            "sources": [
                {"id": source, "title": register.title(source)}
                for source in (rule.source_ids if rule else ())
            ],
        })
    reason = decision.handoff_reason or decision.decline_reason
    return {
        "decision_id": decision.decision_id,
        "verdict": decision.verdict,
        "verdict_words": words(VERDICT_WORDS, decision.verdict),
        "reason": reason,
        "reason_words": words(REASON_WORDS, reason),
        "shipping_payer": decision.shipping_payer,
        "deadline": decision.deadline.isoformat() if decision.deadline else None,
        "decided_at": decision.created_at.isoformat(),
        "message": decision.message,
        "rules": cited,
    }


def handoff_facts(handoff: Optional[HandoffFacts]) -> Optional[Dict[str, Any]]:
    """The open handoff: reason in words, priority, answer-by, who has it."""
    if handoff is None:
        return None
    return {
        "reason": handoff.reason,
        "reason_words": words(REASON_WORDS, handoff.reason),
        "priority": handoff.priority,
        "answer_by": handoff.answer_by.isoformat() if handoff.answer_by else None,
        "taken_by": handoff.taken_by,
        "since": handoff.created_at.isoformat(),
    }

