"""Phrases that change which order the buyer means, or withdraw the request (``cues.yml``).

The NLU model recognises the request and any order number; it cannot know that
"还有一个订单也想退" means "not the order we just settled". These few phrases are
data, so the shop can extend them without touching code.
"""

from __future__ import annotations

import functools
import re
import pathlib
from typing import Any, Dict, Optional, Tuple

import yaml

from bot.nlu.text_normalizer import to_half_width, to_simplified

CUES_FILE = pathlib.Path(__file__).with_name("cues.yml")


@functools.lru_cache(maxsize=1)
def _raw() -> Dict[str, Any]:
    return yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def cues() -> Dict[str, Tuple[str, ...]]:
    """The cue lists by name, loaded once."""
    return {name: tuple(phrases) for name, phrases in _raw().items() if isinstance(phrases, list)}


def requested_by_words(text: str) -> Optional[str]:
    """The request type a request word names (退款 → refund), or None."""
    compact = _compact(text)
    for request, words in _raw()["request_words"].items():
        if any(word in compact for word in words):
            return request
    return None


def _compact(text: str) -> str:
    return "".join(to_simplified(to_half_width(text or "")).split())


def _mentions(text: str, name: str) -> bool:
    compact = _compact(text)
    return any(phrase in compact for phrase in cues()[name])


def asks_about_another_order(text: str) -> bool:
    """True for "还有一个订单也要退"-like messages."""
    return _mentions(text, "another_order")


def corrects_order_number(text: str) -> bool:
    """True for "订单号发错了"-like messages."""
    return _mentions(text, "order_correction")


# "不是不好看 是印错了": 不是 + what was said + 是 + the correction (not "不是退货 我想换").
NOT_X_BUT_Y = re.compile(r"不是([^是]{1,8}?)[,，。!！\s]*(?:而)?是")
REQUEST_WORDS = ("退", "换", "修", "补", "款")


def corrects(text: str) -> bool:
    """True for "其实…" / "说错了" / "不是X，是Y" (the buyer corrects what they said)."""
    if _mentions(text, "correction"):
        return True
    match = NOT_X_BUT_Y.search(_compact(text))
    return bool(match) and not any(word in match.group(1) for word in REQUEST_WORDS)


def photo_comes_later(text: str) -> bool:
    """True for "我等下拍给你" (the photo or video comes later)."""
    return _mentions(text.lower(), "photo_later")


def asks_for_more_orders(text: str) -> bool:
    """True for "更早的订单"-like messages (the order is not among those shown)."""
    return _mentions(text, "more_orders")


def withdraws(text: str, *, keeps_item: bool) -> bool:
    """True when the buyer takes the request back ("算了 还能用 不退了").

    Args:
        text: the message.
        keeps_item: the buyer already chose a remedy that keeps the item (补发,
            维修, 补偿), so "不用退" confirms it rather than withdrawing.
    """
    if _mentions(text, "withdrawal") or _compact(text).strip("。.!！~～ ") in cues()["withdrawal_alone"]:
        return True
    return not keeps_item and _mentions(text, "withdrawal_of_return")
