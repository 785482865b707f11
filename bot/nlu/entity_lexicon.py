"""The reason, product and item-fact lexicons: read from YAML, kept in spaCy, matched on text.

At training the lexicons are read from ``data/entities/reasons.yml``,
``data/entities/products.yml``, ``data/entities/item_facts.yml`` (what the buyer
says of the item and the remedy asked for) and the rule base's ``data/rules/categories.yml``,
checked, and turned into EntityRuler patterns; the category classes and the
negation words ride along in the spaCy pipeline's ``meta``. At serving
:func:`lexicon_from_patterns` rebuilds the lexicon from the loaded pipeline, so
no data file is read.

Matching is leftmost-longest over the characters of the normalised text
("快递压坏了" is one damaged_in_transit phrase, not the quality phrase "坏了";
"保暖内衣" is one ordinary product, not 内衣). Phrases that contain a lexicon word
but mean something else (手机号, 酒店, 没到七天) are listed as blockers: they take
part in the longest match and produce nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
)

import yaml

from bot.nlu.entity_numbers import Found, ascii_lower
from bot.rules.vocabulary import CATEGORY_CLASSES, CONDITIONS, REASONS, REMEDIES

REASON = "reason"
PRODUCT = "product"
NOT_REASON = "not_reason"
NOT_PRODUCT = "not_product"
REASONS_FILE = "reasons.yml"
PRODUCTS_FILE = "products.yml"
FACTS_FILE = "item_facts.yml"
META_KEY = "anxin_lexicon"
# Entities of item_facts.yml and the vocabulary each value comes from.
FACT_VALUES = {"condition": CONDITIONS, "remedy": REMEDIES}
# Questions are not negations: 是不是质量问题, 有没有破损.
_QUESTION_BEFORE = {"不是": "是", "没有": "有", "没": "有"}

T = TypeVar("T")


class LexiconError(ValueError):
    """A pattern file is missing, malformed or contradicts itself (at training)."""


@dataclass(frozen=True)
class FactTable:
    """The phrases of one item-fact entity (``condition`` or ``remedy``).

    Attributes:
        phrases: phrase → value.
        blockers: longer phrases that contain a phrase but mean something else.
        negations: words that cancel a phrase shortly after them.
    """

    phrases: Mapping[str, str]
    blockers: FrozenSet[str]
    negations: Tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Everything the phrase matching needs.

    Attributes:
        reasons: phrase → POLICY.md reason value.
        not_reasons: phrases that contain a reason phrase but are not one.
        negations: words that cancel a reason phrase shortly after them.
        negation_breakers: characters that end a negation's reach.
        products: item word → lexicon category name (None when no entry applies).
        not_products: words that contain a product word but are not products.
        category_classes: lexicon category name → category_class (None: ordinary).
        facts: entity name (``condition``, ``remedy``) → its phrase table.
    """

    reasons: Mapping[str, str]
    not_reasons: FrozenSet[str]
    negations: Tuple[str, ...]
    negation_breakers: str
    products: Mapping[str, Optional[str]]
    not_products: FrozenSet[str]
    category_classes: Mapping[str, Optional[str]]
    facts: Mapping[str, FactTable]


def _read_yaml(path: Path) -> Dict[str, Any]:
    if not path.is_file():
        raise LexiconError(f"entity pattern file not found: {path}")
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise LexiconError(f"{path} must hold a mapping at the top level")
    return content


def _phrases(values: Any, where: str) -> List[str]:
    if not isinstance(values, list) or not all(
        isinstance(v, str) and v.strip() for v in values
    ):
        raise LexiconError(f"{where} must be a list of non-empty strings")
    return [value.strip() for value in values]


