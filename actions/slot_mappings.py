"""Slots filled on every message, whatever the dialogue does next.

Runs as Rasa's ``action_validate_slot_mappings`` after each user message:
remembers who the buyer is (the channel sends ``buyer_id``/``shop_id``/``platform``
with each message, but a later message may omit them), collects image
attachments as evidence, notes an escalation, and keeps ``request_type`` in step
with what the buyer now asks for ("不是退货是换货").
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.context import REQUEST_INTENTS, latest_intent, latest_metadata
from bot.conversation.channel_metadata import identity, image_urls
from bot.conversation.cues import corrects_order_number

EVIDENCE_FORM = "evidence_form"


class ActionValidateSlotMappings(ValidationAction):
    """Fill the custom-mapped global slots from the latest message."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Extract only: these values need no validation beyond their extraction."""
        return await self.get_extraction_events(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """Only the slots this action extracts (decision slots belong to the actions)."""
        return ["buyer_id", "shop_id", "platform", "evidence", "escalation", "request_type"]

    def _identity(self, tracker: Tracker, field: str) -> Dict[Text, Any]:
        value = identity(latest_metadata(tracker)).get(field)
        return {field: value} if value and value != tracker.get_slot(field) else {}

    async def extract_buyer_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The buyer from the channel metadata."""
        return self._identity(tracker, "buyer_id")

    async def extract_shop_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The shop the buyer writes to."""
        return self._identity(tracker, "shop_id")

    async def extract_platform(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The marketplace the conversation runs on."""
        return self._identity(tracker, "platform")

    async def extract_evidence(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Append the message's image URLs to the evidence collected so far."""
        urls = image_urls(latest_metadata(tracker))
        if not urls:
            return {}
        known = list(tracker.get_slot("evidence") or [])
        return {"evidence": known + [url for url in urls if url not in known]}

    async def extract_escalation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A threat of complaint or intervention is remembered for the next decision."""
        intent, _ = latest_intent(tracker)
        return {"escalation": True} if intent == "threaten_escalation" else {}

    async def extract_request_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The request the buyer now makes, with two exceptions that are not a new request.

        A defect described while we ask for the reason explains a return or
        exchange ("退货" then "有个洞"); a photo sent while we wait for one is
        the evidence, whatever the NLU made of its caption; "订单号发错了"
        corrects the order, not the request.
        """
        intent, _ = latest_intent(tracker)
        requested = REQUEST_INTENTS.get(intent or "")
        current = tracker.get_slot("request_type")
        if requested is None or requested == current:
            return {}
        if current and corrects_order_number((tracker.latest_message or {}).get("text") or ""):
            return {}
        if current and requested == "quality_complaint":
            explaining = tracker.get_slot("requested_slot") == "reason"
            sending_photo = tracker.active_loop_name == EVIDENCE_FORM or bool(
                image_urls(latest_metadata(tracker))
            )
            if explaining or sending_photo:
                return {}
        return {"request_type": requested}
