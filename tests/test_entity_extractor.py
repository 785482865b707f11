"""The rule-based entity extractor: each entity type, persistence, and fuzzing.

Every example goes through the TextNormalizer first, as in the pipeline, and is
extracted by a component loaded back from a LocalModelStorage.
"""

from __future__ import annotations

import pathlib
from datetime import datetime, timedelta
from typing import Any, Dict, List

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entity_extractor import SHANGHAI, SpacyRuleEntityExtractor, parse_time
from bot.nlu.entity_lexicon import LexiconError, load_lexicon
from bot.nlu.text_normalizer import normalize
from bot.rules.vocabulary import REASONS

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
CONTEXT = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]
CONFIG = {
    **SpacyRuleEntityExtractor.get_default_config(),
    "patterns_path": str(PROJECT_ROOT / "data" / "entities"),
    "categories_path": str(PROJECT_ROOT / "data" / "rules" / "categories.yml"),
}
RESOURCE = Resource("entity_extractor")
THURSDAY = datetime(2026, 11, 26, 15, 30, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def storage(tmp_path_factory) -> LocalModelStorage:
    return LocalModelStorage(tmp_path_factory.mktemp("entities"))


@pytest.fixture(scope="module")
def trained(storage) -> SpacyRuleEntityExtractor:
    component = SpacyRuleEntityExtractor.create(CONFIG, storage, RESOURCE, CONTEXT)
    component.train(TrainingData())
    return component


@pytest.fixture(scope="module")
def extractor(trained, storage) -> SpacyRuleEntityExtractor:
    """Loaded from the model storage with pattern paths that do not exist: serving
    must not need the data files."""
    config = {
        **CONFIG,
        "patterns_path": "/nonexistent",
        "categories_path": "/nonexistent",
    }
    return SpacyRuleEntityExtractor.load(config, storage, RESOURCE, CONTEXT)


def parse(extractor, text: str, now: datetime = THURSDAY) -> List[Dict[str, Any]]:
    message = Message(
        data={"text": normalize(text, 1000), "metadata": {"now": now.isoformat()}}
    )
    extractor.process([message])
    return message.get("entities") or []


def values(entities: List[Dict[str, Any]], entity: str) -> List[Any]:
    return [e["value"] for e in entities if e["entity"] == entity]


def one(extractor, text: str, entity: str, now: datetime = THURSDAY) -> Any:
    found = values(parse(extractor, text, now), entity)
    assert len(found) == 1, (text, found)
    return found[0]


# --- order_id and tracking_number ----------------------------------------


@pytest.mark.parametrize(
    ("text", "order_id"),
    [
        ("订单号3091234567890123456，衣服破了", "3091234567890123456"),  # Taobao, 19
        ("我的淘宝订单 2045678912345678 还没发货", "2045678912345678"),  # 16
        ("京东订单287654321098质量有问题", "287654321098"),  # JD, 12
        (
            "單號：３０９１２３４５６７８９０１２３４５",
            "309123456789012345",
        ),  # full-width
        ("Lazada order mlz0834567812 refund", "MLZ0834567812"),  # letters + digits
        ("订单号 30912345678901 签收了", "30912345678901"),  # 14 digits after 订单号
        ("订单号LZSG24A7K3M9Q3的退款到账了吗", "LZSG24A7K3M9Q3"),  # 6 digits after 订单号
    ],
)
def test_order_ids_in_ascii_upper_case(extractor, text, order_id) -> None:
    assert one(extractor, text, "order_id") == order_id


@pytest.mark.parametrize(
    "text",
    [
        "我已经打12315投诉了",
        "再不处理就打12345",
        "我手机13812345678，快联系我",
        "电话+8613812345678",
        "一共123456789元",
        "付了¥1234567890",
        "条码6901234567892查不到",
        "随便一串30912345678901",  # 14 digits without an order word
        "这款的货号是LZSG24A7K3M9Q3",  # few digits and no order word
    ],
)
def test_numbers_that_are_not_order_ids(extractor, text) -> None:
    assert values(parse(extractor, text), "order_id") == []


@pytest.mark.parametrize(
    ("text", "tracking"),
    [
        ("快递单号是773012345678901，一直没到", "773012345678901"),
        ("运单号：４３２１０９８７６５４３２", "4321098765432"),
        ("物流单号 YT1234567890123", "YT1234567890123"),
        ("顺丰sf1409283746512到哪了", "SF1409283746512"),
        ("退货的快递号 75312345678901", "75312345678901"),
        ("JDVA01234567890 这个单", "JDVA01234567890"),
    ],
)
def test_tracking_numbers_are_not_order_ids(extractor, text, tracking) -> None:
    entities = parse(extractor, text)
    assert values(entities, "tracking_number") == [tracking]
    assert values(entities, "order_id") == []


def test_order_and_tracking_number_in_one_message(extractor) -> None:
    entities = parse(extractor, "订单号287654321098，快递单号SF1409283746512")
    assert values(entities, "order_id") == ["287654321098"]
    assert values(entities, "tracking_number") == ["SF1409283746512"]


# --- amount ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("退我¥129", 129.0),
        ("这件129元的衣服", 129.0),
        ("才129块就这质量", 129.0),
        ("退我一百二十九块", 129.0),
        ("价格1.2k", 1200.0),
        ("花了1.2k元", 1200.0),
        ("please refund 129 rmb", 129.0),
        ("实付129.5元", 129.5),
        ("九块九包邮的", 9.9),
        ("花了1,299元买的", 1299.0),
        ("兩千五百塊的手機", 2500.0),  # Traditional
        ("退款１２９元", 129.0),  # full-width
        ("差价20你们补给我", 20.0),
        ("一万二的相机", None),  # no currency word: not an amount
    ],
)
def test_amounts_as_floats(extractor, text, amount) -> None:
    found = values(parse(extractor, text), "amount")
    assert found == ([] if amount is None else [pytest.approx(amount)])