def _reason_table(content: Dict[str, Any], path: Path) -> Dict[str, str]:
    table = content.get("reasons")
    if not isinstance(table, dict):
        raise LexiconError(f"{path}: `reasons` must map reason values to phrase lists")
    phrases: Dict[str, str] = {}
    for reason, values in table.items():
        if reason not in REASONS:
            raise LexiconError(
                f"{path}: `{reason}` is not a POLICY.md reason ({', '.join(REASONS)})"
            )
        for phrase in _phrases(values, f"{path}: reasons.{reason}"):
            key = ascii_lower(phrase)
            if phrases.get(key, reason) != reason:
                raise LexiconError(
                    f"{path}: `{phrase}` is under both {phrases[key]} and {reason}"
                )
            phrases[key] = reason
    return phrases


def _fact_tables(path: Path) -> Dict[str, FactTable]:
    content = _read_yaml(path)
    tables: Dict[str, FactTable] = {}
    for entity, allowed in FACT_VALUES.items():
        section = content.get(entity)
        if not isinstance(section, dict) or not isinstance(section.get("values"), dict):
            raise LexiconError(f"{path}: `{entity}` must hold `values` (value → phrases)")
        phrases: Dict[str, str] = {}
        for value, values in section["values"].items():
            if value not in allowed:
                raise LexiconError(
                    f"{path}: `{value}` is not a {entity} value ({', '.join(allowed)})"
                )
            for phrase in _phrases(values, f"{path}: {entity}.values.{value}"):
                key = ascii_lower(phrase)
                if phrases.get(key, value) != value:
                    raise LexiconError(
                        f"{path}: `{phrase}` is under both {phrases[key]} and {value}"
                    )
                phrases[key] = value
        blockers = {
            ascii_lower(p)
            for p in _phrases(section.get("blockers", []), f"{path}: {entity}.blockers")
        }
        both = sorted(blockers & set(phrases))
        if both:
            raise LexiconError(f"{path}: {entity}: both a phrase and a blocker: {both}")
        negations = _phrases(section.get("negations", []), f"{path}: {entity}.negations")
        tables[entity] = FactTable(
            phrases=phrases,
            blockers=frozenset(blockers),
            negations=tuple(sorted(negations, key=len, reverse=True)),
        )
    return tables


def _category_classes(path: Path) -> Dict[str, Optional[str]]:
    rows = _read_yaml(path).get("categories")
    if not isinstance(rows, list):
        raise LexiconError(f"{path}: `categories` must be a list")
    classes: Dict[str, Optional[str]] = {}
    for row in rows:
        name = row.get("name") if isinstance(row, dict) else None
        category_class = row.get("category_class") if isinstance(row, dict) else None
        if not isinstance(name, str) or category_class not in (None, *CATEGORY_CLASSES):
            raise LexiconError(f"{path}: bad category row {row!r}")
        classes[name] = category_class
    return classes


def _product_table(
    content: Dict[str, Any], path: Path, classes: Mapping[str, Optional[str]]
) -> Dict[str, Optional[str]]:
    products: Dict[str, Optional[str]] = {ascii_lower(name): name for name in classes}
    rows = content.get("products")
    if not isinstance(rows, list):
        raise LexiconError(f"{path}: `products` must be a list of {{word, category}}")
    for row in rows:
        word = row.get("word") if isinstance(row, dict) else None
        category = row.get("category") if isinstance(row, dict) else None
        if not isinstance(word, str) or not word.strip():
            raise LexiconError(f"{path}: bad product row {row!r}")
        if category is not None and category not in classes:
            raise LexiconError(
                f"{path}: `{word}` names category `{category}`, which is not in the "
                "rule base's category lexicon (data/rules/categories.yml)"
            )
        key = ascii_lower(word.strip())
        if products.get(key, category) != category:
            raise LexiconError(f"{path}: `{word}` has two categories")
        products[key] = category
    return products


