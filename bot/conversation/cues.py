"""Phrases that change which order the buyer means (``cues.yml`` beside this file).

The NLU model recognises the request and any order number; it cannot know that
"还有一个订单也想退" means "not the order we just settled". These few phrases are
data, so the shop can extend them without touching code.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Dict, Tuple

import yaml

from bot.nlu.text_normalizer import to_half_width, to_simplified

CUES_FILE = pathlib.Path(__file__).with_name("cues.yml")


@functools.lru_cache(maxsize=1)
def cues() -> Dict[str, Tuple[str, ...]]:
    """The cue lists by name, loaded once."""
    raw = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    return {name: tuple(phrases) for name, phrases in raw.items()}


def _mentions(text: str, name: str) -> bool:
    compact = "".join(to_simplified(to_half_width(text or "")).split())
    return any(phrase in compact for phrase in cues()[name])


def asks_about_another_order(text: str) -> bool:
    """True for "还有一个订单也要退"-like messages."""
    return _mentions(text, "another_order")


def corrects_order_number(text: str) -> bool:
    """True for "订单号发错了"-like messages."""
    return _mentions(text, "order_correction")
