"""The buyer's reason, learned from examples where the lexicon has no phrase for it.

Buyers describe a defect by its symptom (连不上蓝牙, 一边响一边不响, 花都蔫了) and a
change of mind by their situation (穿上像个麻袋, 家里已经有一台了, 太占地方). No
phrase list covers them all: the reason lexicon alone got 0.53 of a buyer-written
test set right. This component learns the reason from its own examples
(``data/entities/reason_examples.yml``, nine POLICY.md reasons plus ``none``, the
messages that state no reason) with the character n-gram regression of
``bot.nlu.char_ngram_model``, and combines it with the lexicon:

- a lexicon phrase (``SpacyRuleEntityExtractor``) is an exact hit and wins; when
  the lexicon found several reasons, the most specific comes first (a cracked
  glass in a crushed box is transit damage, a rash after a cream is a health
  matter, not "quality"), so the ``reason`` slot (the first entity) gets it;
- the lexicon's ``quality`` is the generic defect (碎了, 漏了, 坏了): when it is
  the lexicon's only reason and the classifier is sure (≥ ``refine_threshold``) of
  a more specific defect reason (a perfume leaking in a parcel "被扔得变形了" is
  transit damage, POLICY.md §0), the classifier's reason comes first;
- with no lexicon hit, the classifier adds one ``reason`` entity over the whole
  message when its best class is a reason with probability ≥ ``threshold``;
  below it, or when ``none`` wins, no reason is set and the form asks.

The entity contract is the lexicon's: ``entity: reason``, a POLICY.md value,
``confidence`` (the probability), ``extractor: ReasonClassifier``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.char_ngram_model import CharNgramModel
from bot.nlu.text_normalizer import normalize
from bot.rules.vocabulary import REASONS

NO_REASON_STATED = "none"
EXTRACTOR_NAME = "ReasonClassifier"
REASON = "reason"
# When the lexicon finds several reasons, the most specific one is the reason.
SPECIFIC_FIRST = (
    "health_safety",
    "counterfeit_suspected",
    "damaged_in_transit",
    "wrong_item",
    "missing_parts",
    "not_received",
    "not_as_described",
    "quality",
    "no_reason",
)


# Reasons that say more than the lexicon's generic "quality" (a defect of some kind).
REFINES_QUALITY = ("damaged_in_transit", "wrong_item", "missing_parts", "not_as_described")
# Transit damage is a defect the buyer ties to the trip: without one of these words
# "平板昨天到的 屏幕裂了" is a defect like any other (POLICY.md §0: quality).
TRANSIT_WORDS = (
    "快递", "物流", "运输", "路上", "途中", "箱", "包装", "包裹", "泡沫", "摔", "压", "扔", "踩", "湿",
    "颠", "磕", "碰", "外盒", "纸盒", "运", "派送", "配送", "rider", "parcel", "courier", "delivery",
)


class ReasonExamplesError(ValueError):
    """The examples file is missing or malformed (at training)."""


def load_examples(path: Path) -> Tuple[List[str], List[str]]:
    """Texts and labels of the examples file, normalised like buyer messages.

    Raises:
        ReasonExamplesError: the file is missing, a reason is not a POLICY.md value,
            or a list is empty.
    """
    if not path.is_file():
        raise ReasonExamplesError(f"reason examples not found: {path}")
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = content.get("examples")
    if not isinstance(examples, dict) or not isinstance(content.get(NO_REASON_STATED), list):
        raise ReasonExamplesError(f"{path}: needs `examples` (reason → texts) and `none` (texts)")
    texts: List[str] = []
    labels: List[str] = []
    for label, items in [*examples.items(), (NO_REASON_STATED, content[NO_REASON_STATED])]:
        if label != NO_REASON_STATED and label not in REASONS:
            raise ReasonExamplesError(f"{path}: `{label}` is not a POLICY.md reason")
        items = [item for item in items or [] if isinstance(item, str) and item.strip()]
        if not items:
            raise ReasonExamplesError(f"{path}: `{label}` has no examples")
        texts += [normalize(item, 1000) for item in items]
        labels += [label] * len(items)
    return texts, labels


def order_lexicon_reasons(entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The entities with the reason entities in order of specificity (others unmoved).

    The generic ``quality`` (碎了, 裂了) goes when a more specific reason was found
    too (外箱破了 东西碎了 is transit damage): it says nothing the other does not.
    """
    reasons = [e for e in entities if e.get("entity") == REASON]
    if len(reasons) < 2:
        return entities
    if any(e.get("value") not in ("quality", "no_reason") for e in reasons):
        entities = [e for e in entities if not (e.get("entity") == REASON and e.get("value") == "quality")]
        reasons = [e for e in entities if e.get("entity") == REASON]
    rank = {value: index for index, value in enumerate(SPECIFIC_FIRST)}
    ordered = iter(sorted(reasons, key=lambda e: rank.get(e.get("value"), len(rank))))
    return [next(ordered) if e.get("entity") == REASON else e for e in entities]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class ReasonClassifier(GraphComponent, EntityExtractorMixin):
    """Adds the buyer's reason when the lexicon found none or only a generic defect."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default config.

        ``examples_path``: the examples file (read only at training, relative to the
        project root); ``threshold``: the lowest probability that sets a reason;
        ``none_ratio``: how likely a reason must be against "no reason stated";
        ``refine_threshold``: the lowest that makes a lexicon ``quality`` more specific;
        ``min_ngram``/``max_ngram``/``C``: the character n-gram regression (chosen
        by leave-one-writer-out cross-validation over the examples' four writers).
        """
        return {
            "examples_path": "data/entities/reason_examples.yml",
            "threshold": 0.2,
            "none_ratio": 0.5,
            "refine_threshold": 0.65,
            "min_ngram": 1,
            "max_ngram": 3,
            "C": 100.0,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """scikit-learn does the vectorising and the regression."""
        return ["sklearn"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the examples change (Rasa only fingerprints the NLU data)."""
        path = Path({**cls.get_default_config(), **config}["examples_path"])
        return hashlib.sha256(path.read_bytes() if path.is_file() else b"<missing>").hexdigest()

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource
    ) -> None:
        """Keep the config; the model is fitted by ``train`` or read by ``load``."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = CharNgramModel(
            (config["min_ngram"], config["max_ngram"]), config["C"], class_weight="balanced"
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReasonClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit on the examples file (the NLU examples are not used).

        Raises:
            ReasonExamplesError: the examples file is missing or malformed.
        """
        texts, labels = load_examples(Path(self._config["examples_path"]))
        self._model.fit(texts, labels)
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
    ) -> ReasonClassifier:
        """Rebuild the fitted model from the model archive."""
        component = cls(config, model_storage, resource)
        with model_storage.read_from(resource) as directory:
            component._model.load(directory)
        return component

    def predict(self, text: str, threshold: Optional[float] = None) -> Optional[Tuple[str, float]]:
        """The likeliest reason and its probability, or None.

        None when that probability is below ``threshold`` or below ``none_ratio``
        times the probability that the message states no reason: request words
        (能退吗, 怎么退) pull towards ``none`` although the rest says why. Transit
        damage without a word of the trip (``TRANSIT_WORDS``) is a quality defect.
        """
        if not text or not self._model.fitted:
            return None
        probabilities = self._model.probabilities(text)
        none = probabilities.pop(NO_REASON_STATED, 0.0)
        label = max(probabilities, key=probabilities.get)
        lowest = float(self._config["threshold"] if threshold is None else threshold)
        if probabilities[label] < lowest or probabilities[label] < self._config["none_ratio"] * none:
            return None
        if label == "damaged_in_transit" and not any(word in text.lower() for word in TRANSIT_WORDS):
            return "quality", probabilities[label]
        return label, probabilities[label]

    @staticmethod
    def _entity(text: str, reason: str, probability: float) -> Dict[str, Any]:
        return {
            "entity": REASON,
            "start": 0,
            "end": len(text),
            "value": reason,
            "confidence": round(probability, 4),
            "extractor": EXTRACTOR_NAME,
        }

    def _refined(self, text: str, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The lexicon's generic ``quality`` made specific when the classifier is sure.

        The lexicon entity keeps its span and takes the classifier's value,
        probability and name, so one phrase stays one entity; ``refined_from`` says a
        lexicon phrase stands behind it (the buyer's words, not a guess).
        """
        found = self.predict(text, float(self._config["refine_threshold"]))
        if found is None or found[0] not in REFINES_QUALITY:
            return entities
        refined = []
        for entity in entities:
            if entity.get("entity") == REASON:
                entity = {**entity, "value": found[0], "confidence": round(found[1], 4),
                          "extractor": EXTRACTOR_NAME, "refined_from": entity.get("value")}
            refined.append(entity)
        return refined

    def process(self, messages: List[Message]) -> List[Message]:
        """Order the lexicon's reasons, or add the classifier's when it found none."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            entities = list(message.get(ENTITIES) or [])
            lexicon = {e.get("value") for e in entities if e.get("entity") == REASON}
            if lexicon:
                if lexicon == {"quality"}:
                    entities = self._refined(text, entities)
                message.set(ENTITIES, order_lexicon_reasons(entities), add_to_output=True)
                continue
            found = self.predict(text)
            if found is None:
                continue
            entities.append(self._entity(text, *found))
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