@pytest.mark.parametrize(
    "text",
    [
        "买了2件都坏了",
        "收到3天了",
        "7天无理由",
        "两块手表都坏了",
        "一块玻璃碎了",
        "4k屏幕不亮",
    ],
)
def test_quantities_and_days_are_not_amounts(extractor, text) -> None:
    assert values(parse(extractor, text), "amount") == []


def test_amount_currency(extractor) -> None:
    [entity] = [
        e for e in parse(extractor, "paid $20 for it") if e["entity"] == "amount"
    ]
    assert entity["value"] == 20.0
    assert entity["additional_info"] == {"currency": "USD"}
    [entity] = [e for e in parse(extractor, "退129元") if e["entity"] == "amount"]
    assert entity["additional_info"] == {"currency": "CNY"}


# --- days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("收到三天了就坏了", 3),
        ("签收5天了", 5),
        ("到了3天还没拆", 3),
        ("昨天到的", 1),
        ("今天刚收到", 0),
        ("前天签收的", 2),
        ("东西收到一个星期了", 7),
        ("收货都一周了", 7),
        ("收到半个月了才发现", 15),
        ("三天前收到的", 3),
        ("收到貨已經兩天了", 2),  # Traditional
        ("签收１０天", 10),  # full-width
    ],
)
def test_days_since_receipt(extractor, text, days) -> None:
    assert one(extractor, text, "days") == days


@pytest.mark.parametrize(
    "text",
    [
        "用了三天就坏了",
        "签收后7天内可以退吗",
        "还没收到，已经三天了",
        "7天无理由退货",
        "三天后再说",
    ],
)
def test_days_only_about_receipt(extractor, text) -> None:
    assert values(parse(extractor, text), "days") == []


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (datetime(2026, 11, 26, 9, tzinfo=SHANGHAI), 6),  # Thursday → Fri 20th
        (datetime(2026, 11, 23, 9, tzinfo=SHANGHAI), 3),  # Monday → Fri 20th
        (datetime(2026, 11, 29, 23, tzinfo=SHANGHAI), 9),  # Sunday → Fri 20th
        (datetime(2026, 11, 27, 17, tzinfo=SHANGHAI), 7),  # Friday → Fri 20th
    ],
)
def test_last_friday_is_in_the_previous_calendar_week(extractor, now, days) -> None:
    assert one(extractor, "上周五收到的", "days", now) == days


