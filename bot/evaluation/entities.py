"""Scores the entities of a trained model on a labelled entity test set.

The test set (``tests/data/entity_test_set.yml``, written by someone else and never
used to write patterns) has the form::

    cases:
      - text: 上周五收到的衣服破了，订单号3091234567890123456
        now: "2026-11-26T10:00:00+08:00"     # optional: when the buyer wrote it
        entities:
          - {entity: days, text: 上周五, value: 6}
          - {entity: reason, text: 破了, value: quality}

Scoring, per entity type: a predicted entity matches a gold one of the same type
when their character spans overlap (each entity matches at most once); the gold
span is the first occurrence of the gold ``text`` in the message. Precision,
recall and F1 count matches; exact-value accuracy is the share of matches whose
value equals the gold value (numbers within 1e-6, strings exactly; an id that
YAML read as a number is compared as its digits).

How the case's time reaches the model: ``Agent.parse_message(text)`` takes only
the text; it wraps it in ``UserMessage(text)`` and calls
``agent.processor.parse_message``. We make that same call with
``UserMessage(text, metadata={"now": case.now})``, so the message runs through the
same graph and components as in production, and the entity extractor takes
``metadata["now"]`` as the message time (see ``bot.nlu.entity_extractor``).
Relative days (上周五, 11月20号) are therefore computed by the production code
with the case's time, with no separate value logic here.

Predicted spans are offsets in the normalised text the model returns (the
TextNormalizer keeps one character per character, but strips the ends and
shortens very long messages), so gold spans are looked up in that text: first the
gold text as written, then its normalised form, then in the raw message.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bot.nlu.text_normalizer import normalize

ENTITY_TYPES = ("order_id", "tracking_number", "amount", "days", "product", "reason")
VALUE_TOLERANCE = 1e-6
NOT_FOUND = -1


@dataclass(frozen=True)
class GoldEntity:
    """One labelled entity: its type, the words as they appear, the expected value."""

    entity: str
    text: str
    value: Any


@dataclass(frozen=True)
class EntityCase:
    """One labelled message."""

    text: str
    now: Optional[str]
    entities: Tuple[GoldEntity, ...]


@dataclass(frozen=True)
class Span:
    """An entity with its character span (start == NOT_FOUND: gold text not found)."""

    entity: str
    start: int
    end: int
    value: Any


@dataclass
class EntityTypeScore:
    """Counts for one entity type, and the figures derived from them."""

    n_gold: int = 0
    n_predicted: int = 0
    n_matched: int = 0
    n_value_correct: int = 0

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_predicted if self.n_predicted else 0.0

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_gold if self.n_gold else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def value_accuracy(self) -> float:
        return self.n_value_correct / self.n_matched if self.n_matched else 0.0

    def as_json(self) -> Dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "value_accuracy": self.value_accuracy,
            "n_gold": self.n_gold,
            "n_predicted": self.n_predicted,
            "n_matched": self.n_matched,
        }


def _as_time_text(value: Any) -> Optional[str]:
    """``now`` as an ISO string (YAML turns an unquoted timestamp into a datetime)."""
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def load_entity_test_set(path: Path) -> List[EntityCase]:
    """Reads the test set.

    Raises:
        ValueError: the file does not have the documented shape.
    """
    content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = content.get("cases") if isinstance(content, dict) else None
    if not isinstance(cases, list):
        raise ValueError(f"{path}: expected `cases:` with a list of cases")
    loaded = []
    for number, case in enumerate(cases, start=1):
        if not isinstance(case, dict) or case.get("text") is None:
            raise ValueError(f"{path}: case {number} has no text")
        gold = []
        for entity in case.get("entities") or []:
            if (
                not isinstance(entity, dict)
                or "entity" not in entity
                or "text" not in entity
            ):
                raise ValueError(
                    f"{path}: case {number} has an entity without entity/text"
                )
            gold.append(
                GoldEntity(
                    str(entity["entity"]), str(entity["text"]), entity.get("value")
                )
            )
        loaded.append(
            EntityCase(str(case["text"]), _as_time_text(case.get("now")), tuple(gold))
        )
    return loaded


def gold_spans(case: EntityCase, parsed_text: str) -> List[Span]:
    """The gold entities with spans in the text the model parsed.

    Args:
        case: the labelled case.
        parsed_text: the text the model returned (normalised).

    Returns:
        One span per gold entity; start is NOT_FOUND when its text is not there.
    """
    spans = []
    for gold in case.entities:
        start = NOT_FOUND
        for haystack, needle in (
            (parsed_text, gold.text),
            (parsed_text, normalize(gold.text, 0)),
            (case.text, gold.text),
        ):
            if needle:
                start = haystack.find(needle)
            if start != NOT_FOUND:
                spans.append(Span(gold.entity, start, start + len(needle), gold.value))
                break
        else:
            spans.append(Span(gold.entity, NOT_FOUND, NOT_FOUND, gold.value))
    return spans


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def values_equal(gold: Any, predicted: Any) -> bool:
    """Numbers within VALUE_TOLERANCE, everything else as exact strings.

    Two ints compare exactly (19-digit ids do not fit a float); a float against a
    numeric string compares as numbers; an int against a string compares as digits
    (YAML reads an unquoted order id as an int).
    """
    if _is_number(gold) and _is_number(predicted):
        if isinstance(gold, int) and isinstance(predicted, int):
            return gold == predicted
        return abs(float(gold) - float(predicted)) <= VALUE_TOLERANCE
    if isinstance(gold, float) or isinstance(predicted, float):
        other = _as_float(predicted if isinstance(gold, float) else gold)
        number = gold if isinstance(gold, float) else predicted
        return other is not None and abs(number - other) <= VALUE_TOLERANCE
    return str(gold) == str(predicted)


def _overlap(a: Span, b: Span) -> int:
    if a.start == NOT_FOUND or b.start == NOT_FOUND:
        return 0
    return min(a.end, b.end) - max(a.start, b.start)


def match_entities(
    gold: Sequence[Span], predicted: Sequence[Span]
) -> List[Tuple[Span, Span]]:
    """Pairs gold and predicted entities of the same type whose spans overlap.

    Each gold entity, in order, takes the unmatched prediction of its type that
    overlaps it most; each entity is matched at most once.
    """
    free = list(range(len(predicted)))
    pairs = []
    for g in gold:
        best, best_overlap = None, 0
        for index in free:
            p = predicted[index]
            overlap = _overlap(g, p) if p.entity == g.entity else 0
            if overlap > best_overlap:
                best, best_overlap = index, overlap
        if best is not None:
            free.remove(best)
            pairs.append((g, predicted[best]))
    return pairs


def score_entities(
    gold_per_case: Sequence[Sequence[Span]],
    predicted_per_case: Sequence[Sequence[Span]],
) -> Dict[str, EntityTypeScore]:
    """Per-type counts over all cases, plus ``"all"`` (micro-averaged).

    Args:
        gold_per_case: the gold spans of each case.
        predicted_per_case: the predicted spans of each case, same order.

    Returns:
        Scores for every type in ENTITY_TYPES, every other type seen, and "all".
    """
    if len(gold_per_case) != len(predicted_per_case):
        raise ValueError("gold and predictions must have one entry per case")
    scores: Dict[str, EntityTypeScore] = {
        kind: EntityTypeScore() for kind in ENTITY_TYPES
    }
    total = EntityTypeScore()
    for gold, predicted in zip(gold_per_case, predicted_per_case, strict=True):
        for span in gold:
            scores.setdefault(span.entity, EntityTypeScore()).n_gold += 1
            total.n_gold += 1
        for span in predicted:
            scores.setdefault(span.entity, EntityTypeScore()).n_predicted += 1
            total.n_predicted += 1
        for g, p in match_entities(gold, predicted):
            correct = values_equal(g.value, p.value)
            for score in (scores[g.entity], total):
                score.n_matched += 1
                score.n_value_correct += int(correct)
    scores["all"] = total
    return scores


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def entity_report(
    scores: Dict[str, EntityTypeScore], durations_ms: Sequence[float], n_cases: int
) -> Dict[str, Any]:
    """The "entities" block of eval.json (numbers only, no messages)."""
    return {
        "n_cases": n_cases,
        "per_type": {kind: score.as_json() for kind, score in scores.items()},
        "median_parse_ms": statistics.median(durations_ms) if durations_ms else 0.0,
        "p95_parse_ms": percentile(durations_ms, 0.95),
    }


async def parse_cases(
    agent: Any, cases: Sequence[EntityCase]
) -> Tuple[List[Dict[str, Any]], List[float]]:
    """Parses each case with its time, timing one full NLU parse per message."""
    from rasa.core.channels.channel import UserMessage

    parsed, durations_ms = [], []
    for case in cases:
        metadata = {"now": case.now} if case.now else None
        message = UserMessage(case.text, metadata=metadata)
        started = time.perf_counter()
        parsed.append(await agent.processor.parse_message(message))
        durations_ms.append((time.perf_counter() - started) * 1000)
    return parsed, durations_ms


def predicted_spans(parsed: Dict[str, Any]) -> List[Span]:
    """The entities of one parse result as spans."""
    return [
        Span(
            str(e.get("entity")),
            int(e.get("start", NOT_FOUND)),
            int(e.get("end", NOT_FOUND)),
            e.get("value"),
        )
        for e in parsed.get("entities") or []
    ]


def evaluate_entities(model_path: Path, test_set: Path) -> Dict[str, Any]:
    """Loads the model, parses every case and scores the entities.

    Args:
        model_path: a trained model archive.
        test_set: the entity test set YAML.

    Returns:
        The "entities" block of eval.json.
    """
    from rasa.core.agent import Agent

    from bot.evaluation.rasa_model import silence_debug_logs

    cases = load_entity_test_set(test_set)
    silence_debug_logs()
    agent = Agent.load(str(model_path))
    parsed, durations_ms = asyncio.run(parse_cases(agent, cases))
    gold = [
        gold_spans(case, result.get("text") or "")
        for case, result in zip(cases, parsed, strict=True)
    ]
    predicted = [predicted_spans(result) for result in parsed]
    return entity_report(score_entities(gold, predicted), durations_ms, len(cases))
