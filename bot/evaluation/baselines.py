"""Two cheap intent classifiers that the Rasa model has to beat to earn its keep.

Both are built from our own material only (the keyword list is hand-written, the
TF-IDF model is fitted on data/nlu), and both see text normalised the same trivial way,
so any gap to the model comes from the pipeline, not from preprocessing.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import yaml
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

KEYWORD_RULES_PATH = Path(__file__).with_name("keyword_rules.yml")


def normalise(text: str) -> str:
    """Strips and lowercases, the only preprocessing the baselines get."""
    return text.strip().lower()


def load_training_examples(nlu_path: Path) -> Tuple[List[str], List[str]]:
    """Reads our NLU examples with Rasa's own loader, so annotations are stripped.

    Args:
        nlu_path: a Rasa NLU file or a directory of them (e.g. data/nlu).

    Returns:
        (texts, intents), aligned, one pair per intent example.
    """
    training_data = load_data(str(nlu_path))
    examples = training_data.intent_examples
    return [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples]


@dataclass(frozen=True)
class KeywordRule:
    """If any keyword occurs in the message, the message gets this intent."""

    rule_id: str
    intent: str
    keywords: Tuple[str, ...]


class KeywordBaseline:
    """First-match keyword rules, the kind of bot a shop would write without ML."""

    def __init__(self, rules: Sequence[KeywordRule], default_intent: str) -> None:
        """Keeps the rules in order.

        Args:
            rules: rules tried in order; the first that matches wins.
            default_intent: intent for a message no rule matches.
        """
        self.rules = tuple(rules)
        self.default_intent = default_intent

    @classmethod
    def from_yaml(cls, path: Path = KEYWORD_RULES_PATH) -> "KeywordBaseline":
        """Loads the rules from YAML, since the list is data, not code.

        Args:
            path: YAML with `default_intent` and `rules` (id, intent, keywords).

        Returns:
            The baseline.
        """
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = [
            KeywordRule(
                rule_id=rule["id"],
                intent=rule["intent"],
                # str(): YAML reads an unquoted keyword such as 12315 as a number.
                keywords=tuple(normalise(str(k)) for k in rule["keywords"]),
            )
            for rule in config["rules"]
        ]
        return cls(rules, config["default_intent"])

    def predict_one(self, text: str) -> str:
        """Returns the intent of the first matching rule, else the default intent."""
        message = normalise(text)
        for rule in self.rules:
            if any(keyword in message for keyword in rule.keywords):
                return rule.intent
        return self.default_intent

    def predict(self, texts: Sequence[str]) -> List[str]:
        """Predicts an intent for each text."""
        return [self.predict_one(text) for text in texts]


class TfidfLogRegBaseline:
    """Character n-gram TF-IDF with logistic regression: the standard strong baseline.

    char_wb n-grams need no Chinese word segmentation, which makes this a fair test of
    whether jieba + DIET add anything.
    """

    def __init__(self) -> None:
        """Builds the untrained pipeline with fixed hyperparameters and seed."""
        self.pipeline: Pipeline = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4)),
            LogisticRegression(max_iter=2000, random_state=42),
        )

    def fit(
        self, texts: Sequence[str], intents: Sequence[str]
    ) -> "TfidfLogRegBaseline":
        """Trains on our NLU examples.

        Args:
            texts: training messages.
            intents: their intents.

        Returns:
            self, to allow `TfidfLogRegBaseline().fit(...)`.
        """
        self.pipeline.fit([normalise(t) for t in texts], list(intents))
        return self

    def predict(self, texts: Sequence[str]) -> List[str]:
        """Predicts an intent for each text."""
        return [str(i) for i in self.pipeline.predict([normalise(t) for t in texts])]
