"""The rule loader: YAML → database, all or nothing, idempotent, precise errors."""

from __future__ import annotations

import pathlib
from typing import Any, Callable, Dict, List

import pytest
from sqlalchemy import func, select

from bot.rules import db, loader
from bot.rules.keys import FLOOR_KEYS, LAW_FILE_KEYS, PLATFORM_KEYS, PROCEDURE_KEYS
from bot.rules.rulesets import UnknownShopError
from bot.rules.schema import Category, OrderRow, RuleRow, ShopPromise
from bot.rules.vocabulary import CATEGORY_CLASSES, PLATFORMS
from utils.rules_db import DATA_DIR, NOW, copy_data, edit_yaml, snapshot, use_database


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    """A migrated, empty database named by DATABASE_URL."""
    return use_database(tmp_path, monkeypatch)


def load(url: str, data_dir: pathlib.Path = DATA_DIR) -> loader.LoadReport:
    with db.session_scope(url) as session:
        return loader.load_all(session, data_dir, now=NOW)


def count(url: str, table: Any) -> int:
    with db.session_scope(url) as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


# ------------------------------------------------------------------ valid files


def test_project_files_load_into_every_table(url) -> None:
    report = load(url)
    assert report.changed
    # Law and procedure once, every platform key per platform, Lazada's own floor.
    expected = len(LAW_FILE_KEYS) + len(PROCEDURE_KEYS) + len(PLATFORMS) * len(PLATFORM_KEYS) + len(FLOOR_KEYS)
    assert count(url, RuleRow) == expected
    assert count(url, Category) >= 80
    assert count(url, ShopPromise) >= 3
    assert count(url, OrderRow) >= 32
    with db.session_scope(url) as session:
        classes = set(session.execute(select(Category.category_class)).scalars())
    assert classes == {*CATEGORY_CLASSES, None}


def test_every_rule_row_names_sources_and_certainty() -> None:
    base = loader.read_rule_base(DATA_DIR, now=NOW)
    for row in base.rules:
        assert row["source_ids"], row["rule_id"]
        assert row["certainty"] in ("O", "O-p", "S", "U")
    law_notes = [row["note"] for row in base.rules if row["scope"] in ("law", "procedure")]
    assert all(note and any("\u4e00" <= ch <= "\u9fff" for ch in note) for note in law_notes)


def test_tmall_global_seller_response_is_marked_assumed() -> None:
    rules = {row["rule_id"]: row for row in loader.read_rule_base(DATA_DIR, now=NOW).rules}
    assert rules["TG.SELLER_RESPONSE"]["value"] == 36
    assert rules["TG.SELLER_RESPONSE"]["certainty"] == "U"
    assert rules["LZ.NO_REASON_WINDOW"]["counted_from"] == "delivery_time"
    assert rules["LAW.CUSTOMS.2020-45"]["value"] == {"apply_days": 30, "arrive_days": 45}


def test_loading_twice_changes_nothing(url) -> None:
    load(url)
    before = snapshot(url)
    again = load(url)
    assert not again.changed, again.lines()
    assert snapshot(url) == before


def test_rows_removed_from_the_files_are_removed_from_the_database(url, tmp_path) -> None:
    data = copy_data(tmp_path)
    load(url, data)

    def drop(content: Dict[str, Any]) -> None:
        content["categories"] = [c for c in content["categories"] if c["name"] != "连衣裙"]

    edit_yaml(data / "rules" / "categories.yml", drop)
    edit_yaml(
        data / "rules" / "shops.yml",
        lambda content: content["shops"][0].__setitem__("promises", []),
    )
    report = load(url, data)
    assert report.tables["categories"].deleted == 1
    assert report.tables["shop_promises"].deleted >= 1
    with db.session_scope(url) as session:
        assert session.get(Category, "连衣裙") is None
        shop = loader.ruleset_for_shop(session, "demo_tmall_global")
        assert shop["no_reason_window"].rule_id == "TG.NO_REASON_WINDOW"


