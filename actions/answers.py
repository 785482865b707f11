"""Questions answered from data: the shop's after-sales rules and where an order is.

``ask_policy`` is answered from the buyer's shop rule set (a shop's better
promise shows, not the platform default); ``ask_logistics`` from the order's
status in the order system. Two kinds of question are not what they seem:

- after a decision, "多久到账" or "运费险怎么赔" asks about that decision: it is
  answered from the stored decision (``bot.conversation.followups``);
- "鞋子挤脚 怎么退" asks how, but says what and why: it is the request itself, so
  the after-sales form takes it (a policy text would leave the buyer where they were).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, latest_entity, latest_metadata, off_loop, say
from actions.decision import answer_from_decision
from bot.conversation.channel_metadata import evidence_urls
from bot.conversation.desk import OrderView
from bot.conversation.followups import followup_topic
from bot.conversation.replies import logistics_reply, policy_reply

MAX_ORDERS_LISTED = 3
# Entities that make a "how do I return" question about this buyer's own request.
OWN_REQUEST_ENTITIES = ("order_id", "product", "reason", "condition")


async def answered_as_followup(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answer a question about the decision already taken; False when it is not one."""
    decision_id = tracker.get_slot("decision_id")
    text = (tracker.latest_message or {}).get("text") or ""
    if decision_id is None or followup_topic(text) is None:
        return False
    outcome = await off_loop(desk().recall, int(decision_id))
    if outcome is None:
        return False
    answer_from_decision(dispatcher, tracker, outcome)
    return True


def states_own_request(tracker: Tracker) -> bool:
    """A request type is known and the message says which item, why, or shows it."""
    if not tracker.get_slot("request_type") or tracker.active_loop_name:
        return False
    entities = (tracker.latest_message or {}).get("entities") or []
    return any(e.get("entity") in OWN_REQUEST_ENTITIES for e in entities) or bool(
        evidence_urls(latest_metadata(tracker)))


async def known_order(tracker: Tracker) -> Optional[OrderView]:
    """The order named in the message or being discussed, if it is the buyer's."""
    order_id = latest_entity(tracker, "order_id") or tracker.get_slot("order_id")
    if not order_id:
        return None
    return await off_loop(desk().find_order, order_id, tracker.get_slot("buyer_id"))


class ActionAnswerPolicy(Action):
    """Explain the shop's return, exchange and quality rules."""

    def name(self) -> Text:
        """Answer ``ask_policy``."""
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Build the answer from the shop's rule set (or take the request, or the follow-up)."""
        if await answered_as_followup(dispatcher, tracker):
            return []
        if states_own_request(tracker):
            return [FollowupAction("aftersales_form")]
        who = buyer(tracker)
        view = await known_order(tracker)
        shop_id = view.shop_id if view else who["shop_id"]
        rules = await off_loop(desk().rules_for, shop_id, view.platform if view else who["platform"])
        name = await off_loop(desk().shop_name, shop_id)
        say(dispatcher, policy_reply(rules, name))
        return []


class ActionAnswerLogistics(Action):
    """Say where the buyer's order is."""

    def name(self) -> Text:
        """Answer ``ask_logistics``."""
        return "action_answer_logistics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """The named order's status, else the buyer's recent orders, else ask."""
        if await answered_as_followup(dispatcher, tracker):
            return []
        who = buyer(tracker)
        view = await known_order(tracker)
        if view is not None:
            views = [view]
        elif who["buyer_id"]:
            views = await off_loop(desk().recent_orders, who["buyer_id"], who["shop_id"])
        else:
            views = []
        if not views:
            dispatcher.utter_message(response="utter_ask_order_id")
            return []
        for item in views[:MAX_ORDERS_LISTED]:
            rules = await off_loop(desk().rules_for, item.shop_id, item.platform)
            say(dispatcher, logistics_reply(item, rules))
        return [SlotSet("order_id", views[0].order.order_id)] if len(views) == 1 else []
