"""Chinese two-stage fallback: confirm our best guess, then offer a human.

Rasa's built-in fallback actions ask "Did you mean 'x'?" in English with the raw
intent name. Buyers need a question in their language that names the request in
plain words (``affirmation_questions.yml`` beside this file), and after two
misunderstandings a way to a person (``utter_offer_human``) rather than a third
guess. The rephrase step stays Rasa's own (``utter_ask_rephrase``).
"""

from __future__ import annotations

import functools
import pathlib
from typing import Any, Dict, List, Optional, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

NLU_FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
QUESTIONS_FILE = pathlib.Path(__file__).with_name("affirmation_questions.yml")


@functools.lru_cache(maxsize=1)
def affirmation_questions() -> Dict[Text, Any]:
    """Load the per-intent confirmation questions and button titles once."""
    return yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))


def intent_to_affirm(parse_data: Dict[Text, Any]) -> Optional[Text]:
    """Pick the best real intent from a parse result.

    When the FallbackClassifier fired, the top intent is ``nlu_fallback`` and the
    model's actual best guess is the next one in the ranking.
    """
    for candidate in parse_data.get("intent_ranking") or []:
        name = candidate.get("name")
        if name and name != NLU_FALLBACK_INTENT:
            return name
    top = (parse_data.get("intent") or {}).get("name")
    return top if top != NLU_FALLBACK_INTENT else None


class ActionDefaultAskAffirmation(Action):
    """Ask "请问您是想……吗？" with yes/no buttons for the best-guess intent."""

    def name(self) -> Text:
        """Override Rasa's default affirmation action."""
        return "action_default_ask_affirmation"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        """Send the confirmation question, or ask to rephrase if nothing fits."""
        table = affirmation_questions()
        intent = intent_to_affirm(tracker.latest_message or {})
        question = table["questions"].get(intent) if intent else None
        if question is None:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        dispatcher.utter_message(
            text=question,
            buttons=[
                {"title": table["buttons"]["confirm"], "payload": f"/{intent}"},
                {"title": table["buttons"]["reject"], "payload": f"/{OUT_OF_SCOPE_INTENT}"},
            ],
        )
        return []


class ActionDefaultFallback(Action):
    """After two misunderstandings, offer a human agent instead of guessing again."""

    def name(self) -> Text:
        """Override Rasa's default fallback action."""
        return "action_default_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        """Offer a human and forget the message we could not understand."""
        dispatcher.utter_message(response="utter_offer_human")
        return [UserUtteranceReverted()]