def test_a_changed_value_is_updated_in_place(url, tmp_path) -> None:
    data = copy_data(tmp_path)
    load(url, data)
    edit_yaml(
        data / "rules" / "platforms.yml",
        lambda content: _row(content["defaults"], "TM.SELLER_RESPONSE").__setitem__("value", 30),
    )
    report = load(url, data)
    assert (report.tables["rules"].updated, report.tables["rules"].inserted) == (1, 0)
    with db.session_scope(url) as session:
        assert session.get(RuleRow, "TM.SELLER_RESPONSE").value == 30


# ------------------------------------------------------------------ invalid files


def _row(rows: List[Dict[str, Any]], rule_id: str) -> Dict[str, Any]:
    return next(row for row in rows if row.get("rule_id") == rule_id)


def _shop(content: Dict[str, Any], shop_id: str) -> Dict[str, Any]:
    return next(shop for shop in content["shops"] if shop["shop_id"] == shop_id)


def _set_rule(target: str, **fields: Any) -> Callable[[Dict[str, Any]], None]:
    return lambda content: _row(content["defaults"], target).update(fields)


def _drop_rule(rule_id: str) -> Callable[[Dict[str, Any]], None]:
    def change(content: Dict[str, Any]) -> None:
        content["defaults"] = [r for r in content["defaults"] if r["rule_id"] != rule_id]

    return change


def _promise(shop_id: str, **promise: Any) -> Callable[[Dict[str, Any]], None]:
    return lambda content: _shop(content, shop_id).setdefault("promises", []).append(promise)


def _first_order(**fields: Any) -> Callable[[Dict[str, Any]], None]:
    return lambda content: content["orders"][0].update(fields)


PLATFORMS_YML, LAW_YML = "rules/platforms.yml", "rules/law.yml"
PROCEDURE_YML, SOURCES_YML = "rules/procedure.yml", "rules/sources.yml"
SHOPS_YML, CATEGORIES_YML, ORDERS_YML = "rules/shops.yml", "rules/categories.yml", "demo/orders.yml"

