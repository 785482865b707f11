"""The buyer withdraws the request ("算了，不退了").

The request's facts are forgotten so the next request starts clean; the order
stays known, so "那换货吧" right after does not ask for it again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionCancelRequest(Action):
    """Confirm the withdrawal, or ask what else when nothing was pending."""

    def name(self) -> Text:
        """Answer ``deny`` outside a question."""
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Forget the request type, reason and evidence."""
        if not tracker.get_slot("request_type"):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        dispatcher.utter_message(response="utter_request_cancelled")
        return [
            SlotSet("request_type", None),
            SlotSet("reason", None),
            SlotSet("evidence", None),
        ]
