"""Questions answered from data: the shop's after-sales rules and where an order is.

``ask_policy`` is answered from the buyer's shop rule set (a shop's better
promise shows, not the platform default); ``ask_logistics`` from the order's
status in the order system.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, latest_entity, off_loop, say
from bot.conversation.desk import OrderView
from bot.conversation.replies import logistics_reply, policy_reply

MAX_ORDERS_LISTED = 3


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
        """Build the answer from the shop's rule set."""
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
