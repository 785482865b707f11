"""Rule-based entities: order/tracking numbers, amounts, days, products, reasons.

DIET does not extract entities here (``entity_recognition: false``): annotating
enough examples for order numbers, money and Chinese time phrases would take
thousands of labelled spans, while the shapes and words are well known. This
component reads them with rules instead, after the TextNormalizer (so the text is
Simplified and half-width and every span is also a span of the buyer's message):

- a spaCy pipeline, ``spacy.blank("zh")`` with the jieba segmenter and an
  EntityRuler, built at training from ``data/entities/reasons.yml``,
  ``data/entities/products.yml`` and the rule base's ``data/rules/categories.yml``
  and saved with ``nlp.to_disk`` into the model archive (serving reads no data
  file and downloads nothing);
- character-level matching of the same phrases (``bot.nlu.entity_lexicon``):
  jieba cuts a phrase differently depending on its neighbours (手机坏了 →
  手机/坏/了, but 坏掉了 → 坏掉/了), so phrases are matched on characters,
  longest first; the ruler's jieba words decide one-character product words
  (鞋 counts in 这双鞋, not in 鞋码);
- regexes for the shaped entities (``bot.nlu.entity_numbers``).

Entities: ``order_id``, ``tracking_number``, ``amount`` (float), ``days`` (int,
days since receipt), ``product`` (``additional_info``: lexicon category and
category_class), ``reason`` (a POLICY.md reason value), ``condition`` (what the
buyer says of the item, a POLICY.md condition) and ``remedy`` (what the buyer asks
for, DESIGN.md's remedy values). ``days`` phrases like
上周五收到的 are counted from the message time: ``message.get("time")`` or
``Message.time`` when set (epoch seconds or ISO 8601), else
``metadata["now"]`` (ISO 8601, as the evaluation passes it), else now in
Asia/Shanghai. Rasa 3.6 sets none of these on live messages, so live messages use
the clock.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from spacy.language import Language

from bot.nlu.entity_lexicon import (
    FACTS_FILE,
    META_KEY,
    PRODUCT,
    PRODUCTS_FILE,
    REASONS_FILE,
    Lexicon,
    LexiconMatcher,
    lexicon_from_patterns,
    lexicon_meta,
    load_lexicon,
    ruler_patterns,
)
from bot.nlu.entity_numbers import (
    Found,
    ascii_lower,
    extract_amounts,
    extract_days,
    extract_ids,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPACY_DIR = "spacy_pipeline"
RULER = "entity_ruler"
EXTRACTOR_NAME = "SpacyRuleEntityExtractor"
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2999
_SURROGATE = re.compile("[\ud800-\udfff]")


def build_pipeline(lexicon: Lexicon) -> Language:
    """A blank Chinese spaCy pipeline (jieba) whose EntityRuler holds the lexicon."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe(RULER, config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns(lexicon))
    nlp.meta["name"] = "anxin_entities"
    nlp.meta[META_KEY] = lexicon_meta(lexicon)
    return nlp


def parse_time(value: Any) -> Optional[datetime]:
    """A message time as an aware datetime in Asia/Shanghai, or None.

    Accepts a datetime, epoch seconds (or milliseconds) and ISO 8601 strings; a
    naive time is taken to be Shanghai time. Anything else, or a year outside
    1970-2999, gives None.
    """
    parsed: Optional[datetime] = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        if 0 < seconds < 3.2e10:  # also false for NaN
            parsed = datetime.fromtimestamp(seconds, SHANGHAI)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:  # not ISO 8601: fall back to another source
            return None
    if parsed is None or not _EARLIEST_YEAR < parsed.year < _LATEST_YEAR:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(SHANGHAI)


def message_time(message: Message) -> datetime:
    """When the message was written (see the module docstring for the sources)."""
    metadata = message.get("metadata")
    candidates = [message.get("time"), getattr(message, "time", None)]
    if isinstance(metadata, dict):
        candidates += [metadata.get("now"), metadata.get("time")]
    for candidate in candidates:
        parsed = parse_time(candidate)
        if parsed is not None:
            return parsed
    return datetime.now(SHANGHAI)


