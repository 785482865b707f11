"""A second intent classifier that votes with DIET.

DIET sees jieba words and character n-grams inside each word, so a wrong
segmentation of an unusual phrase ("屏幕不显示", "充不进去电") costs it evidence.
A TF-IDF character n-gram logistic regression reads the text across word
boundaries and makes different mistakes; averaging the two probability
distributions is more accurate than either alone (``make eval`` shows the
numbers). The vote replaces ``intent`` and ``intent_ranking``, so the
FallbackClassifier after it judges the combined confidence.

The model (``bot.nlu.char_ngram_model``) is stored as plain arrays and JSON inside
the Rasa model archive (no pickles), and trained on the normalised text the
pipeline already produced.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.char_ngram_model import CharNgramModel


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class CharNgramVotingClassifier(IntentClassifier, GraphComponent):
    """Average a char n-gram logistic regression with the previous classifier."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default config.

        ``weight`` is this classifier's share of the vote (DIET gets the rest);
        ``min_ngram``/``max_ngram`` bound the character n-grams; ``C`` is the
        inverse regularisation strength of the logistic regression.
        """
        return {"weight": 0.7, "min_ngram": 1, "max_ngram": 4, "C": 10.0, "ranking_length": 10}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Keep the config; the model is fitted by ``train`` or read by ``load``."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = CharNgramModel(
            (config["min_ngram"], config["max_ngram"]), config["C"]
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNgramVotingClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        """scikit-learn does the vectorising and the regression."""
        return ["sklearn"]

    def train(self, training_data: TrainingData) -> Resource:
        """Fit TF-IDF and logistic regression on the intent examples."""
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        labels = [example.get(INTENT) for example in examples]
        if len(set(labels)) < 2:
            return self._resource
        self._model.fit([example.get(TEXT) for example in examples], labels)
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNgramVotingClassifier:
        """Rebuild the fitted model from the archive (none: trained on one intent)."""
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                component._model.load(directory)
        except ValueError:
            pass  # nothing was written: trained on fewer than two intents, no vote
        return component

    def process(self, messages: List[Message]) -> List[Message]:
        """Replace the intent and ranking with the weighted average of both votes."""
        if not self._model.fitted:
            return messages
        weight = float(self._config["weight"])
        for message in messages:
            ours = self._model.probabilities(message.get(TEXT) or "")
            theirs = {
                entry[INTENT_NAME_KEY]: entry[PREDICTED_CONFIDENCE_KEY]
                for entry in message.get(INTENT_RANKING_KEY) or []
            }
            if not theirs and message.get(INTENT):
                previous = message.get(INTENT)
                theirs = {previous[INTENT_NAME_KEY]: previous[PREDICTED_CONFIDENCE_KEY]}
            combined = {
                name: weight * float(ours.get(name, 0.0)) + (1 - weight) * float(theirs.get(name, 0.0))
                for name in set(ours) | set(theirs)
            }
            ranking = sorted(combined.items(), key=lambda item: item[1], reverse=True)
            ranking = ranking[: self._config["ranking_length"]]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: n, PREDICTED_CONFIDENCE_KEY: c} for n, c in ranking],
                add_to_output=True,
            )
        return messages