def load_lexicon(patterns_dir: Path, categories_file: Path) -> Lexicon:
    """Read and check the pattern files (training time).

    Args:
        patterns_dir: the folder with reasons.yml and products.yml.
        categories_file: the rule base's category lexicon.

    Returns:
        The lexicon.

    Raises:
        LexiconError: a file is missing or malformed, a reason value or category
            is unknown, or a phrase is listed twice with different meanings.
    """
    reasons_path = patterns_dir / REASONS_FILE
    products_path = patterns_dir / PRODUCTS_FILE
    reasons_content = _read_yaml(reasons_path)
    products_content = _read_yaml(products_path)
    classes = _category_classes(categories_file)
    reasons = _reason_table(reasons_content, reasons_path)
    products = _product_table(products_content, products_path, classes)
    facts = _fact_tables(patterns_dir / FACTS_FILE)
    not_reasons = {
        ascii_lower(p)
        for p in _phrases(
            reasons_content.get("not_reasons", []), f"{reasons_path}: not_reasons"
        )
    }
    not_products = {
        ascii_lower(p)
        for p in _phrases(
            products_content.get("not_products", []), f"{products_path}: not_products"
        )
    }
    both = sorted(not_reasons & set(reasons))
    if both:
        raise LexiconError(f"{reasons_path}: both reason and not_reason: {both}")
    both = sorted(not_products & set(products))
    if both:
        raise LexiconError(f"{products_path}: both product and not_product: {both}")
    negations = _phrases(
        reasons_content.get("negations", []), f"{reasons_path}: negations"
    )
    breakers = reasons_content.get("negation_breakers", "")
    if not isinstance(breakers, str):
        raise LexiconError(f"{reasons_path}: negation_breakers must be a string")
    return Lexicon(
        reasons=reasons,
        not_reasons=frozenset(not_reasons),
        negations=tuple(sorted(negations, key=len, reverse=True)),
        negation_breakers=breakers,
        products=products,
        not_products=frozenset(not_products),
        category_classes=classes,
        facts=facts,
    )


def ruler_patterns(lexicon: Lexicon) -> List[Dict[str, str]]:
    """The lexicon as EntityRuler phrase patterns (the id carries the value)."""
    patterns = [
        {"label": REASON, "pattern": p, "id": r} for p, r in lexicon.reasons.items()
    ]
    patterns += [
        {"label": NOT_REASON, "pattern": p} for p in sorted(lexicon.not_reasons)
    ]
    patterns += [
        {"label": PRODUCT, "pattern": word, "id": category or ""}
        for word, category in lexicon.products.items()
    ]
    patterns += [
        {"label": NOT_PRODUCT, "pattern": w} for w in sorted(lexicon.not_products)
    ]
    for entity, table in lexicon.facts.items():
        patterns += [{"label": entity, "pattern": p, "id": v} for p, v in table.phrases.items()]
        patterns += [{"label": f"not_{entity}", "pattern": p} for p in sorted(table.blockers)]
    return patterns


def lexicon_meta(lexicon: Lexicon) -> Dict[str, Any]:
    """What the patterns cannot carry, for the spaCy pipeline's meta.json."""
    return {
        "negations": list(lexicon.negations),
        "negation_breakers": lexicon.negation_breakers,
        "category_classes": dict(lexicon.category_classes),
        "fact_negations": {e: list(t.negations) for e, t in lexicon.facts.items()},
    }