BAD_INPUTS = {
    "unknown platform scope": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", scope="amazon"), "(TM.SELLER_RESPONSE)", "scope"
    ),
    "law scope in platforms.yml": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", scope="law"), "(TM.SELLER_RESPONSE)", "scope"
    ),
    "unknown key": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", key="seller_reply"), "(TM.SELLER_RESPONSE)", "key"
    ),
    "law key in platforms.yml": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", key="no_reason_shipping"), "(TM.SELLER_RESPONSE)", "key"
    ),
    "floor key of a platform under PRC law": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", key="intact"), "(TM.SELLER_RESPONSE)", "key"
    ),
    "procedure key in platforms.yml": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", key="missing_facts"), "(TM.SELLER_RESPONSE)", "key"
    ),
    "platform outside PRC law missing a floor row": (
        PLATFORMS_YML, _drop_rule("LZ.ORIGINAL_CONDITION"), "platform lazada", "intact"
    ),
    "unknown legal floor": (
        PLATFORMS_YML,
        lambda content: content["platforms"][4].__setitem__("legal_floor", "common_law"),
        "platforms row 5",
        "legal_floor",
    ),
    # POLICY.md section 2: every row cites a document of its own scope.
    "JD row citing Taobao's dispute rules": (
        PLATFORMS_YML, _set_rule("JDI.QUALITY_EVIDENCE", source_ids=["S9"]), "(JDI.QUALITY_EVIDENCE)", "source_ids"
    ),
    "Lazada row citing PRC law": (
        PLATFORMS_YML, _set_rule("LZ.QUALITY_WINDOW", source_ids=["S1", "S35"]), "(LZ.QUALITY_WINDOW)", "source_ids"
    ),
    "Tmall Global row citing Tmall's domestic rules": (
        PLATFORMS_YML,
        _set_rule("TG.SEVEN_DAY_LABEL_REQUIRED", source_ids=["S10", "S25"]),
        "(TG.SEVEN_DAY_LABEL_REQUIRED)",
        "source_ids",
    ),
    "platform row citing an unregistered source": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", source_ids=["S99"]), "(TM.SELLER_RESPONSE)", "source_ids"
    ),
    "note quoting a document the row does not cite": (
        PLATFORMS_YML,
        _set_rule("JDI.SELLER_RESPONSE", note="《淘宝平台争议处理规则》第六十五条：24小时。"),
        "(JDI.SELLER_RESPONSE)",
        "note",
    ),
    "law row citing a platform's rules": (
        LAW_YML,
        lambda content: content["law"][0].__setitem__("source_ids", ["S1", "S9"]),
        "(LAW.CRPL.25)",
        "source_ids",
    ),
    "procedure row citing Douyin's rules": (
        PROCEDURE_YML,
        lambda content: content["procedure"][2].__setitem__("source_ids", ["POLICY", "S28"]),
        "(PROC.PARTIAL_REFUND)",
        "source_ids",
    ),
    "source with an unknown scope": (
        SOURCES_YML,
        lambda content: content["sources"]["S9"].__setitem__("scope", ["taobao", "douyin"]),
        "source S9",
        "scope",
    ),
    "platform missing a required key": (
        PLATFORMS_YML, _drop_rule("TM.RETURN_CONFIRM"), "platform tmall", "return_confirm"
    ),
    "negative window": (
        PLATFORMS_YML, _set_rule("TB.QUALITY_WINDOW", value=-15), "(TB.QUALITY_WINDOW)", "value"
    ),
    "non-numeric duration": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", value="36h"), "(TM.SELLER_RESPONSE)", "value"
    ),
    "boolean as a number": (
        PLATFORMS_YML, _set_rule("TM.GOODWILL_REFUND_CAP", value=True), "(TM.GOODWILL_REFUND_CAP)", "value"
    ),
    "window below the legal floor": (
        PLATFORMS_YML, _set_rule("TB.NO_REASON_WINDOW", value=5), "(TB.NO_REASON_WINDOW)", "value"
    ),
    "unit not allowed": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", unit="days"), "(TM.SELLER_RESPONSE)", "unit"
    ),
    "unit on a flag": (
        PLATFORMS_YML,
        _set_rule("TM.SEVEN_DAY_LABEL_DEFAULT", unit="days"),
        "(TM.SEVEN_DAY_LABEL_DEFAULT)",
        "unit",
    ),
    "counted_from not allowed": (
        PLATFORMS_YML,
        _set_rule("TM.NO_REASON_WINDOW", counted_from="completed_else_signed"),
        "(TM.NO_REASON_WINDOW)",
        "counted_from",
    ),
    "missing source_ids": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", source_ids=None), "(TM.SELLER_RESPONSE)", "source_ids"
    ),
    "empty source_ids": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", source_ids=[]), "(TM.SELLER_RESPONSE)", "source_ids"
    ),
    "bad certainty": (
        PLATFORMS_YML, _set_rule("TM.SELLER_RESPONSE", certainty="maybe"), "(TM.SELLER_RESPONSE)", "certainty"
    ),
    "unknown timezone": (
        PLATFORMS_YML, _set_rule("LZ.TIMEZONE", value="Mars/Olympus"), "(LZ.TIMEZONE)", "value"
    ),
    "null for a required value": (
        PLATFORMS_YML, _set_rule("TM.RETURN_ADDRESS", value=None), "(TM.RETURN_ADDRESS)", "value"
    ),
    "law row missing": (
        LAW_YML,
        lambda content: content.__setitem__(
            "law", [r for r in content["law"] if r["key"] != "intact"]
        ),
        None,
        "key",
    ),
    "law row without a note": (
        LAW_YML, lambda content: content["law"][0].pop("note"), "(LAW.CRPL.25)", "note"
    ),
    "unknown category class": (
        CATEGORIES_YML,
        lambda content: content["categories"][0].__setitem__("category_class", "fragile"),
        "row 1",
        "category_class",
    ),
    "shop promise shorter window": (
        SHOPS_YML,
        _promise("demo_taobao", key="no_reason_window", value=5),
        "(demo_taobao) promise 1 (no_reason_window)",
        "value",
    ),
    "shop promise slower timer": (
        SHOPS_YML,
        _promise("demo_taobao", key="seller_response", value=48, unit="hours"),
        "(demo_taobao) promise 1",
        "value",
    ),
    "shop promise switches the label off": (
        SHOPS_YML,
        _promise("demo_taobao", key="seven_day_label_default", value=False),
        "(demo_taobao) promise 1",
        "value",
    ),
    "shop promise on a key with better=None": (
        SHOPS_YML,
        _promise("demo_taobao", key="return_address", value="overseas"),
        "(demo_taobao) promise 1",
        "key",
    ),
    "shop promise on the legal floor": (
        SHOPS_YML,
        _promise("demo_taobao", key="intact", value=None),
        "(demo_taobao) promise 1",
        "key",
    ),
    "shop promise working days against hours": (
        SHOPS_YML,
        _promise("demo_taobao", key="seller_response", value=1, unit="working_days"),
        "(demo_taobao) promise 1",
        "unit",
    ),
    "shop promise from another start": (
        SHOPS_YML,
        _promise("demo_taobao", key="no_reason_window", value=30, counted_from="delivery_time"),
        "(demo_taobao) promise 1",
        "counted_from",
    ),
    "unknown shop platform": (
        SHOPS_YML,
        lambda content: _shop(content, "demo_taobao").__setitem__("platform", "pinduoduo"),
        "(demo_taobao)",
        "platform",
    ),
    "order with an unknown status": (
        ORDERS_YML, _first_order(status="delivered"), "row 1 (4012873365920117364)", "status"
    ),
    "order with an unknown condition": (
        ORDERS_YML, _first_order(condition="like new"), "row 1", "condition"
    ),
    "order with an unquoted clock time": (
        ORDERS_YML, _first_order(signed_at={"days_ago": 3, "at": 900}), "row 1", "signed_at"
    ),
    "order with a misspelt field": (
        ORDERS_YML, _first_order(sigend_at="2026-11-20T15:00:00+08:00"), "row 1", "sigend_at"
    ),
    "order with a text amount": (
        ORDERS_YML, _first_order(amount="很多"), "row 1", "amount"
    ),
    "domestic order with a customs release": (
        ORDERS_YML,
        _first_order(fulfillment="domestic"),
        "row 1",
        "customs_released_at",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_names_file_row_and_field_and_writes_nothing(case, url, tmp_path) -> None:
    file, change, row, field = BAD_INPUTS[case]
    load(url)
    before = snapshot(url)
    data = copy_data(tmp_path)
    edit_yaml(data / file, change)

    with pytest.raises(loader.RuleFileError) as raised:
        load(url, data)

    error = raised.value
    assert error.file.endswith(file) and file in str(error)
    assert error.field == field and f"'{field}'" in str(error)
    if row is not None:
        assert row in error.row and row in str(error)
    assert snapshot(url) == before


def test_invalid_yaml_names_the_file_and_line(url, tmp_path) -> None:
    data = copy_data(tmp_path)
    (data / CATEGORIES_YML).write_text("categories:\n  - {name: 连衣裙\n", encoding="utf-8")
    with pytest.raises(loader.RuleFileError, match=r"categories\.yml: not valid YAML at line"):
        load(url, data)
    assert count(url, RuleRow) == 0


def test_a_missing_file_is_reported(url, tmp_path) -> None:
    data = copy_data(tmp_path)
    (data / SHOPS_YML).unlink()
    with pytest.raises(loader.RuleFileError, match=r"shops\.yml: file is missing"):
        load(url, data)


def test_duplicate_rule_ids_are_refused(tmp_path) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / PLATFORMS_YML, _set_rule("TB.SELLER_RESPONSE", rule_id="TM.SELLER_RESPONSE"))
    with pytest.raises(loader.RuleFileError) as raised:
        loader.read_rule_base(data, now=NOW)
    assert raised.value.field == "rule_id" and "TM.SELLER_RESPONSE" in str(raised.value)


