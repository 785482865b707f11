"""Orders import and look-up, and the decision log, on a real SQLite database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.rules import db, loader, model, repository
from bot.rules.schema import OrderRow, Shop, ShopPromise
from bot.rules.validation import RuleFileError
from utils.rules_db import DATA_DIR, NOW, SHANGHAI, order_row, snapshot, use_database


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    """A migrated database with the project's rule base and demo orders loaded."""
    url = use_database(tmp_path, monkeypatch)
    with db.session_scope(url) as session:
        loader.load_all(session, DATA_DIR, now=NOW)
    return url


def import_rows(url: str, rows, now: dt.datetime = NOW) -> repository.ImportReport:
    with db.session_scope(url) as session:
        return repository.import_orders(session, rows=rows, now=now, source="test.yml")


# ------------------------------------------------------------------ orders import


def test_import_inserts_then_updates_only_what_changed(url) -> None:
    rows = [order_row(), order_row(order_id="3398127400000000002", category="牛仔裤")]
    first = import_rows(url, rows)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)

    later = NOW + dt.timedelta(hours=1)
    same = import_rows(url, [{**row, "signed_at": "2026-11-24T15:00:00+08:00"} for row in rows], later)
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 2)

    changed = import_rows(url, [order_row(condition="tags_removed")], later)
    assert (changed.inserted, changed.updated) == (0, 1)
    with db.session_scope(url) as session:
        updated = session.get(OrderRow, "3398127400000000001")
        untouched = session.get(OrderRow, "3398127400000000002")
        assert updated.condition == "tags_removed"
        assert updated.updated_at == later and updated.created_at == NOW
        assert untouched.updated_at == NOW


def test_unknown_shop_is_created_with_platform_defaults(url) -> None:
    report = import_rows(url, [order_row(shop_id="new_tmall_shop")])
    assert report.shops_created == ["new_tmall_shop"]
    with db.session_scope(url) as session:
        shop = session.get(Shop, "new_tmall_shop")
        assert (shop.platform, shop.name, shop.return_address) == ("tmall", "new_tmall_shop", None)
        promises = session.execute(
            select(func.count()).select_from(ShopPromise).where(ShopPromise.shop_id == shop.shop_id)
        ).scalar_one()
        assert promises == 0
        assert loader.ruleset_for_shop(session, "new_tmall_shop").rules == (
            loader.rulesets(session)["tmall"].rules
        )


def test_relative_times_resolve_in_the_platform_timezone(url) -> None:
    # 00:10 in Shanghai is still the previous day in UTC: "days_ago" counts local days.
    just_after_midnight = dt.datetime(2026, 11, 27, 0, 10, tzinfo=SHANGHAI)
    import_rows(
        url,
        [
            order_row(
                signed_at={"days_ago": 3, "at": "15:00"},
                completed_at={"hours_ago": 30},
                created_at="2026-11-20T09:00:00",  # no offset: platform timezone
            ),
            order_row(
                order_id="LZSG00TEST0001",
                platform="lazada",
                shop_id="demo_lazada",
                buyer_id="buyer_lz_test",
                signed_at={"days_ago": 1, "at": "23:30"},
            ),
        ],
        just_after_midnight,
    )
    with db.session_scope(url) as session:
        tmall = repository.order_for(session, order_id="3398127400000000001")
        lazada = repository.order_for(session, order_id="LZSG00TEST0001")
        created = session.get(OrderRow, "3398127400000000001").created_at
    assert tmall.signed_at == dt.datetime(2026, 11, 24, 15, 0, tzinfo=SHANGHAI)
    assert tmall.signed_at.tzinfo is not None
    assert tmall.completed_at == just_after_midnight - dt.timedelta(hours=30)
    assert created == dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    singapore = dt.timezone(dt.timedelta(hours=8))
    assert lazada.signed_at == dt.datetime(2026, 11, 26, 23, 30, tzinfo=singapore)


def test_category_class_comes_from_the_lexicon_unless_given(url) -> None:
    import_rows(
        url,
        [
            order_row(category="澳洲进口奶粉 900g"),
            order_row(order_id="3398127400000000002", category="奶粉", category_class=None),
        ],
    )
    with db.session_scope(url) as session:
        assert repository.order_for(session, order_id="3398127400000000001").category_class == (
            "one_time_seal"
        )
        assert repository.order_for(session, order_id="3398127400000000002").category_class is None


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"status": "delivered"}, "status"),
        ({"platform": "amazon"}, "platform"),
        ({"fulfillment": "bonded_1210"}, "fulfillment"),
        ({"category_class": "fragile"}, "category_class"),
        ({"free_shipping": "yes"}, "free_shipping"),
        ({"amount": -5}, "amount"),
        ({"signed_at": "last tuesday"}, "signed_at"),
        ({"signed_at": {"weeks_ago": 1}}, "signed_at"),
        ({"order_id": ""}, "order_id"),
        ({"platform": "taobao"}, "platform"),  # demo_tmall is a tmall shop
    ],
)
def test_a_bad_row_names_row_and_field_and_nothing_is_imported(url, bad, field) -> None:
    before = snapshot(url)
    rows = [order_row(order_id="3398127400000000009"), order_row(**bad)]
    with pytest.raises(RuleFileError) as raised:
        import_rows(url, rows)
    assert raised.value.field == field
    assert "test.yml: row 2" in str(raised.value) and f"'{field}'" in str(raised.value)
    assert snapshot(url) == before


