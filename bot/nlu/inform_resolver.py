"""Messages that only give a fact are ``inform_order``, not a misunderstanding.

Two kinds of buyer message carry no request of their own and used to fall to the
two-stage fallback ("能换个说法吗？"), which made the bot lose what the buyer said:

- a photo or video with no words, or with a caption (看图, 拍好了, 视频): the
  attachment is evidence for the open request (POLICY.md §3 step 7: any photo or
  video counts, whenever it arrives);
- a fact the form needs without a clear intent: an order number, a product
  (面膜那单), a reason, a remedy or the item's condition (不是质量问题 就是尺码大了).

After the FallbackClassifier, this component turns such a message into
``inform_order`` (the intent the dialogue uses for "the buyer tells us a fact"),
so the after-sales form takes the fact and goes on. A message with a clear intent
of its own keeps it; an attachment under a request ("衣服破了" + photo) stays a
request.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.conversation.channel_metadata import evidence_urls

INFORM = "inform_order"
FALLBACK = "nlu_fallback"
# Intents a caption under a photo may get without being a request of its own.
CAPTION_INTENTS = (FALLBACK, "affirm", "thank", "greet", "out_of_scope", INFORM)
FACT_ENTITIES = ("order_id", "product", "reason", "remedy", "condition")


def _as_inform(message: Message, confidence: float) -> None:
    ranking = [
        entry for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) not in (INFORM, FALLBACK)
    ]
    top = {INTENT_NAME_KEY: INFORM, PREDICTED_CONFIDENCE_KEY: confidence}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class InformResolver(GraphComponent):
    """Turns attachment captions and facts without an intent into ``inform_order``."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """No options."""
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InformResolver:
        """Stateless: nothing to train or load."""
        return cls()

    @staticmethod
    def resolve(message: Message) -> Optional[str]:
        """Why the message is a fact (``attachment``, ``fact``), or None."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        text = (message.get(TEXT) or "").strip()
        if evidence_urls(message.get("metadata")) and (not text or intent in CAPTION_INTENTS):
            return "attachment"
        if intent == FALLBACK and any(
            e.get("entity") in FACT_ENTITIES for e in message.get(ENTITIES) or []
        ):
            return "fact"
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        """Relabel the messages that only give a fact."""
        for message in messages:
            why = self.resolve(message)
            if why == "attachment":
                _as_inform(message, 1.0)
            elif why == "fact":
                ranking = message.get(INTENT_RANKING_KEY) or []
                best = max((e.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for e in ranking), default=0.0)
                _as_inform(message, float(best))
        return messages
