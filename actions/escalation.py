"""A buyer threatens a complaint or platform intervention.

The threat never changes the verdict (POLICY.md §3). Inside a form the rules
only apologise (``utter_deescalate_calm``) and the form goes on: the
``escalation`` slot, set on every threatening message, reaches the decision.
Outside a form: with a request and an order known it decides with the flag,
which keeps the verdict and adds a priority handoff unless the request is
approved; with a request said but no order yet ("七天无理由退了 不给退我就投诉") the
after-sales form finds the order first and the decision carries the flag (a reason
said without a request word makes the request: a change of mind a return, a
defect a quality complaint); with nothing about a request a person takes over at once.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.decision import decide_and_answer
from bot.conversation.facts import stated_facts


class ActionHandleEscalation(Action):
    """De-escalate, and bring in a person unless the request is approved."""

    def name(self) -> Text:
        """Answer ``threaten_escalation``."""
        return "action_handle_escalation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Apologise, then decide with the escalation flag or hand off."""
        if tracker.get_slot("request_type") and tracker.get_slot("order_id"):
            _, events = await decide_and_answer(dispatcher, tracker, escalation=True)
            return events
        if tracker.get_slot("request_type"):
            return [FollowupAction("aftersales_form")]
        said = stated_facts((tracker.latest_message or {}).get("entities") or [])
        if said.reason is not None:
            # "太重了 不想要了 退 不让退我就投诉": why, without the request word; a change
            # of mind can only be a return, a defect is a quality complaint.
            request = "return" if said.reason == "no_reason" else "quality_complaint"
            return [SlotSet("request_type", request), FollowupAction("aftersales_form")]
        dispatcher.utter_message(response="utter_deescalate")
        # The person taking over handles this threat: it must not flag a later decision.
        return [
            SlotSet("verdict", "handoff"),
            SlotSet("handoff_reason", "escalation_threat"),
            SlotSet("decision_id", None),
            SlotSet("escalation", False),
        ]