def test_message_time_is_read_in_shanghai(extractor) -> None:
    # Sunday 22nd 20:00 UTC is already Monday 23rd 04:00 in Shanghai.
    message = Message(data={"text": "上周五收到的", "time": "2026-11-22T20:00:00Z"})
    assert values(_process(extractor, message), "days") == [3]


def _process(extractor, message: Message) -> List[Dict[str, Any]]:
    extractor.process([message])
    return message.get("entities") or []


def test_dates_and_weekdays_without_previous_week(extractor) -> None:
    assert one(extractor, "11月20号收到的", "days") == 6
    assert one(extractor, "这周一签收的", "days") == 3
    assert one(extractor, "周三到的", "days") == 1


def test_message_time_from_epoch_seconds(extractor) -> None:
    monday = datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)
    message = Message(data={"text": "上周五收到的"}, time=int(monday.timestamp()))
    assert values(_process(extractor, message), "days") == [3]


def test_without_a_time_the_clock_is_used(extractor) -> None:
    today = datetime.now(SHANGHAI).date()
    friday = today - timedelta(days=today.weekday()) - timedelta(days=3)
    message = Message(data={"text": "上周五签收的"})
    assert values(_process(extractor, message), "days") == [(today - friday).days]


@given(
    st.one_of(
        st.none(), st.text(max_size=40), st.floats(), st.integers(), st.datetimes()
    )
)
@settings(deadline=None, max_examples=200)
def test_parse_time_never_raises(value) -> None:
    parsed = parse_time(value)
    assert parsed is None or parsed.tzinfo is not None


# --- product --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "product", "category", "category_class"),
    [
        ("衣服破了个洞", "衣服", None, None),
        ("鞋子开胶了", "鞋子", "鞋", None),
        ("这双鞋开胶了", "鞋", "鞋", None),
        ("买的保暖内衣起球", "保暖内衣", "保暖内衣", None),  # longest wins over 内衣
        ("内衣尺码不合适", "内衣", "内衣", "confirm_excluded"),
        ("手机壳裂了", "手机壳", "手机壳", None),
        ("红酒漏了", "红酒", "红酒", "confirm_excluded"),
        ("口红是假货", "口红", "口红", "one_time_seal"),
        ("羽絨服掉毛", "羽绒服", "羽绒服", None),  # Traditional → Simplified value
        ("咖啡机不加热", "咖啡机", "咖啡机", None),  # not 咖啡 (food)
        ("my iPhone15 screen", "iPhone", "手机", None),
        ("定制的T恤", "定制", "定制", "statutory_excluded"),
    ],
)
def test_products_carry_their_lexicon_category(
    extractor, text, product, category, category_class
) -> None:
    entities = [e for e in parse(extractor, text) if e["entity"] == "product"]
    assert entities[0]["value"] == product
    assert entities[0]["additional_info"] == {
        "category": category,
        "category_class": category_class,
    }


@pytest.mark.parametrize(
    "text", ["手机号13812345678", "我住酒店", "咖啡色不好看", "鞋码不对"]
)
def test_words_containing_a_product_are_not_products(extractor, text) -> None:
    assert values(parse(extractor, text), "product") == []


def test_several_products_each_once(extractor) -> None:
    found = values(parse(extractor, "衣服和裤子都破了，衣服还掉色"), "product")
    assert found == ["衣服", "裤子"]


# --- reason ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("衣服破了", "quality"),
        ("屏幕裂了", "quality"),
        ("台灯不亮", "quality"),
        ("开不了机", "quality"),
        ("毛衣起球严重", "quality"),
        ("发错货了，不是我买的款", "wrong_item"),
        ("少发了一个配件", "missing_parts"),
        ("配件没有", "missing_parts"),
        ("怀疑是假货，防伪码查不到", "counterfeit_suspected"),
        ("用了以后过敏起疹子", "health_safety"),
        ("孩子吃了拉肚子", "health_safety"),
        ("拍错了，不想要了", "no_reason"),
        ("尺码不合适", "no_reason"),
        ("一直没到", "not_received"),
        ("和描述不一样", "not_as_described"),
        ("跟图片不符，色差很大", "not_as_described"),
        ("快递压坏了", "damaged_in_transit"),
        ("外箱破了", "damaged_in_transit"),
        ("運輸途中摔壞了", "damaged_in_transit"),  # Traditional
    ],
)
def test_reasons(extractor, text, reason) -> None:
    assert values(parse(extractor, text), "reason") == [reason]


