"""Normalise buyer text before tokenisation, keeping character offsets stable.

Buyers type in Traditional and Simplified Chinese, with full-width digits and
letters (３０９１, ｒｅｆｕｎｄ), odd whitespace (ideographic spaces, tabs, zero-width
characters pasted from apps) and sometimes whole essays. One spelling per character
lets every later feature (jieba words, char n-grams, regexes, lookup tables) learn
from all of them at once.

Every step maps one character to one character, so an entity span found on the
normalised text is also the right span in the original message. Only messages
longer than ``max_characters`` change length: they keep their head and tail (the
request is usually stated at the start or at the end of a rant), which keeps
parsing fast on a 20,000-character paste.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FULL_WIDTH_OFFSET = 0xFEE0
IDEOGRAPHIC_SPACE = "\u3000"
# Zero-width and other invisible format characters that arrive from copy-paste.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")
# Lone surrogates (a JSON "\ud800") are not text; OpenCC cannot encode them.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


@functools.lru_cache(maxsize=1)
def _t2s_converter() -> Any:
    """Create the OpenCC Traditional→Simplified converter once per process."""
    import opencc

    return opencc.OpenCC("t2s")


def to_half_width(text: Text) -> Text:
    """Map full-width ASCII forms (！-～) and the ideographic space to ASCII.

    Ideographic punctuation outside that block (。、「」) is left as it is.
    """
    chars = []
    for char in text:
        code = ord(char)
        if 0xFF01 <= code <= 0xFF5E:
            chars.append(chr(code - FULL_WIDTH_OFFSET))
        elif char == IDEOGRAPHIC_SPACE:
            chars.append(" ")
        else:
            chars.append(char)
    return "".join(chars)


def to_simplified(text: Text) -> Text:
    """Convert Traditional to Simplified Chinese with OpenCC, one char per char.

    OpenCC's phrase tables occasionally change the length of a phrase; when that
    happens the text is converted character by character instead, so offsets
    stay valid.
    """
    converter = _t2s_converter()
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    per_char = [converter.convert(char) for char in text]
    return "".join(c if len(c) == 1 else o for c, o in zip(per_char, text))


def clean_whitespace(text: Text) -> Text:
    """Turn control, invisible and unusual whitespace characters into plain spaces.

    Lone surrogates become U+FFFD, so nothing downstream fails to encode them.

    Runs of spaces are kept (one space per character) so offsets do not move; the
    tokenizer drops blank tokens anyway.
    """
    text = _INVISIBLE.sub(" ", _SURROGATES.sub(REPLACEMENT_CHARACTER, text))
    return "".join(
        " " if char.isspace() or unicodedata.category(char) == "Cc" else char
        for char in text
    )


def shorten(text: Text, max_characters: int) -> Text:
    """Keep the head and tail of an over-long message, joined by a space."""
    if max_characters <= 0 or len(text) <= max_characters:
        return text
    head = max_characters // 2
    tail = max_characters - head - 1
    return f"{text[:head]} {text[len(text) - tail:]}"


def normalize(text: Optional[Text], max_characters: int) -> Text:
    """Apply every normalisation step to one message text."""
    if not text:
        return ""
    text = shorten(text, max_characters)
    text = clean_whitespace(to_half_width(text))
    return to_simplified(text).strip()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class TextNormalizer(GraphComponent):
    """Rasa component that rewrites the message text before the tokenizer runs."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Return the default config: the longest text kept whole."""
        return {"max_characters": 1000}

    @staticmethod
    def required_packages() -> List[Text]:
        """OpenCC does the Traditional→Simplified conversion."""
        return ["opencc"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Store the configured maximum length."""
        self._max_characters = int(config["max_characters"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        """Create the component (nothing to train or persist)."""
        return cls(config)

    def _normalize_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str):
            message.set(TEXT, normalize(text, self._max_characters))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalise training examples the same way as live messages."""
        for example in training_data.training_examples:
            self._normalize_message(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Normalise incoming messages."""
        for message in messages:
            self._normalize_message(message)
        return messages
