"""A buyer threatens a complaint or platform intervention.

The threat never changes the verdict (POLICY.md §3). Inside a form the rules
only apologise (``utter_deescalate_calm``) and the form goes on: the
``escalation`` slot, set on every threatening message, reaches the decision.
Outside a form: with a request already known it decides again with the flag,
which keeps the verdict and adds a priority handoff unless the request is
approved; with nothing known a person takes over at once.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.decision import decide_and_answer


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
        dispatcher.utter_message(response="utter_deescalate")
        # The person taking over handles this threat: it must not flag a later decision.
        return [
            SlotSet("verdict", "handoff"),
            SlotSet("handoff_reason", "escalation_threat"),
            SlotSet("decision_id", None),
            SlotSet("escalation", False),
        ]
