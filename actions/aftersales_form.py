"""The after-sales form: which request, which order, and why (only when it matters).

``validate_aftersales_form`` keeps the questions to the minimum: the order is
taken from the message, or from the buyer's only recent order (saying so), or
picked from buttons; the reason is asked only when ``decide`` would answer
differently for a change of mind and for a defect. An order number that is not
found is asked for once more, then a person takes over (POLICY.md §3 step 1).
"""

from __future__ import annotations

import contextvars
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, latest_entity, latest_intent, off_loop, say
from bot.conversation.cues import asks_about_another_order, corrects_order_number
from bot.conversation.replies import Reply, order_title
from bot.rules.vocabulary import REASONS, REQUESTS

MAX_ORDER_BUTTONS = 5
LOOKUPS_BEFORE_HANDOFF = 2
# rasa_sdk asks ``required_slots`` three times per form run (extraction,
# validation, next slot); the answer needs the order and two ``decide`` calls,
# so it is worked out once per run and per (request, order, buyer).
_REASON_NEEDED: contextvars.ContextVar[Dict[Tuple, bool]] = contextvars.ContextVar("reason_needed")


def previous_value(tracker: Tracker, slot: Text) -> Optional[Any]:
    """The slot's value before the latest user message (None if never set)."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


class ValidateAftersalesForm(FormValidationAction):
    """Fill and check the after-sales form's slots."""

    def name(self) -> Text:
        """The form's validation action."""
        return "validate_aftersales_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Extract and validate as rasa_sdk does, keeping every extracted slot.

        rasa_sdk returns only the validation events, and validation skips slots
        that are not required (any more): the reason ``extract_reason`` found
        (required only while empty) and the resets of ``extract_order_id``
        (``reason``, ``evidence``, ``order_misses``) would never reach the tracker.
        """
        _REASON_NEEDED.set({})
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validated)
        names = {event["name"] for event in validated}
        events = [event for event in extracted if event["name"] not in names] + validated
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """Request type and order always; the reason only when it can change the verdict."""
        slots = ["request_type", "order_id"]
        request_type, order_id = tracker.get_slot("request_type"), tracker.get_slot("order_id")
        if request_type and order_id and tracker.get_slot("reason") is None:
            if await self._reason_needed(request_type, order_id, tracker.get_slot("buyer_id")):
                slots.append("reason")
        return slots

    @staticmethod
    async def _reason_needed(request_type: str, order_id: str, buyer_id: Optional[str]) -> bool:
        memo = _REASON_NEEDED.get(None)
        key = (request_type, order_id, buyer_id)
        if memo is not None and key in memo:
            return memo[key]
        view = await off_loop(desk().find_order, order_id, buyer_id)
        needed = await off_loop(desk().reason_matters, request_type, view)
        if memo is not None:
            memo[key] = needed
        return needed

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Forget a wrong or finished order; use the buyer's only recent order if none given."""
        if latest_entity(tracker, "order_id"):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        if asks_about_another_order(text):
            return {"order_id": None, "reason": None, "evidence": None, "order_misses": 0}
        if corrects_order_number(text):
            return {"order_id": None, "order_misses": 0}
        if tracker.get_slot("order_id"):
            return {}
        who = buyer(tracker)
        if not who["buyer_id"]:
            return {}
        recent = await off_loop(desk().recent_orders, who["buyer_id"], who["shop_id"])
        if len(recent) != 1:
            return {}
        only = recent[0]
        say(dispatcher, Reply("utter_order_assumed", {
            "order_id": only.order.order_id, "item": only.order.category or "商品",
        }))
        return {"order_id": only.order.order_id}

    async def extract_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A reported defect is a quality reason even when no reason phrase was found."""
        if tracker.get_slot("reason"):
            return {}
        intent, _ = latest_intent(tracker)
        if tracker.get_slot("request_type") == "quality_complaint" or (
            tracker.get_slot("requested_slot") == "reason" and intent == "complain_quality"
        ):
            return {"reason": "quality"}
        return {}

    def validate_request_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Only POLICY.md's request types."""
        return {"request_type": value if value in REQUESTS else None}

    def validate_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """Only POLICY.md's reasons."""
        return {"reason": value if value in REASONS else None}

    async def validate_order_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """The order must exist and be this buyer's; a changed order starts a fresh request."""
        if not value:
            return {"order_id": None}
        view = await off_loop(desk().find_order, str(value), tracker.get_slot("buyer_id"))
        if view is not None:
            found: Dict[Text, Any] = {"order_id": view.order.order_id, "order_misses": 0}
            previous = previous_value(tracker, "order_id")
            if previous and previous != view.order.order_id:
                found["evidence"] = None
                if not latest_entity(tracker, "reason"):
                    found["reason"] = None
            return found
        misses = int(tracker.get_slot("order_misses") or 0) + 1
        if misses >= LOOKUPS_BEFORE_HANDOFF:
            return {"order_id": str(value), "order_misses": misses}
        say(dispatcher, Reply("utter_order_not_found", {"order_id": str(value)}))
        return {"order_id": None, "order_misses": misses}


class ActionAskOrderId(Action):
    """Ask for the order: as buttons of the buyer's recent orders when there are several."""

    def name(self) -> Text:
        """The form's question for ``order_id``."""
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Send the question."""
        who = buyer(tracker)
        recent = []
        if who["buyer_id"]:
            recent = await off_loop(desk().recent_orders, who["buyer_id"], who["shop_id"])
        if len(recent) > 1:
            buttons = [
                {
                    "title": order_title(view),
                    "payload": '/inform_order{"order_id": "%s"}' % view.order.order_id,
                }
                for view in recent[:MAX_ORDER_BUTTONS]
            ]
            dispatcher.utter_message(response="utter_pick_order", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_order_id")
        return []
