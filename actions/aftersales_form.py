"""The after-sales form: which request, which order, and why (only when it matters).

``validate_aftersales_form`` keeps the questions to the minimum: the order is
taken from the message (its number, a product, a place in the list shown, a
time), or from the buyer's only recent order (saying so), or picked from
buttons; the reason is asked only when ``decide`` would answer differently for a
change of mind and for a defect. A question is never asked for what the buyer
already said; one left unanswered is asked again with buttons only, and a third
time a person takes over (``low_confidence``). An order number that is not found
is asked for once more, then a person takes over (POLICY.md §3 step 1).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.context import (
    ASKED,
    buyer,
    count_ask,
    desk,
    gives_up,
    latest_entity,
    latest_intent,
    off_loop,
    say,
    times_asked,
)
from bot.conversation.channel_metadata import evidence_urls
from bot.conversation.cues import (
    asks_about_another_order,
    asks_for_more_orders,
    corrects,
    corrects_order_number,
)
from bot.conversation.desk import HISTORY_DAYS, RECENT_DAYS, OrderView, timezone_of
from bot.conversation.facts import stated_facts
from bot.conversation.order_choice import ONLY_ORDER, Choice, choose_order
from bot.conversation.order_hints import read_hints
from bot.conversation.replies import Reply, order_title
from bot.rules.vocabulary import REASONS, REQUESTS

MAX_ORDER_BUTTONS = 5
LOOKUPS_BEFORE_HANDOFF = 2
# rasa_sdk asks ``required_slots`` three times per form run (extraction,
# validation, next slot); the answer needs the order and two ``decide`` calls,
# so it is worked out once per run and per (request, order, buyer).
_REASON_NEEDED: contextvars.ContextVar[Dict[Tuple, bool]] = contextvars.ContextVar("reason_needed")
# The facts that belong to one order's request: forgotten when the order changes,
# unless the message that changed it says them again.
DEFECT_REMEDIES = ("repair", "reship")
# Intents with a rule of their own inside the forms (data/rules.yml): a form turn
# that fills nothing is left to that rule.
RULED_INTENTS = (
    "ask_policy", "ask_logistics", "greet", "thank", "affirm", "out_of_scope", "nlu_fallback",
    "goodbye", "threaten_escalation", "request_human", "deny",
)


def previous_value(tracker: Tracker, slot: Text) -> Optional[Any]:
    """The slot's value before the latest user message (None if never set)."""
    events = list(tracker.events)
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    value = None
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


async def recent_choice(tracker: Tracker) -> Tuple[List[OrderView], Choice]:
    """The buyer's recent orders and which of them the latest message means."""
    who = buyer(tracker)
    if not who["buyer_id"]:
        return [], Choice(None, None, ())
    history = await off_loop(desk().recent_orders, who["buyer_id"], who["shop_id"], HISTORY_DAYS)
    if not history:
        return [], Choice(None, None, ())
    since = desk().clock() - dt.timedelta(days=RECENT_DAYS)
    recent = [view for view in history if view.created_at >= since]
    rules = await off_loop(desk().rules_for, who["shop_id"], who["platform"])
    zone = timezone_of(rules)
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    today = desk().clock().astimezone(zone).date()
    choice = choose_order(
        text=text,
        entities=message.get("entities") or [],
        hints=read_hints(text, today),
        recent=recent,
        shown=list(tracker.get_slot("shown_orders") or []),
        zone=zone,
        older=[view for view in history if view.created_at < since],
    )
    return recent, choice


