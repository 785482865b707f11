"""Send messages made only of never-seen words to the fallback.

Classifiers always name some intent, even for keyboard mashing ("qwxz zzkv"),
emoji-only messages or a language we were never trained on, and their
confidence there means nothing. If not a single token of a message occurred in
the training data, this component clears the intent (confidence 0, empty
ranking), so the FallbackClassifier after it answers with the two-stage
fallback and the buyer is asked to rephrase instead of getting a random answer.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "known_tokens.json"


def _token_texts(message: Message) -> List[Text]:
    return [token.text.lower() for token in message.get(TOKENS_NAMES[TEXT]) or []]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class UnknownTextGuard(IntentClassifier, GraphComponent):
    """Clear the intent of messages without a single known token."""

    def __init__(
        self, model_storage: ModelStorage, resource: Resource, known: Set[Text]
    ) -> None:
        """Keep the set of tokens seen in training."""
        self._model_storage = model_storage
        self._resource = resource
        self._known = known

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownTextGuard:
        """Create the guard with an empty vocabulary (filled by training)."""
        return cls(model_storage, resource, set())

    def train(self, training_data: TrainingData) -> Resource:
        """Remember every token of the training examples."""
        self._known = {
            token for example in training_data.intent_examples for token in _token_texts(example)
        }
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self._known), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownTextGuard:
        """Read the known tokens back from the model archive."""
        with model_storage.read_from(resource) as directory:
            known = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
        return cls(model_storage, resource, set(known))

    def is_unknown(self, message: Message) -> bool:
        """Whether no token of the message was seen in training."""
        return not any(token in self._known for token in _token_texts(message))

    def process(self, messages: List[Message]) -> List[Message]:
        """Clear intent and ranking of unknown messages."""
        for message in messages:
            if self.is_unknown(message):
                message.set(
                    INTENT,
                    {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                    add_to_output=True,
                )
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
