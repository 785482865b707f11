"""Which of the buyer's recent orders a message means, when it gives no number.

"面膜那单", "第二个", "9月份买的羽绒服", "就239那单", "还没发货的那个": each narrows the
buyer's recent orders. :func:`choose_order` applies what the message says, in this
order, and picks an order only when exactly one is left:

1. a place in the list we showed (``shown``, the order ids of our last question);
2. the products named (the NLU ``product`` entities and the order's own item
   word found in the text), matched against each order's item;
3. the price (an ``amount`` equal to the order's amount);
4. the time (bought or received in the period the buyer names);
5. the state (还没发货 / 还在路上).

A hint that matches no order is ignored rather than trusted (the buyer may
misremember the week), so the list the bot shows next is never empty; a product
named that matches none of the orders leaves the choice open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.conversation.desk import OrderView
from bot.conversation.order_hints import OrderHints
from bot.nlu.text_normalizer import to_half_width, to_simplified

# How an order was picked (the reply says so).
BY_PLACE, BY_PRODUCT, BY_HINT, ONLY_ORDER = "place", "product", "hint", "only"
# A noun suffix buyers add to the item word (杯子 for 保温杯, 裙子 for 连衣裙).
NOUN_SUFFIX = "子"
# Words that name no item in particular: they never narrow the choice.
GENERIC_WORDS = frozenset({"衣服", "东西", "商品", "宝贝", "产品", "货", "物品", "包裹", "快递"})
AMOUNT_TOLERANCE = 0.5
# Words that deny the item right after them: "不是维生素 是面霜".
NOT_THIS = ("不是", "并非", "不要", "不退")


@dataclasses.dataclass(frozen=True)
class Choice:
    """The order picked (None when still open) and the orders still possible.

    ``how`` says how it was picked; for an open choice, ``product`` means the
    candidates are the orders the products named.
    """

    order: Optional[OrderView]
    how: Optional[str]
    candidates: Tuple[OrderView, ...]


def _compact(text: Optional[str]) -> str:
    return "".join(to_simplified(to_half_width(text or "")).lower().split())


def _head(word: str) -> str:
    """The item word without a trailing 子 (杯子 → 杯), kept when that would empty it."""
    return word[:-1] if len(word) > 1 and word.endswith(NOUN_SUFFIX) else word


def _negated(text: str, start: Any) -> bool:
    """Whether a 不是 / 不要 comes right before position ``start`` ("不是维生素 是面霜")."""
    if not isinstance(start, int):
        return False
    before = _compact(text[max(0, start - 4):start])
    return any(word in before for word in NOT_THIS)


def product_words(
    entities: Iterable[Mapping[str, Any]], text: str = ""
) -> List[Tuple[str, Optional[str], int]]:
    """(word, lexicon category, position) of each ``product`` the buyer does not deny."""
    words = []
    for entity in entities or ():
        if entity.get("entity") != "product" or not isinstance(entity.get("value"), str):
            continue
        if _negated(text, entity.get("start")):
            continue
        word = _compact(entity["value"])
        if word not in GENERIC_WORDS:
            start = entity.get("start")
            words.append((word, _compact(entity.get("additional_info", {}).get("category")) or None,
                          start if isinstance(start, int) else len(text)))
    return words


def match_level(item: Optional[str], word: str, category: Optional[str]) -> int:
    """How well a product word (and its lexicon category) names the order's item.

    3: the same item (面膜 / 面膜, or the same lexicon category); 2: the word is the
    item's head noun or the item the word's (耳机 names 蓝牙耳机; 杯子 names 保温杯, the
    same head 杯); 1: one contains the other elsewhere (手机 in 手机壳, a weak hint
    that a better match beats); 0: nothing shared.
    """
    item = _compact(item)
    if not item or not word:
        return 0
    best = 0
    for name in filter(None, (word, category)):
        head = _head(name)
        if name == item:
            best = max(best, 3)
        elif item.endswith(head) or name.endswith(item) or (len(head) == 1 and head == item[-1]):
            best = max(best, 2)
        elif name in item or item in name:
            best = max(best, 1)
    return best


def mentioned_at(text: str, item: Optional[str]) -> Optional[int]:
    """Where the text names the item itself (刻字戒指 → "戒指" or "刻字戒指"), or None."""
    item, text = _compact(item), _compact(text)
    if not item:
        return None
    places = [text.find(form) for form in {item, item[-2:] if len(item) >= 3 else item}]
    places = [place for place in places if place >= 0]
    return min(places) if places else None


def _best_named(
    text: str, words, candidates: Sequence[OrderView]
) -> Tuple[List[OrderView], List[int]]:
    """The orders the products name best, the first named first.

    A weak mention (the item's word inside another) counts only when nothing better does.
    """
    scored = []
    for view in candidates:
        hits = [(match_level(view.order.category, w, c), -at) for w, c, at in words]
        level, at = max(hits, default=(0, 0))
        at = -at
        if not level:
            place = mentioned_at(text, view.order.category)
            if place is not None:
                level, at = 1, place
        scored.append((level, at, view))
    top = max((level for level, _, _ in scored), default=0)
    best = sorted(((at, view) for level, at, view in scored if top and level == top),
                  key=lambda pair: pair[0])
    return [view for _, view in best], [at for at, _ in best]


def _narrow(views: Sequence[OrderView], keep) -> Sequence[OrderView]:
    """The views ``keep`` accepts, or all of them when it accepts none."""
    kept = [view for view in views if keep(view)]
    return kept or views


def choose_order(
    *,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    hints: OrderHints,
    recent: Sequence[OrderView],
    shown: Sequence[str],
    zone: dt.tzinfo,
    older: Sequence[OrderView] = (),
) -> Choice:
    """Pick the order the message means among ``recent`` (newest first).

    Args:
        text: the buyer's message.
        entities: its NLU entities (``product``, ``amount``).
        hints: its order hints (``bot.conversation.order_hints.read_hints``).
        recent: the buyer's recent orders in this shop, newest first.
        shown: the order ids of the list the bot showed last, in its order.
        zone: the platform's time zone (for the buyer's "yesterday").
        older: the buyer's earlier orders, reached only by a product or time named.

    Returns:
        The order picked and how, or None with the orders still possible.
    """
    by_id = {view.order.order_id: view for view in recent}
    if hints.ordinal is not None and shown:
        index = hints.ordinal - 1 if hints.ordinal > 0 else len(shown) + hints.ordinal
        if 0 <= index < len(shown) and shown[index] in by_id:
            view = by_id[shown[index]]
            return Choice(view, BY_PLACE, (view,))
    candidates: Sequence[OrderView] = list(recent)
    narrowed = False
    words = product_words(entities, text)
    named, places = _best_named(text, words, candidates)
    if not named and (words or hints.period is not None) and older:
        # "9月份买的羽绒服": not among the recent orders, but among the older ones
        everything = [*recent, *(view for view in older if view.order.order_id not in by_id)]
        named, places = _best_named(text, words, everything)
        if named or hints.period is not None:
            candidates = everything
    if len(recent) == 1 and len(candidates) == 1 and not named:
        return Choice(recent[0], ONLY_ORDER, tuple(recent))  # said so: "我们查到您最近的订单是…"
    if len(named) > 1 and places[0] < places[1]:
        # "那手机壳呢 …手机都不要了": the item named first is the one talked about.
        named = named[:1]
    if named:
        candidates, narrowed = named, True
    elif words:
        return Choice(None, None, tuple(candidates))  # an item we cannot find: ask
    amounts = [e.get("value") for e in entities if e.get("entity") == "amount"]
    amounts = [float(a) for a in amounts if isinstance(a, (int, float)) and not isinstance(a, bool)]
    if amounts:
        before = len(candidates)
        candidates = _narrow(candidates, lambda v: v.order.amount is not None and any(
            abs(v.order.amount - a) <= AMOUNT_TOLERANCE for a in amounts))
        narrowed = narrowed or len(candidates) < before
    if hints.period is not None:
        period, before = hints.period, len(candidates)
        candidates = _narrow(candidates, lambda v: (
            period.event != "received" and period.holds(v.created_at, zone)
        ) or (period.event != "bought" and period.holds(v.order.signed_at, zone)))
        narrowed = narrowed or len(candidates) < before
    if hints.status is not None:
        before = len(candidates)
        candidates = _narrow(candidates, lambda v: v.order.status == hints.status)
        narrowed = narrowed or len(candidates) < before
    if len(candidates) == 1 and narrowed:
        return Choice(candidates[0], BY_PRODUCT if named else BY_HINT, tuple(candidates))
    return Choice(None, BY_PRODUCT if named else None, tuple(candidates))
