"""A TF-IDF character n-gram logistic regression, stored without pickles.

Two components use it: the intent vote (``voting_classifier``) and the reason
classifier (``reason_classifier``). Chinese buyer text is short and jieba's
word boundaries move with the neighbouring characters, so character n-grams read
across them; a logistic regression gives calibrated enough probabilities for a
vote and a threshold. The fitted model is saved as a JSON vocabulary and numpy
arrays inside the Rasa model archive, and rebuilt from them at load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

VOCABULARY_FILE = "vocabulary.json"
ARRAYS_FILE = "arrays.npz"


class CharNgramModel:
    """Vectorizer + regression, fitted together, saved and loaded together.

    Args:
        ngram_range: the smallest and largest character n-gram.
        C: inverse regularisation strength of the regression.
        class_weight: ``"balanced"`` to weigh classes by inverse frequency, or None.
    """

    def __init__(
        self, ngram_range: Tuple[int, int], C: float, class_weight: Optional[str] = None
    ) -> None:
        self.ngram_range = tuple(ngram_range)
        self.C = C
        self.class_weight = class_weight
        self.vectorizer: Optional[TfidfVectorizer] = None
        self.regression: Optional[LogisticRegression] = None

    def _vectorizer(self, vocabulary: Optional[Dict[str, int]] = None) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.ngram_range,
            sublinear_tf=True,
            lowercase=True,
            vocabulary=vocabulary,
        )

    @property
    def fitted(self) -> bool:
        """Whether the model can predict."""
        return self.regression is not None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "CharNgramModel":
        """Fit on the texts; needs at least two labels."""
        self.vectorizer = self._vectorizer()
        features = self.vectorizer.fit_transform(texts)
        self.regression = LogisticRegression(
            C=self.C, max_iter=3000, random_state=42, class_weight=self.class_weight
        )
        self.regression.fit(features, labels)
        return self

    def probabilities(self, text: str) -> Dict[str, float]:
        """label → probability for one text."""
        assert self.vectorizer is not None and self.regression is not None
        row = self.regression.predict_proba(self.vectorizer.transform([text]))[0]
        return {str(label): float(p) for label, p in zip(self.regression.classes_, row)}

    def save(self, directory: Path) -> None:
        """Write the vocabulary, IDF weights and regression coefficients."""
        assert self.vectorizer is not None and self.regression is not None
        vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
        (directory / VOCABULARY_FILE).write_text(
            json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
        )
        np.savez(
            directory / ARRAYS_FILE,
            idf=self.vectorizer.idf_,
            coef=self.regression.coef_,
            intercept=self.regression.intercept_,
            classes=np.array(self.regression.classes_, dtype=str),
        )

    def load(self, directory: Path) -> bool:
        """Rebuild a saved model; False (and unfitted) when nothing was saved."""
        try:
            vocabulary = json.loads((directory / VOCABULARY_FILE).read_text("utf-8"))
            arrays = np.load(directory / ARRAYS_FILE, allow_pickle=False)
        except (ValueError, FileNotFoundError):
            return False
        vectorizer = self._vectorizer(vocabulary)
        vectorizer.idf_ = arrays["idf"]
        regression = LogisticRegression()
        regression.coef_ = arrays["coef"]
        regression.intercept_ = arrays["intercept"]
        regression.classes_ = arrays["classes"]
        self.vectorizer, self.regression = vectorizer, regression
        return True
