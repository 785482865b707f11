"""Jieba tokenizer that never emits blank tokens.

Rasa 3.6's ``JiebaTokenizer`` keeps the whitespace tokens jieba produces between
Chinese and Latin text ("size 不对", "refund 129 rmb"), which breaks featurisation
of mixed-script messages (RasaHQ/rasa#7910). Cross-border buyers mix scripts all
the time, so this subclass drops those tokens and changes nothing else: the user
dictionary is still loaded from ``dictionary_path`` and persisted in the model.
"""

from __future__ import annotations

from typing import List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class CleanJiebaTokenizer(JiebaTokenizer):
    """``JiebaTokenizer`` without whitespace-only tokens."""

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenize with jieba and drop tokens that are only whitespace."""
        tokens = super().tokenize(message, attribute)
        return [token for token in tokens if token.text.strip()]