def lexicon_from_patterns(
    patterns: Iterable[Mapping[str, Any]], meta: Mapping[str, Any]
) -> Lexicon:
    """Rebuild the lexicon from a loaded EntityRuler's patterns and the meta block."""
    reasons: Dict[str, str] = {}
    products: Dict[str, Optional[str]] = {}
    not_reasons, not_products = set(), set()
    fact_phrases: Dict[str, Dict[str, str]] = {entity: {} for entity in FACT_VALUES}
    fact_blockers: Dict[str, set] = {entity: set() for entity in FACT_VALUES}
    for pattern in patterns:
        phrase = pattern.get("pattern")
        if not isinstance(phrase, str) or not phrase:
            continue
        label = pattern.get("label")
        if label in fact_phrases:
            fact_phrases[label][phrase] = str(pattern.get("id") or "")
        elif isinstance(label, str) and label[4:] in fact_blockers and label.startswith("not_"):
            fact_blockers[label[4:]].add(phrase)
        elif label == REASON:
            reasons[phrase] = str(pattern.get("id") or "")
        elif label == PRODUCT:
            products[phrase] = pattern.get("id") or None
        elif label == NOT_REASON:
            not_reasons.add(phrase)
        elif label == NOT_PRODUCT:
            not_products.add(phrase)
    return Lexicon(
        reasons=reasons,
        not_reasons=frozenset(not_reasons),
        negations=tuple(meta.get("negations", ())),
        negation_breakers=str(meta.get("negation_breakers", "")),
        products=products,
        not_products=frozenset(not_products),
        category_classes=dict(meta.get("category_classes", {})),
        facts={
            entity: FactTable(
                phrases=fact_phrases[entity],
                blockers=frozenset(fact_blockers[entity]),
                negations=tuple(meta.get("fact_negations", {}).get(entity, ())),
            )
            for entity in FACT_VALUES
        },
    )


class PhraseIndex(Generic[T]):
    """Leftmost-longest phrase matching over characters.

    Args:
        phrases: phrase (ASCII already lower-cased) → payload.
    """

    def __init__(self, phrases: Mapping[str, T]) -> None:
        self._phrases = dict(phrases)
        lengths: Dict[str, set] = {}
        for phrase in self._phrases:
            lengths.setdefault(phrase[0], set()).add(len(phrase))
        self._lengths = {char: sorted(ls, reverse=True) for char, ls in lengths.items()}

    def starts_at(self, lowered: str, index: int) -> bool:
        """Whether some phrase starts at ``index``."""
        return any(
            lowered[index : index + length] in self._phrases
            for length in self._lengths.get(lowered[index : index + 1], ())
        )

    def scan(
        self, lowered: str, accept: Callable[[int, int], bool] = lambda start, end: True
    ) -> List[Tuple[int, int, T]]:
        """Non-overlapping matches, leftmost first, longest at each position.

        Args:
            lowered: the text, ASCII lower-cased.
            accept: a last check of a candidate span; a rejected span lets shorter
                phrases at the same position be tried.

        Returns:
            (start, end, payload) for every match.
        """
        matches: List[Tuple[int, int, T]] = []
        index, size = 0, len(lowered)
        while index < size:
            step = 1
            for length in self._lengths.get(lowered[index], ()):
                end = index + length
                if (
                    end <= size
                    and lowered[index:end] in self._phrases
                    and accept(index, end)
                ):
                    matches.append((index, end, self._phrases[lowered[index:end]]))
                    step = length
                    break
            index += step
        return matches


_BLOCKED = None  # payload of a blocker phrase
# A one-character noun usually follows a measure word, a demonstrative or 的
# (这双鞋, 一瓶酒, 买的锅), while jieba often glues it to the next character (鞋坏/了).
_BEFORE_A_NOUN = frozenset("的这那双只个件把瓶本口箱盒袋条套台支罐款副顶")


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


