"""Category lexicon: which POLICY.md class an everyday category name belongs to.

Orders from shop systems often carry only a product title ("法国进口红酒750ml")
rather than a class flag; the lexicon (``data/rules/categories.yml``) maps the
names buyers and shops use to ``statutory_excluded``, ``confirm_excluded``,
``one_time_seal`` or ordinary goods.
"""

from __future__ import annotations

from typing import Mapping, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rules.schema import Category


class Lexicon:
    """The lexicon held in memory, for callers that classify many texts.

    Args:
        classes: category name → class (None for ordinary goods).
    """

    def __init__(self, classes: Mapping[str, Optional[str]]) -> None:
        self._classes = dict(classes)

    def classify(self, category: Optional[str]) -> Optional[str]:
        """The class of ``category``: exact name, else the longest contained name.

        The longest name wins so that more specific entries override short ones
        ("水果刀" is kitchenware, not fruit; "咖啡机" is not coffee). Between names
        of equal length the one ending last wins: Chinese compounds put the head
        noun last ("酒精湿巾" is a wipe).

        Args:
            category: a category name or any text such as a product title.

        Returns:
            The class, or None for ordinary goods and for text the lexicon does
            not know.
        """
        if not category or not category.strip():
            return None
        text = category.strip()
        if text in self._classes:
            return self._classes[text]
        best_rank, best_class = None, None
        for name, category_class in self._classes.items():
            position = text.rfind(name)
            if position < 0:
                continue
            rank = (len(name), position + len(name))
            if best_rank is None or rank > best_rank:
                best_rank, best_class = rank, category_class
        return best_class


def load_lexicon(session: Session) -> Lexicon:
    """The lexicon as stored in the database (see ``loader.load_all``)."""
    rows = session.execute(select(Category.name, Category.category_class))
    return Lexicon({name: category_class for name, category_class in rows})


def category_class_for(session: Session, category: Optional[str]) -> Optional[str]:
    """The category class of ``category`` (see ``Lexicon.classify``).

    Args:
        session: an open session.
        category: a category name or any text such as a product title.

    Returns:
        The class, or None for ordinary goods and unknown text.
    """
    if not category or not category.strip():
        return None
    exact = session.get(Category, category.strip())
    if exact is not None:
        return exact.category_class
    return load_lexicon(session).classify(category)