def test_negated_reason_is_not_extracted(extractor) -> None:
    assert values(parse(extractor, "不是质量问题"), "reason") == []
    assert values(parse(extractor, "没有破洞也没有起球"), "reason") == []
    assert values(parse(extractor, "不是质量问题，是发错货了"), "reason") == [
        "wrong_item"
    ]
    assert values(parse(extractor, "并不是不喜欢"), "reason") == []


def test_negation_does_not_reach_past_a_breaker(extractor) -> None:
    assert values(parse(extractor, "还没用就坏了"), "reason") == ["quality"]
    assert values(parse(extractor, "没想到坏了"), "reason") == ["quality"]
    assert values(parse(extractor, "没到七天"), "reason") == []


def test_several_reasons_are_each_emitted(extractor) -> None:
    entities = parse(extractor, "衣服破了，还少发了一件，而且跟图片不符")
    assert values(entities, "reason") == [
        "quality",
        "missing_parts",
        "not_as_described",
    ]


def test_lexicon_reasons_are_policy_values() -> None:
    lexicon = load_lexicon(
        PROJECT_ROOT / "data" / "entities",
        PROJECT_ROOT / "data" / "rules" / "categories.yml",
    )
    assert set(lexicon.reasons.values()) == set(REASONS)
    assert len(lexicon.reasons) >= 150


def test_lexicon_rejects_unknown_reason(tmp_path) -> None:
    (tmp_path / "reasons.yml").write_text(
        "reasons:\n  broken: [坏了]\n", encoding="utf-8"
    )
    (tmp_path / "products.yml").write_text("products: []\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="broken"):
        load_lexicon(tmp_path, PROJECT_ROOT / "data" / "rules" / "categories.yml")


# --- the entity dicts, persistence, robustness ----------------------------


def test_entity_dicts_follow_rasa(extractor) -> None:
    text = "订单号287654321098，衣服破了，退129元"
    message = Message(data={"text": text})
    for entity in _process(extractor, message):
        assert entity["confidence"] == 1.0
        assert entity["extractor"] == "SpacyRuleEntityExtractor"
        assert text[entity["start"] : entity["end"]]
        assert {"entity", "start", "end", "value"} <= set(entity)


def test_existing_entities_are_kept(extractor) -> None:
    earlier = {
        "entity": "product",
        "start": 0,
        "end": 1,
        "value": "x",
        "extractor": "Other",
    }
    message = Message(data={"text": "衣服破了", "entities": [earlier]})
    assert _process(extractor, message)[0] == earlier


def test_round_trip_through_model_storage_gives_the_same_entities(
    trained, extractor
) -> None:
    texts = [
        "订单3091234567890123456的羽绒服破了，退我一百二十九块",
        "上周五收到的口红是假货",
        "快递单号SF1409283746512，外箱破了，不是质量问题",
        "这双鞋开胶了，收到三天了",
    ]
    for text in texts:
        assert trained.extract(normalize(text, 1000), THURSDAY) == extractor.extract(
            normalize(text, 1000), THURSDAY
        )


def test_untrained_extractor_still_reads_numbers(storage) -> None:
    component = SpacyRuleEntityExtractor.create(
        CONFIG, storage, Resource("untrained"), CONTEXT
    )
    message = Message(data={"text": "订单287654321098，衣服破了"})
    assert values(_process(component, message), "order_id") == ["287654321098"]


def test_empty_and_non_text_messages_are_left_alone(extractor) -> None:
    for data in ({"text": ""}, {"text": None}, {}, {"text": 12345}):
        message = Message(data=data)
        extractor.process([message])
        assert not message.get("entities")


# A 20,000-character paste, every entity type many times over.
LONG_RANT = (
    "订单号3091234567890123456，快递单号SF1409283746512，上周五收到的羽绒服破了，"
    "退我一百二十九块，¥129，收到三天了，不是质量问题是发错货了😡" * 400
)[:20_000]


def assert_valid(text: str, entities: List[Dict[str, Any]]) -> None:
    for entity in entities:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        assert entity["value"] is not None


@given(st.text(max_size=20_000))
@example(LONG_RANT)
@settings(deadline=None, max_examples=200)
def test_process_never_raises_on_any_unicode(extractor, text) -> None:
    message = Message(data={"text": text})
    assert_valid(text, _process(extractor, message))


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
        | st.characters(),
        max_size=2_000,
    )
)
@settings(deadline=None, max_examples=200)
def test_process_never_raises_on_lone_surrogates(extractor, text) -> None:
    message = Message(data={"text": text})
    assert_valid(text, _process(extractor, message))