def keep_form_running(tracker: Tracker, events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """The events, with a no-op slot event when a turn without a rule filled nothing.

    Rasa rejects a form turn that fills nothing, so that an unhappy-path rule
    (a question, a greeting, a withdrawal inside the form) takes over. Other
    turns ("对", a caption, the request said again) have no such rule, and the
    core fallback would answer; the form asking again (buttons only the second
    time, a person the third) is the better answer, so those turns stay the form's.
    """
    intent, _ = latest_intent(tracker)
    if intent in RULED_INTENTS or any(event.get("name") != "requested_slot" for event in events):
        return events
    return [*events, SlotSet(ASKED, tracker.get_slot(ASKED))]


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
        would never reach the tracker.
        """
        _REASON_NEEDED.set({})
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        validated = await self.get_validation_events(dispatcher, tracker, domain)
        tracker.add_slots(validated)
        names = {event["name"] for event in validated}
        events = [event for event in extracted if event["name"] not in names] + validated
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return keep_form_running(tracker, events) + ([next_slot] if next_slot else [])

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
        """The order the message means: named, picked from the list, or the only one.

        A product (面膜那单) or hint (第二个, 9月份买的) that leaves one of the buyer's
        recent orders picks it, and the bot says which; a product naming another of
        the buyer's orders than the one being discussed switches to it.
        """
        if latest_entity(tracker, "order_id"):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        if asks_about_another_order(text):
            return {"order_id": None, "reason": None, "evidence": None, "order_misses": 0}
        if corrects_order_number(text):
            return {"order_id": None, "order_misses": 0}
        current = tracker.get_slot("order_id")
        recent, choice = await recent_choice(tracker)
        if choice.order is None or choice.order.order.order_id == current:
            return {}
        if current and choice.how == ONLY_ORDER:
            return {}
        picked = choice.order.order
        item = picked.category or "商品"
        if choice.how == ONLY_ORDER:
            say(dispatcher, Reply("utter_order_assumed", {"order_id": picked.order_id, "item": item}))
        else:
            say(dispatcher, Reply("utter_order_picked", {"order_id": picked.order_id, "item": item}))
        picked_events: Dict[Text, Any] = {"order_id": picked.order_id}
        if tracker.get_slot("shown_orders"):
            picked_events["shown_orders"] = None  # the list is answered
        return picked_events

    async def extract_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A reported defect is a quality reason even when no reason phrase was found.

        So is a repair or a reshipped part asked for: nobody has a change of mind
        repaired.
        """
        if tracker.get_slot("reason"):
            return {}
        intent, _ = latest_intent(tracker)
        if tracker.get_slot("remedy") in DEFECT_REMEDIES:
            return {"reason": "quality"}
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
            message = tracker.latest_message or {}
            text = message.get("text") or ""
            correcting = corrects(text) or corrects_order_number(text)
            if previous and previous != view.order.order_id and not correcting:
                # Another item: only what this message says of it holds. ("不是连衣裙 是羽绒服"
                # corrects the order: what the buyer said was about the right one.)
                said = stated_facts(message.get("entities") or [])
                found.update({
                    "reason": said.reason,
                    "stated_condition": said.condition,
                    "remedy": said.remedy,
                    "requested_amount": said.amount,
                    "evidence": evidence_urls(message.get("metadata")) or None,
                })
            return found
        misses = int(tracker.get_slot("order_misses") or 0) + 1
        if misses >= LOOKUPS_BEFORE_HANDOFF:
            return {"order_id": str(value), "order_misses": misses}
        say(dispatcher, Reply("utter_order_not_found", {"order_id": str(value)}))
        return {"order_id": None, "order_misses": misses}


def _buttons(domain: DomainDict, response: str) -> List[Dict[str, str]]:
    """The buttons of a ``domain.yml`` response (for the buttons-only re-ask)."""
    variants = (domain.get("responses") or {}).get(response) or [{}]
    return [
        {"title": b["title"], "payload": b["payload"].replace("{{", "{").replace("}}", "}")}
        for b in variants[0].get("buttons") or []
    ]


class ActionAskOrderId(Action):
    """Ask for the order: the buyer's recent orders as buttons, five at a time."""

    def name(self) -> Text:
        """The form's question for ``order_id``."""
        return "action_ask_order_id"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Show the orders still possible (newest first), or ask for the number.

        "更早的订单" shows the next five after the ones shown (not a new question);
        a question asked before comes back as buttons only.
        """
        shown = list(tracker.get_slot("shown_orders") or [])
        text = (tracker.latest_message or {}).get("text") or ""
        more = bool(shown) and asks_for_more_orders(text)
        if not more and gives_up(tracker, "order_id"):
            return gives_up(tracker, "order_id")
        _, choice = await recent_choice(tracker)
        candidates = list(choice.candidates)
        if len(candidates) < 2:
            dispatcher.utter_message(response="utter_ask_order_id")
            return [count_ask(tracker, "order_id")]
        start = 0
        if more:
            ids = [view.order.order_id for view in candidates]
            start = max((ids.index(i) + 1 for i in shown if i in ids), default=0)
            if start >= len(candidates):
                start = 0
        page = candidates[start:start + MAX_ORDER_BUTTONS]
        buttons = [
            {"title": order_title(view), "payload": '/inform_order{"order_id": "%s"}' % view.order.order_id}
            for view in page
        ]
        if start + MAX_ORDER_BUTTONS < len(candidates):
            buttons.append({"title": "更早的订单", "payload": "更早的订单"})
        if more:
            response = "utter_pick_order_more"
        elif times_asked(tracker, "order_id"):
            response = "utter_pick_order_buttons"
        else:
            response = "utter_pick_order"
        dispatcher.utter_message(response=response, buttons=buttons)
        events = [SlotSet("shown_orders", [view.order.order_id for view in page])]
        return events + ([] if more else [count_ask(tracker, "order_id")])


class ActionAskReason(Action):
    """Ask why (it decides who pays the postage); buttons only the second time."""

    def name(self) -> Text:
        """The form's question for ``reason``."""
        return "action_ask_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Send the question (or hand over when it went unanswered twice)."""
        if gives_up(tracker, "reason"):
            return gives_up(tracker, "reason")
        if times_asked(tracker, "reason"):
            dispatcher.utter_message(
                response="utter_ask_reason_buttons", buttons=_buttons(domain, "utter_ask_reason"))
        else:
            dispatcher.utter_message(response="utter_ask_reason")
        return [count_ask(tracker, "reason")]


class ActionAskRequestType(Action):
    """Ask which after-sales service; after a photo, say it arrived."""

    def name(self) -> Text:
        """The form's question for ``request_type``."""
        return "action_ask_request_type"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Send the question (or hand over when it went unanswered twice)."""
        if gives_up(tracker, "request_type"):
            return gives_up(tracker, "request_type")
        buttons = _buttons(domain, "utter_ask_request_type")
        if times_asked(tracker, "request_type"):
            dispatcher.utter_message(response="utter_ask_request_type_buttons", buttons=buttons)
        elif tracker.get_slot("evidence"):
            dispatcher.utter_message(response="utter_ask_request_type_evidence", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_ask_request_type")
        return [count_ask(tracker, "request_type")]