def _as_rasa_entity(found: Found) -> Dict[Text, Any]:
    entity: Dict[Text, Any] = {
        "entity": found.entity,
        "start": found.start,
        "end": found.end,
        "value": found.value,
        "confidence": 1.0,
        "extractor": EXTRACTOR_NAME,
    }
    if found.additional_info is not None:
        entity["additional_info"] = found.additional_info
    return entity


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True
)
class SpacyRuleEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds rule-based entities (lexicon phrases and number shapes) to each message."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default config.

        ``patterns_path`` is the folder with reasons.yml and products.yml,
        ``categories_path`` the rule base's category lexicon (both read only at
        training, relative to the project root); ``negation_window`` is how many
        characters may separate 不是/没有 from the reason phrase it cancels.
        """
        return {
            "patterns_path": "data/entities",
            "categories_path": "data/rules/categories.yml",
            "negation_window": 2,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """spaCy runs the pipeline with jieba; cn2an reads Chinese numerals."""
        return ["spacy", "jieba", "cn2an"]

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """The patterns are Chinese."""
        return ["zh"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when a pattern file changes (Rasa only fingerprints the NLU data).

        Rasa passes the config as written in config.yml, without defaults.
        """
        digest = hashlib.sha256()
        for path in cls._pattern_files({**cls.get_default_config(), **config}):
            digest.update(str(path).encode("utf-8"))
            digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        return digest.hexdigest()

    @staticmethod
    def _pattern_files(config: Dict[str, Any]) -> List[Path]:
        folder = Path(config["patterns_path"])
        return [
            folder / REASONS_FILE,
            folder / PRODUCTS_FILE,
            folder / FACTS_FILE,
            Path(config["categories_path"]),
        ]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        nlp: Optional[Language] = None,
    ) -> None:
        """Keep the config and, once trained or loaded, the spaCy pipeline."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._nlp: Optional[Language] = None
        self._matcher: Optional[LexiconMatcher] = None
        if nlp is not None:
            self._use_pipeline(nlp)

    def _use_pipeline(self, nlp: Language) -> None:
        ruler = nlp.get_pipe(RULER)
        lexicon = lexicon_from_patterns(ruler.patterns, nlp.meta.get(META_KEY, {}))
        self._nlp = nlp
        self._matcher = LexiconMatcher(lexicon, self._config["negation_window"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyRuleEntityExtractor:
        """Create an extractor without lexicon (number shapes only) until trained."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Build the spaCy pipeline from the pattern files and store it.

        The NLU examples are not used: the entities come from the lexicons.

        Raises:
            LexiconError: a pattern file is missing or inconsistent.
        """
        lexicon = load_lexicon(
            Path(self._config["patterns_path"]), Path(self._config["categories_path"])
        )
        nlp = build_pipeline(lexicon)
        with self._model_storage.write_to(self._resource) as directory:
            nlp.to_disk(directory / SPACY_DIR)
        self._use_pipeline(nlp)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyRuleEntityExtractor:
        """Load the spaCy pipeline from the model archive."""
        with model_storage.read_from(resource) as directory:
            nlp = spacy.load(directory / SPACY_DIR)
        return cls(config, model_storage, resource, nlp)

    def _whole_words(self, text: str) -> FrozenSet[Tuple[int, int]]:
        """Spans of product words the EntityRuler found on jieba's word boundaries."""
        if self._nlp is None or not text:
            return frozenset()
        # Lone surrogates (JSON may carry them) cannot be UTF-8 encoded into spaCy's
        # string store; one replacement character for each keeps the offsets.
        doc = self._nlp(_SURROGATE.sub("\ufffd", text[: self._nlp.max_length]))
        return frozenset(
            (ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == PRODUCT
        )

    def extract(self, text: str, now: datetime) -> List[Dict[Text, Any]]:
        """The entities of one normalised text, as Rasa entity dicts sorted by start.

        Args:
            text: the message text after the TextNormalizer.
            now: when the message was written (for 上周五 and dates).

        Returns:
            Entity dicts with entity, start, end, value, confidence, extractor and,
            for products, order ids and amounts, additional_info.
        """
        lowered = ascii_lower(text)
        found: List[Found] = extract_ids(text)
        found += extract_days(text, now.date())
        if self._matcher is not None:
            matcher = self._matcher
            found += extract_amounts(
                text, lambda _, index: matcher.starts_product(lowered, index)
            )
            found += matcher.products(text, lowered, self._whole_words(text))
            found += matcher.reasons(lowered)
            found += matcher.facts(lowered)
        else:
            found += extract_amounts(text)
        found.sort(key=lambda item: (item.start, item.end, item.entity))
        return [_as_rasa_entity(item) for item in found]

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the entities of each message to those already there."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            entities = self.extract(text, message_time(message))
            if entities:
                existing = list(message.get(ENTITIES) or [])
                message.set(ENTITIES, existing + entities, add_to_output=True)
        return messages
