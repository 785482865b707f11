"""Waiting for a photo after a ``need_evidence`` verdict.

The photo or video arrives as an attachment in the channel metadata; the global
slot mapping (``actions/slot_mappings.py``) adds it to ``evidence``, which
completes this form and sends the request back to ``action_decide``. The first
question is the evidence request itself (photos, or an unboxing video for
missing parts and transit damage, and the rule it rests on); after an
interruption ("我等下拍给你", a question) the bot only says it is waiting, it
does not ask again. When the buyer corrects the reason so that it is no defect
any more ("不是质量问题 就是尺码大了"), no photo is needed: the form ends and the
request is decided again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.aftersales_form import keep_form_running
from actions.context import buyer, count_ask, desk, off_loop, say, times_asked
from bot.conversation.replies import evidence_request
from bot.rules.vocabulary import QUALITY_REASONS


class ValidateEvidenceForm(FormValidationAction):
    """Accept the evidence slot once it holds at least one photo or video."""

    def name(self) -> Text:
        """The form's validation action."""
        return "validate_evidence_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """As rasa_sdk's, but a turn without a photo stays the form's (a reminder follows)."""
        return keep_form_running(tracker, await super().run(dispatcher, tracker, domain))

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        """Evidence only while the reason is a defect (only those need photos)."""
        return ["evidence"] if tracker.get_slot("reason") in QUALITY_REASONS else []

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
        """Send the evidence request with its citation; afterwards only say we wait."""
        if times_asked(tracker, "evidence"):
            dispatcher.utter_message(response="utter_evidence_waiting")
            return []
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
        return [count_ask(tracker, "evidence")]
