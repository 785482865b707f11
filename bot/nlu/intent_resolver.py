"""The intent a message's own words settle, where the classifiers guessed otherwise.

The intent classifiers read a message as a whole; a few kinds of message say
what they are in words the classifiers weigh too little, and a wrong intent there
made the bot lose what the buyer said. After the FallbackClassifier this
component settles them, in this order:

1. **A withdrawal** (不退了, 算了不用了, with no remedy named) is ``deny``: the
   dialogue withdraws the request only on such words (POLICY.md §4).
2. **"我等下拍给你"** (the photo comes later, and nothing else said) is ``affirm``: the
   request stays open.
   **A photo or video** with no words, or under a caption (看图, 拍好了), is
   ``inform_order``: evidence for the open request (POLICY.md §3 step 7), never a
   misunderstanding; under a request ("衣服破了" + photo) it stays the request.
3. **A remedy or a defect under a fact or a fallback** ("3301… 能退吗",
   "退了吧 3301…", "订单3301… 裤子有个洞") is the request that remedy makes, or a
   quality complaint: the number only says which order.
4. **A question about the procedure** (上门取件吗, 运费谁出, 多久到账) under small
   talk ("好的 上门取件吗") is ``ask_policy``: answered from the decision when there is one.
5. **A fact without a clear intent** (an order number, a product, a reason, a
   remedy, a condition, 第二个, 9月份买的, 更早的订单, 订单号发错了) is ``inform_order``, and so is
   a correction under ``deny`` ("不是质量问题 就是尺码大了"): the form takes the fact.

A message with a clear intent of its own keeps it.
"""

from __future__ import annotations

import datetime as dt
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
from bot.conversation.cues import (
    asks_about_another_order,
    asks_for_more_orders,
    corrects_order_number,
    photo_comes_later,
    withdraws,
)
from bot.conversation.followups import followup_topics
from bot.conversation.order_hints import read_hints

INFORM = "inform_order"
FALLBACK = "nlu_fallback"
DENY = "deny"
AFFIRM = "affirm"
# Intents a caption under a photo may get without being a request of its own.
CAPTION_INTENTS = (FALLBACK, "affirm", "thank", "greet", "out_of_scope", DENY, INFORM)
FACT_ENTITIES = ("order_id", "product", "reason", "remedy", "condition")
# Reasons that report a defect: a message stating one is a quality complaint (POLICY.md §0).
DEFECT_REASONS = frozenset({
    "quality", "not_as_described", "wrong_item", "missing_parts", "damaged_in_transit",
    "counterfeit_suspected", "health_safety",
})
# "好的 上门取件吗", "ok 运费谁出": a question about the procedure under small talk.
SMALL_TALK = ("affirm", "thank", "greet", "out_of_scope", FALLBACK)
ASK_POLICY = "ask_policy"
# The request intent a remedy makes (DESIGN.md remedies → intents).
REMEDY_INTENTS = {
    "return_refund": "request_return",
    "exchange": "request_exchange",
    "refund_only": "request_refund",
    "compensation": "request_refund",
    "reship": "complain_quality",
    "repair": "complain_quality",
}


def _relabel(message: Message, intent: str, confidence: float) -> None:
    ranking = [
        entry for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) not in (intent, FALLBACK)
    ]
    top = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)


def _best_confidence(message: Message) -> float:
    ranking = message.get(INTENT_RANKING_KEY) or []
    return float(max((e.get(PREDICTED_CONFIDENCE_KEY) or 0.0 for e in ranking), default=0.0))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class IntentResolver(GraphComponent):
    """Settles withdrawals, attachments, remedies with a number, and bare facts."""

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
    ) -> IntentResolver:
        """Stateless: nothing to train or load."""
        return cls()

    @staticmethod
    def resolve(message: Message) -> Optional[str]:
        """The intent the message's words settle, or None to keep the classifiers'."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        text = (message.get(TEXT) or "").strip()
        entities = message.get(ENTITIES) or []
        kinds = {e.get("entity") for e in entities}
        remedies = [e.get("value") for e in entities if e.get("entity") == "remedy"]
        reasons = {e.get("value") for e in entities if e.get("entity") == "reason"}
        if not remedies and text and withdraws(text, keeps_item=False):
            return DENY if intent != DENY else None
        if photo_comes_later(text) and not kinds & set(FACT_ENTITIES) and not evidence_urls(
            message.get("metadata")
        ):
            return AFFIRM if intent != AFFIRM else None
        if evidence_urls(message.get("metadata")) and (not text or intent in CAPTION_INTENTS):
            return INFORM
        if intent in SMALL_TALK and followup_topics(text):
            return ASK_POLICY
        if intent in (INFORM, FALLBACK) and remedies:
            return REMEDY_INTENTS.get(remedies[0])
        if intent in (INFORM, FALLBACK) and reasons & DEFECT_REASONS:
            return "complain_quality"
        if intent in (FALLBACK, DENY) and (
            kinds & set(FACT_ENTITIES)
            or read_hints(text, dt.date.today()).any
            or asks_for_more_orders(text)
            or corrects_order_number(text)
            or asks_about_another_order(text)
        ):
            return INFORM
        return None

    def process(self, messages: List[Message]) -> List[Message]:
        """Relabel the messages whose words settle the intent."""
        for message in messages:
            settled = self.resolve(message)
            if settled is None:
                continue
            attachment_only = settled == INFORM and not (message.get(TEXT) or "").strip()
            _relabel(message, settled, 1.0 if attachment_only else max(_best_confidence(message), 0.5))
        return messages
