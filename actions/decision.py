"""Decide the buyer's request under POLICY.md, log it, and answer.

The decision is ``bot.rules.decide`` over the order and the shop's rule set at
the current time, with everything the buyer said of the request (reason,
condition, remedy, amount, photos); the desk appends it to the decision log with
the message that made the request. When the answer would only repeat the
conversation's last decision, that decision stands (its dates included) and the
buyer's question is answered from it instead (``bot.conversation.followups``).
The ``verdict`` slot then picks what follows (rules.yml): a photo request, a
person, or nothing more.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, off_loop, say
from bot.conversation.desk import Outcome
from bot.conversation.followups import followup_reply, followup_topics
from bot.conversation.replies import Reply, decision_replies
from bot.conversation.turn import REQUEST_INTENTS

# Messages that carry a request: the one a decision is logged against.
REQUEST_CARRIERS = set(REQUEST_INTENTS) | {"threaten_escalation"}
LOW_CONFIDENCE = "low_confidence"


def request_message(tracker: Tracker) -> Tuple[Optional[str], Optional[str], Optional[float]]:
    """Text, intent and confidence of the latest message that made a request.

    A form completed by "尺码不合适" or an order number answers the request
    "我要退货"; the log records the request, falling back to the latest message.
    """
    latest = None
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        found = (event.get("text"), intent.get("name"), intent.get("confidence"))
        latest = latest or found
        if intent.get("name") in REQUEST_CARRIERS:
            return found
    return latest or (None, None, None)


def answer_from_decision(dispatcher: CollectingDispatcher, tracker: Tracker, outcome: Outcome) -> None:
    """Answer the latest message from a decision already taken (its stored dates).

    While photos are awaited and nothing was asked, the evidence form's reminder
    that follows is the whole answer.
    """
    topics = followup_topics((tracker.latest_message or {}).get("text") or "")
    if not topics and outcome.decision.verdict == "need_evidence":
        return
    answers = []
    for topic in topics or [None]:
        answer = followup_reply(topic, outcome)
        if answer not in answers:
            answers.append(answer)
    for response, params in answers:
        say(dispatcher, Reply(response, params))


def decision_events(outcome: Outcome) -> List[Dict[Text, Any]]:
    """The slots a decision sets: the verdict steers what follows."""
    decision = outcome.decision
    verdict = "handoff" if decision.handoff_reason else decision.verdict
    return [
        SlotSet("verdict", verdict),
        SlotSet("handoff_reason", decision.handoff_reason),
        SlotSet("decision_id", float(outcome.decision_id)),
        SlotSet("escalation", False),
        SlotSet("order_misses", 0),
        SlotSet("asked", None),
    ]


async def decide_and_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, escalation: bool
) -> Tuple[Outcome, List[Dict[Text, Any]]]:
    """Decide the request in the slots, send the reply, return the slot events."""
    text, intent, confidence = request_message(tracker)
    who = buyer(tracker)
    previous = tracker.get_slot("decision_id")
    amount = tracker.get_slot("requested_amount")
    outcome = await off_loop(
        desk().decide,
        conversation_id=tracker.sender_id,
        message=text,
        intent=intent,
        confidence=confidence,
        request_type=tracker.get_slot("request_type") or "return",
        reason=tracker.get_slot("reason") or "no_reason",
        order_id=tracker.get_slot("order_id"),
        buyer_id=who["buyer_id"],
        shop_id=who["shop_id"],
        platform=who["platform"],
        evidence=tracker.get_slot("evidence") or [],
        escalation=escalation,
        stated_condition=tracker.get_slot("stated_condition"),
        remedy=tracker.get_slot("remedy"),
        requested_amount=float(amount) if amount is not None else None,
        previous_id=int(previous) if previous is not None else None,
    )
    if outcome.repeated:
        if escalation:
            say(dispatcher, Reply("utter_deescalate_calm"))
        answer_from_decision(dispatcher, tracker, outcome)
        events = decision_events(outcome)
        if outcome.decision.handoff_reason:
            # The person already has it: do not hand over (and pause) a second time.
            events[0] = SlotSet("verdict", outcome.decision.verdict)
        return outcome, events
    for reply in decision_replies(outcome):
        say(dispatcher, reply)
    return outcome, decision_events(outcome)


class ActionDecide(Action):
    """Apply the rule base to the request and tell the buyer the outcome."""

    def name(self) -> Text:
        """Run after the after-sales or evidence form completes."""
        return "action_decide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Decide, log, reply; or hand over when the form could not get its answers."""
        if tracker.get_slot("handoff_reason") == LOW_CONFIDENCE:
            return [SlotSet("verdict", "handoff"), SlotSet("asked", None)]
        _, events = await decide_and_answer(
            dispatcher, tracker, escalation=bool(tracker.get_slot("escalation"))
        )
        return events
