"""Which order a message means without its number (bot.conversation.order_hints / order_choice)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

import pytest

from bot.conversation.desk import OrderView
from bot.conversation.order_choice import BY_HINT, BY_PLACE, BY_PRODUCT, ONLY_ORDER, choose_order, match_level
from bot.conversation.order_hints import BOUGHT, EITHER, RECEIVED, OrderHints, read_hints
from bot.rules.model import Order

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 12, 3)  # a Thursday


def view(order_id: str, category: str, *, bought: str, signed: Optional[str] = None,
         status: str = "signed", amount: float = 99.0) -> OrderView:
    def moment(day: Optional[str]) -> Optional[dt.datetime]:
        return dt.datetime.fromisoformat(f"{day}T12:00:00+08:00") if day else None
    order = Order(order_id=order_id, status=status, signed_at=moment(signed), category=category, amount=amount)
    return OrderView(order, "shop", "店", "tmall", None, moment(bought))


# newest first, as the desk lists them
RECENT = [
    view("1", "羽绒服", bought="2026-11-29", signed="2026-12-01", amount=599.0),
    view("2", "面膜", bought="2026-11-27", signed="2026-11-29", amount=129.0),
    view("3", "蓝牙耳机", bought="2026-11-25", signed="2026-11-28", amount=399.0),
    view("4", "手机壳", bought="2026-11-20", status="shipped", amount=39.0),
    view("5", "手机", bought="2026-09-12", signed="2026-09-15", amount=2999.0),
]


def product(word: str, category: Optional[str] = None, start: int = 0) -> Dict[str, Any]:
    return {"entity": "product", "value": word, "start": start, "additional_info": {"category": category}}


def choose(text: str, entities: List[Dict[str, Any]] = (), shown=(), recent=RECENT):
    return choose_order(text=text, entities=list(entities), hints=read_hints(text, TODAY),
                        recent=recent, shown=list(shown), zone=SHANGHAI)


@pytest.mark.parametrize("text, ordinal", [
    ("第二个", 2), ("第2个", 2), ("第二单", 2), ("最后那个", -1), ("倒数第二个", -2), ("2", 2),
    ("第二天就坏了", None), ("第一次买", None), ("买了两个", None),
])
def test_places_in_a_list(text, ordinal) -> None:
    assert read_hints(text, TODAY).ordinal == ordinal


@pytest.mark.parametrize("text, first, last, event", [
    ("9月份买的羽绒服", "2026-09-01", "2026-09-30", BOUGHT),
    ("上周到的", "2026-11-23", "2026-11-29", RECEIVED),
    ("上上周下的单", "2026-11-16", "2026-11-22", BOUGHT),
    ("昨天签收的那瓶", "2026-12-02", "2026-12-02", RECEIVED),
    ("三天前拍的", "2026-11-29", "2026-12-01", BOUGHT),
    ("前两天", "2026-11-30", "2026-12-02", EITHER),
    ("11月20号买的", "2026-11-20", "2026-11-20", BOUGHT),
    ("12月买的", "2026-12-01", "2026-12-31", BOUGHT),  # this month, not last year's
])
def test_times(text, first, last, event) -> None:
    period = read_hints(text, TODAY).period
    assert (period.first.isoformat(), period.last.isoformat(), period.event) == (first, last, event)


def test_states() -> None:
    assert read_hints("鱼油还没发货吧", TODAY).status == "paid_unshipped"
    assert read_hints("还在路上吧", TODAY).status == "shipped"
    assert read_hints("路上压坏了", TODAY).status is None  # damaged on the way, delivered since
    assert read_hints("你好", TODAY) == OrderHints() and not OrderHints().any


@pytest.mark.parametrize("item, word, category, level", [
    ("面膜", "面膜", "面膜", 3),
    ("蓝牙耳机", "耳机", "耳机", 2),  # the head noun
    ("保温杯", "杯子", None, 2),  # the same head, 杯
    ("手机壳", "手机", None, 1),  # only a weak hint: 手机 is the phone, not its case
    ("羽绒服", "面膜", None, 0),
])
def test_how_well_a_word_names_an_item(item, word, category, level) -> None:
    assert match_level(item, word, category) == level


def test_a_product_that_names_one_order_picks_it() -> None:
    choice = choose("面膜那单想退", [product("面膜", "面膜")])
    assert (choice.order.order.order_id, choice.how) == ("2", BY_PRODUCT)
    assert choose("耳机左边没声音", [product("耳机", "耳机")]).order.order.order_id == "3"


def test_the_phone_is_not_its_case_and_the_item_named_first_is_meant() -> None:
    assert choose("手机屏幕有绿线", [product("手机", "手机")]).order.order.order_id == "5"
    both = choose("手机壳那个退了吧 我手机是pro的", [product("手机壳", "手机壳", 0), product("手机", "手机", 9)])
    assert both.order.order.order_id == "4"


def test_a_denied_product_does_not_count() -> None:
    text = "不是面膜 是耳机"
    choice = choose(text, [product("面膜", "面膜", 2), product("耳机", "耳机", 7)])
    assert choice.order.order.order_id == "3"


def test_a_place_in_the_list_shown() -> None:
    shown = ["1", "2", "3"]
    assert (choose("第二个", shown=shown).order.order.order_id, choose("第二个", shown=shown).how) == ("2", BY_PLACE)
    assert choose("最后那个", shown=shown).order.order.order_id == "3"
    assert choose("第二个").order is None  # no list shown: nothing to count in


def test_time_price_and_state_hints() -> None:
    assert choose("9月份买的", []).order.order.order_id == "5"
    assert (choose("就599那单", [{"entity": "amount", "value": 599.0}]).order.order.order_id,
            choose("就599那单", [{"entity": "amount", "value": 599.0}]).how) == ("1", BY_HINT)
    assert choose("还在路上那个").order.order.order_id == "4"
    # "9月份买的羽绒服": the time decides between two down jackets
    jackets = [view("a", "羽绒服", bought="2026-11-30"), view("b", "羽绒服", bought="2026-09-20")]
    assert choose("9月份买的羽绒服", [product("羽绒服", "羽绒服")], recent=jackets).order.order.order_id == "b"


def test_a_hint_that_matches_nothing_is_ignored_and_an_unknown_item_leaves_it_open() -> None:
    assert choose("8月份买的").order is None and len(choose("8月份买的").candidates) == 5
    unknown = choose("台灯坏了", [product("台灯", "台灯")])
    assert unknown.order is None and len(unknown.candidates) == 5


def test_the_only_recent_order_is_the_one() -> None:
    only = choose("退货", recent=RECENT[:1])
    assert (only.order.order.order_id, only.how) == ("1", ONLY_ORDER)