def test_promises_better_for_the_buyer_are_accepted(url, tmp_path) -> None:
    data = copy_data(tmp_path)
    edit_yaml(data / SHOPS_YML, _promise("demo_lazada", key="seller_response", value=36, unit="hours"))
    edit_yaml(data / SHOPS_YML, _promise("demo_lazada", key="seven_day_label_required", value=False))
    load(url, data)
    with db.session_scope(url) as session:
        rule = loader.ruleset_for_shop(session, "demo_lazada")["seller_response"]
    assert (rule.rule_id, rule.value, rule.unit) == ("SHOP.demo_lazada.SELLER_RESPONSE", 36, "hours")


# ------------------------------------------------------------------ rule sets and lexicon


def test_rulesets_hold_law_and_platform_rows(url) -> None:
    load(url)
    with db.session_scope(url) as session:
        sets = loader.rulesets(session)
    assert list(sets) == list(PLATFORMS)
    for platform, ruleset in sets.items():
        assert ruleset.platform == platform
        under_prc_law = platform != "lazada"
        assert ruleset.under_prc_law is under_prc_law
        expected = set(PROCEDURE_KEYS) | set(FLOOR_KEYS) | set(PLATFORM_KEYS)
        assert set(ruleset.rules) == expected | (set(LAW_FILE_KEYS) if under_prc_law else set())
        assert ruleset["no_reason_return"].rule_id == ("LAW.CRPL.25" if under_prc_law else "LZ.CHANGE_OF_MIND")
        assert ruleset["missing_facts"].rule_id == "PROC.MISSING_FACTS"
    # Lazada's rule set holds no PRC law at all (POLICY.md section 1).
    assert not any(rule.rule_id.startswith("LAW.") for rule in sets["lazada"].rules.values())
    assert sets["lazada"]["timezone"].value == "Asia/Singapore"
    assert sets["tmall_global"]["seven_day_label_required"].value is True
    assert sets["tmall"]["dispute_window"].value is None