def test_duplicate_order_ids_in_one_import_are_refused(url) -> None:
    with pytest.raises(RuleFileError, match="row 2.*order_id"):
        import_rows(url, [order_row(), order_row()])


def test_a_buyer_stays_on_one_platform(url) -> None:
    with pytest.raises(RuleFileError) as raised:
        import_rows(
            url,
            [order_row(buyer_id="buyer_tm_chen", platform="taobao", shop_id="demo_taobao")],
        )
    assert raised.value.field == "platform" and "buyer_tm_chen" in str(raised.value)


# ------------------------------------------------------------------ look-ups


def test_order_for_checks_the_buyer(url) -> None:
    with db.session_scope(url) as session:
        order = repository.order_for(
            session, order_id="3398127465503318820", buyer_id="buyer_tm_chen"
        )
        assert isinstance(order, model.Order)
        assert (order.status, order.category, order.shipping_insurance) == ("signed", "连衣裙", True)
        assert repository.order_for(session, order_id="3398127465503318820") == order
        assert (
            repository.order_for(session, order_id="3398127465503318820", buyer_id="buyer_tm_liu")
            is None
        )
        assert repository.order_for(session, order_id="0000000000000000", buyer_id=None) is None


def test_recent_orders_counts_the_last_60_days(url) -> None:
    with db.session_scope(url) as session:
        chen = repository.recent_orders(session, buyer_id="buyer_tm_chen", now=NOW)
        lin = repository.recent_orders(session, buyer_id="buyer_tg_lin", now=NOW)
        lin_elsewhere = repository.recent_orders(
            session, buyer_id="buyer_tg_lin", shop_id="demo_tmall", now=NOW
        )
        chen_all_time = repository.recent_orders(
            session, buyer_id="buyer_tm_chen", now=NOW, days=365
        )
    assert [order.order_id for order in chen] == ["3398127465503318820"]
    assert len(chen_all_time) == 2
    assert len(lin) >= 3
    assert lin_elsewhere == []
    created = [o.order_id for o in lin]
    assert created[0] == "4012873365920117371"  # placed 6 hours ago: newest first


# ------------------------------------------------------------------ decision log


def test_decision_log_round_trip_oldest_first(url) -> None:
    deadline = dt.datetime(2026, 11, 28, 22, 0, tzinfo=SHANGHAI)
    approve = model.Decision(
        verdict="approve",
        shipping_payer="insurance",
        rule_ids=("LAW.CRPL.25", "TM.NO_REASON_WINDOW"),
        deadline=deadline,
        notes=("shipping_insurance",),
    )
    handoff = model.Decision(verdict="handoff", handoff_reason="escalation_threat")
    with db.session_scope(url) as session:
        # Logged out of order on purpose: the log sorts by the decision time.
        repository.log_decision(
            session,
            conversation_id="conv-1",
            message="再不处理我就投诉",
            intent="threaten_escalation",
            confidence=0.91,
            request={"platform": "tmall", "request": "return", "reason": "no_reason", "now": NOW},
            order_id="3398127465503318820",
            decision=handoff,
            now=NOW + dt.timedelta(minutes=5),
        )
        first_id = repository.log_decision(
            session,
            conversation_id="conv-1",
            message="衣服不喜欢，想退货",
            intent="request_return",
            confidence=0.97,
            request={"platform": "tmall", "request": "return", "reason": "no_reason"},
            order_id="3398127465503318820",
            decision=approve,
            now=NOW,
        )
        repository.log_decision(
            session,
            conversation_id="conv-2",
            message="别的会话",
            intent="greet",
            confidence=0.5,
            request={},
            order_id=None,
            decision=model.Decision(verdict="handoff", handoff_reason="unknown_order"),
            now=NOW,
        )
    assert isinstance(first_id, int)
    with db.session_scope(url) as session:
        rows = repository.decisions_for(session, conversation_id="conv-1")
        assert repository.decisions_for(session, conversation_id="nobody") == []
    assert [row["message"] for row in rows] == ["衣服不喜欢，想退货", "再不处理我就投诉"]
    first = rows[0]
    expected = approve.as_json()
    assert {key: first[key] for key in expected if key != "deadline"} == {
        key: value for key, value in expected.items() if key != "deadline"
    }
    assert dt.datetime.fromisoformat(first["deadline"]) == deadline  # stored as UTC
    assert (first["conversation_id"], first["intent"], first["confidence"]) == (
        "conv-1",
        "request_return",
        0.97,
    )
    assert first["order_id"] == "3398127465503318820"
    assert dt.datetime.fromisoformat(first["created_at"]) == NOW
    assert rows[1]["handoff_reason"] == "escalation_threat" and rows[1]["rule_ids"] == []
