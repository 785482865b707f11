"""Send messages made only of never-seen words to the fallback.

Classifiers always name some intent, even for keyboard mashing ("qwxz zzkv"),
emoji-only messages or a language we were never trained on, and their
confidence there means nothing. If not a single token of a message occurred in
the training data, nor matches one of its regexes (an order number is never
seen twice, but its shape is known), this component clears the intent
(confidence 0, empty ranking), so the FallbackClassifier after it answers with
the two-stage fallback and the buyer is asked to rephrase instead of getting a
random answer.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Pattern, Set, Text

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
PATTERNS_FILE = "known_patterns.json"


def _token_texts(message: Message) -> List[Text]:
    return [token.text.lower() for token in message.get(TOKENS_NAMES[TEXT]) or []]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class UnknownTextGuard(IntentClassifier, GraphComponent):
    """Clear the intent of messages without a single known token."""

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        known: Set[Text],
        patterns: List[Text],
    ) -> None:
        """Keep the tokens seen in training and the training data's regexes."""
        self._model_storage = model_storage
        self._resource = resource
        self._known = known
        self._patterns = patterns
        self._compiled: List[Pattern] = [re.compile(p) for p in patterns]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownTextGuard:
        """Create the guard with an empty vocabulary (filled by training)."""
        return cls(model_storage, resource, set(), [])

    def train(self, training_data: TrainingData) -> Resource:
        """Remember every token of the training examples."""
        self._known = {
            token for example in training_data.intent_examples for token in _token_texts(example)
        }
        self._patterns = [regex["pattern"] for regex in training_data.regex_features]
        self._compiled = [re.compile(pattern) for pattern in self._patterns]
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self._known), ensure_ascii=False), encoding="utf-8"
            )
            (directory / PATTERNS_FILE).write_text(
                json.dumps(self._patterns, ensure_ascii=False), encoding="utf-8"
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
        """Read the known tokens and patterns back from the model archive."""
        with model_storage.read_from(resource) as directory:
            known = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
            patterns = json.loads((directory / PATTERNS_FILE).read_text("utf-8"))
        return cls(model_storage, resource, set(known), patterns)

    def is_unknown(self, message: Message) -> bool:
        """Whether no token of the message was seen in training or fits a regex."""
        return not any(
            token in self._known or any(p.search(token) for p in self._compiled)
            for token in _token_texts(message)
        )

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
