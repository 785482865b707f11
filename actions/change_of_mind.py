"""The buyer withdraws the request ("算了，不退了") — or only seems to.

A request is withdrawn only when the buyer says so (POLICY.md §4): "算了 还能用
不退了" is a withdrawal, "音箱本身没问题 不用退" after asking for a reshipped part is
not (the buyer keeps the item on purpose). On a withdrawal the request's facts
are forgotten so the next request starts clean; the order stays known, so "那换货吧"
right after does not ask for it again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import desk, off_loop
from actions.decision import answer_from_decision
from bot.conversation.cues import withdraws
from bot.conversation.turn import KEEP_ITEM_REMEDIES

# What a withdrawn request forgets.
REQUEST_FACTS = ("request_type", "reason", "evidence", "stated_condition", "remedy",
                 "requested_amount", "asked", "shown_orders")
ITEM_KEPT_REMEDIES = KEEP_ITEM_REMEDIES + ("reship", "repair")


class ActionCancelRequest(Action):
    """Confirm a withdrawal; otherwise keep the request and say what stands."""

    def name(self) -> Text:
        """Answer ``deny`` (inside or outside a form)."""
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Forget the request on a withdrawal; else recap the decision or ask how to go on."""
        if not tracker.get_slot("request_type"):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        text = (tracker.latest_message or {}).get("text") or ""
        if withdraws(text, keeps_item=tracker.get_slot("remedy") in ITEM_KEPT_REMEDIES):
            dispatcher.utter_message(response="utter_request_cancelled")
            return [SlotSet(slot, None) for slot in REQUEST_FACTS]
        if tracker.get_slot("verdict") == "need_evidence":
            dispatcher.utter_message(response="utter_evidence_later")
            return []
        decision_id = tracker.get_slot("decision_id")
        outcome = await off_loop(desk().recall, int(decision_id)) if decision_id else None
        if outcome is not None:
            answer_from_decision(dispatcher, tracker, outcome)
        else:
            dispatcher.utter_message(response="utter_keep_request")
        return []
