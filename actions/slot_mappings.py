"""Slots filled on every message, whatever the dialogue does next.

Runs as Rasa's ``action_validate_slot_mappings`` after each user message:
remembers who the buyer is (the channel sends ``buyer_id``/``shop_id``/``platform``
with each message, but a later message may omit them), notes an escalation, and
applies what the message says about the request (``bot.conversation.turn``):
request type, reason, condition, remedy, amount, and every photo or video as
evidence. Doing it here, once per message, is what keeps a fact said in any
message, in any order, from being lost.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import latest_intent, latest_metadata
from bot.conversation.channel_metadata import evidence_urls, identity
from bot.conversation.cues import corrects_order_number
from bot.conversation.turn import Known, read_turn

IDENTITY_SLOTS = ("buyer_id", "shop_id", "platform")
REQUEST_SLOTS = ("request_type", "reason", "stated_condition", "remedy", "requested_amount", "evidence")


def known_request(tracker: Tracker) -> Known:
    """What the conversation knows of the request (its slots)."""
    return Known(
        request_type=tracker.get_slot("request_type"),
        reason=tracker.get_slot("reason"),
        stated_condition=tracker.get_slot("stated_condition"),
        remedy=tracker.get_slot("remedy"),
        requested_amount=tracker.get_slot("requested_amount"),
        evidence=tuple(tracker.get_slot("evidence") or ()),
    )


class ActionValidateSlotMappings(Action):
    """Fill the custom-mapped global slots from the latest message."""

    def name(self) -> Text:
        """Rasa runs this after every user message."""
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Identity, escalation and the request's facts from the latest message."""
        message = tracker.latest_message or {}
        metadata = latest_metadata(tracker)
        intent, confidence = latest_intent(tracker)
        events: List[Dict[Text, Any]] = []
        who = identity(metadata)
        for field in IDENTITY_SLOTS:
            if who.get(field) and who[field] != tracker.get_slot(field):
                events.append(SlotSet(field, who[field]))
        if intent == "threaten_escalation":
            events.append(SlotSet("escalation", True))
        text = message.get("text") or ""
        changes = read_turn(
            intent=intent,
            text=text,
            entities=message.get("entities") or [],
            evidence=evidence_urls(metadata),
            known=known_request(tracker),
            confidence=float(confidence or 0.0),
        )
        if tracker.get_slot("request_type") and corrects_order_number(text):
            changes.pop("request_type", None)  # "订单号发错了" corrects the order, not the request
        events += [SlotSet(slot, changes[slot]) for slot in REQUEST_SLOTS if slot in changes]
        return events