@given(st.text(alphabet="0123456789", max_size=20_000))
@example("3" * 20_000)
@settings(deadline=None, max_examples=200)
def test_process_never_raises_on_digits_only(extractor, text) -> None:
    message = Message(data={"text": text})
    assert_valid(text, _process(extractor, message))


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),
        max_size=20_000,
    )
)
@example("😀👍🏻🎉" * 6_000)
@settings(deadline=None, max_examples=200)
def test_process_never_raises_on_emoji_only(extractor, text) -> None:
    message = Message(data={"text": text})
    assert _process(extractor, message) == []


@given(
    st.text(
        alphabet=st.sampled_from(
            list(
                "0123456789一二两三四五六七八九十百千万点块元天周月号日收到签昨上¥$kw.,订单快递不是没衣服破"
            )
        ),
        max_size=2_000,
    ),
    st.one_of(st.none(), st.text(max_size=30), st.floats(), st.integers()),
)
@settings(deadline=None, max_examples=200)
def test_process_never_raises_on_number_soup(extractor, text, now) -> None:
    message = Message(data={"text": text, "metadata": {"now": now}, "time": now})
    assert_valid(text, _process(extractor, message))


def test_fingerprint_follows_the_pattern_files_with_config_as_written(tmp_path) -> None:
    """Rasa calls fingerprint_addon with config.yml's keys only (no defaults)."""
    from bot.nlu.entity_extractor import SpacyRuleEntityExtractor

    defaults = SpacyRuleEntityExtractor.fingerprint_addon({})
    assert defaults and len(defaults) == 64
    elsewhere = SpacyRuleEntityExtractor.fingerprint_addon({"patterns_path": str(tmp_path)})
    assert elsewhere != defaults


# --- what the buyer says of the item, and the remedy asked for ------------


@pytest.mark.parametrize("text,condition", [
    ("外套吊牌还在，能换吗", "opened_inspected"),
    ("还没拆封，想退", "unopened"),
    ("穿过一次洗了", "used"),
    ("吊牌剪了还能退吗", "tags_removed"),
    ("奶粉开罐了冲了一勺", "seal_broken"),
    ("手机已经激活了", "activated"),
])
def test_the_buyers_words_about_the_item_are_a_condition(extractor, text, condition) -> None:
    assert values(parse(extractor, text), "condition")[:1] == [condition]


def test_a_negated_condition_phrase_is_the_opposite_not_the_phrase(extractor) -> None:
    """没拆封 is one phrase (unopened), not the 拆封 (seal broken) inside it."""
    assert values(parse(extractor, "面膜没拆封"), "condition") == ["unopened"]
    assert values(parse(extractor, "不能用了"), "condition") == []


@pytest.mark.parametrize("text,remedy", [
    ("尺码小了换大一码", "exchange"),
    ("少了一个配件，给我补发", "reship"),
    ("能修吗", "repair"),
    ("没收到，仅退款", "refund_only"),
    ("给我补偿20块钱就行", "compensation"),
    ("不是换货，是退货", "return_refund"),
])
def test_the_remedy_the_buyer_names(extractor, text, remedy) -> None:
    assert values(parse(extractor, text), "remedy") == [remedy]


def test_a_remedy_the_buyer_refuses_is_not_asked_for(extractor) -> None:
    assert values(parse(extractor, "不想退货了 给我补偿点就行"), "remedy") == ["compensation"]
    assert values(parse(extractor, "换个地址就行"), "remedy") == []
