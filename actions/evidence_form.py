"""Waiting for a photo after a ``need_evidence`` verdict.

The photo arrives as an image attachment in the channel metadata; the global
slot mapping (``actions/slot_mappings.py``) adds it to ``evidence``, which
completes this form and sends the request back to ``action_decide``. The
question is the evidence request itself, so a re-ask after an interruption
repeats exactly what is needed (photos, or an unboxing video for missing parts
and transit damage) and the rule it rests on.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, off_loop, say
from bot.conversation.replies import evidence_request


class ValidateEvidenceForm(FormValidationAction):
    """Accept the evidence slot once it holds at least one image."""

    def name(self) -> Text:
        """The form's validation action."""
        return "validate_evidence_form"

    def validate_evidence(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """A non-empty list of image URLs."""
        return {"evidence": value if isinstance(value, list) and value else None}


class ActionAskEvidence(Action):
    """Ask for the photos (and unboxing video) POLICY.md requires."""

    def name(self) -> Text:
        """The form's question for ``evidence``."""
        return "action_ask_evidence"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Send the evidence request with its citation."""
        who = buyer(tracker)
        view = None
        if tracker.get_slot("order_id"):
            view = await off_loop(desk().find_order, tracker.get_slot("order_id"), who["buyer_id"])
        rules = await off_loop(
            desk().rules_for,
            view.shop_id if view else who["shop_id"],
            view.platform if view else who["platform"],
        )
        say(dispatcher, evidence_request(tracker.get_slot("reason"), rules))
        return []