def test_ruleset_for_shop_replaces_platform_rows_with_promises(url) -> None:
    load(url)
    with db.session_scope(url) as session:
        platform = loader.rulesets(session)["tmall_global"]
        taobao = loader.rulesets(session)["taobao"]
        shop = loader.ruleset_for_shop(session, "demo_tmall_global")
        plain = loader.ruleset_for_shop(session, "demo_taobao")
        with pytest.raises(UnknownShopError):
            loader.ruleset_for_shop(session, "no_such_shop")
    window = shop["no_reason_window"]
    assert (window.value, window.unit, window.counted_from) == (15, "days", "day_after_signing")
    assert window.rule_id == "SHOP.demo_tmall_global.NO_REASON_WINDOW"
    assert shop["seven_day_label_default"].value is True
    assert shop["goodwill_refund_cap"].value == 30
    assert shop["quality_window"] == platform["quality_window"]
    assert shop["intact"] == platform["intact"]
    assert plain.rules == taobao.rules


@pytest.mark.parametrize(
    "text, expected",
    [
        ("面霜", "one_time_seal"),
        ("连衣裙", None),
        ("鲜花", "statutory_excluded"),
        ("文胸", "confirm_excluded"),
        ("法国进口红酒750ml", "confirm_excluded"),
        ("意式咖啡机", None),  # longest name wins over 咖啡
        ("红酒杯", None),  # its own entry, not 红酒
        ("酒精湿巾", "one_time_seal"),  # equal length: the head noun (last) wins
        ("巧克力色连衣裙", None),
        ("宇宙飞船模型", None),  # unknown text
        ("", None),
        (None, None),
    ],
)
def test_category_class_for(url, text, expected) -> None:
    load(url)
    with db.session_scope(url) as session:
        assert loader.category_class_for(session, text) == expected


def test_demo_orders_get_their_class_from_the_lexicon(url) -> None:
    load(url)
    with db.session_scope(url) as session:
        assert session.get(OrderRow, "4012873365920117364").category_class == "one_time_seal"
        assert session.get(OrderRow, "2087465512093348723").category_class is None
        assert session.get(OrderRow, "3398127465503318825").category_class == "confirm_excluded"


def test_rule_files_are_not_mistaken_for_rasa_training_data() -> None:
    """Rasa reads every YAML under data/ that has a line starting with nlu:/rules:/…"""
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.data import is_nlu_file

    for path in [*(DATA_DIR / "rules").glob("*.yml"), *(DATA_DIR / "demo").glob("*.yml")]:
        assert not is_nlu_file(str(path)), path
        assert not YAMLStoryReader.is_stories_file(path), path