class LexiconMatcher:
    """Finds reason and product entities with a lexicon.

    Args:
        lexicon: the lexicon.
        negation_window: how many characters may sit between a negation word and
            the reason phrase it cancels.
    """

    def __init__(self, lexicon: Lexicon, negation_window: int = 2) -> None:
        self._lexicon = lexicon
        self._window = max(0, int(negation_window))
        self._reasons: PhraseIndex[Optional[str]] = PhraseIndex(
            {**{p: _BLOCKED for p in lexicon.not_reasons}, **lexicon.reasons}
        )
        self._products: PhraseIndex[Optional[Tuple[Optional[str]]]] = PhraseIndex(
            {
                **{w: _BLOCKED for w in lexicon.not_products},
                **{w: (category,) for w, category in lexicon.products.items()},
            }
        )
        self._facts: Dict[str, PhraseIndex[Optional[str]]] = {
            entity: PhraseIndex({**{p: _BLOCKED for p in table.blockers}, **table.phrases})
            for entity, table in lexicon.facts.items()
        }

    def starts_product(self, lowered: str, index: int) -> bool:
        """Whether a product word starts at ``index`` (一块表 counts a watch)."""
        return self._products.starts_at(lowered, index)

    def is_negated(
        self, lowered: str, start: int, negations: Optional[Tuple[str, ...]] = None
    ) -> bool:
        """Whether a negation word ends shortly (``negation_window``) before ``start``.

        A breaker character in between (就, 想, a comma…) ends the negation's reach, and
        questions (是不是…, 有没有…) are not negations. ``negations`` defaults to the
        reason lexicon's.
        """
        negations = self._lexicon.negations if negations is None else negations
        for gap in range(self._window + 1):
            end = start - gap
            if end <= 0:
                return False
            if gap and lowered[end] in self._lexicon.negation_breakers:
                return False
            for cue in negations:
                if lowered.endswith(cue, 0, end):
                    before = _QUESTION_BEFORE.get(cue)
                    cue_start = end - len(cue)
                    if before and lowered[max(0, cue_start - 1) : cue_start] == before:
                        continue
                    return True
        return False

    def reasons(self, lowered: str) -> List[Found]:
        """Every reason value stated and not negated, at its first phrase."""
        found: List[Found] = []
        seen = set()
        for start, end, reason in self._reasons.scan(lowered):
            if reason is _BLOCKED or reason in seen or self.is_negated(lowered, start):
                continue
            seen.add(reason)
            found.append(Found(REASON, start, end, reason))
        return found

    def facts(self, lowered: str) -> List[Found]:
        """Every condition and remedy stated and not negated, each value once."""
        found: List[Found] = []
        for entity, index in self._facts.items():
            negations = self._lexicon.facts[entity].negations
            seen = set()
            for start, end, value in index.scan(lowered):
                if value is _BLOCKED or value in seen or self.is_negated(lowered, start, negations):
                    continue
                seen.add(value)
                found.append(Found(entity, start, end, value))
        return found

    def products(
        self, text: str, lowered: str, whole_words: FrozenSet[Tuple[int, int]]
    ) -> List[Found]:
        """Every product word, once per spelling, with its lexicon category.

        Args:
            text: the normalised text (values are taken from it as written).
            lowered: the same text, ASCII lower-cased.
            whole_words: spans the EntityRuler matched on jieba's word boundaries;
                a one-character word (鞋, 酒, 锅) counts only there or right after
                a measure word or 的 (这双鞋, 买的酒), so 鞋码 stays quiet.
        """

        def accept(start: int, end: int) -> bool:
            if (
                end - start < 2
                and (start, end) not in whole_words
                and lowered[start - 1 : start] not in _BEFORE_A_NOUN
            ):
                return False
            if (
                _is_ascii_alnum(lowered[start])
                and start > 0
                and _is_ascii_alnum(lowered[start - 1])
            ):
                return False
            if end < len(lowered) and _is_ascii_alnum(lowered[end - 1]):
                follower = lowered[end]
                if follower.isascii() and (
                    follower.isalpha() or (follower.isdigit() and end - start < 3)
                ):
                    return False
            return True

        found: List[Found] = []
        seen = set()
        for start, end, payload in self._products.scan(lowered, accept):
            value = text[start:end]
            if payload is _BLOCKED or value in seen:
                continue
            seen.add(value)
            category = payload[0]
            info = {
                "category": category,
                "category_class": (
                    self._lexicon.category_classes.get(category) if category else None
                ),
            }
            found.append(Found(PRODUCT, start, end, value, info))
        return found
