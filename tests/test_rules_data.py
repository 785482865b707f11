"""The shipped rule files say what POLICY.md section 2 says, and the demo covers it.

``decide`` is tested against ``rule_sets.POLICY_DEFAULTS``; this checks the YAML
under data/rules loads into exactly those values, so the two cannot drift apart.
"""

from __future__ import annotations

import pathlib
from datetime import datetime, timezone

import pytest

from bot.rules.decide import decide
from bot.rules.loader import read_rule_base
from bot.rules.model import AfterSalesRequest
from bot.rules.vocabulary import PLATFORMS
from rule_sets import POLICY_DEFAULTS

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = PROJECT_ROOT / "data"


@pytest.fixture(scope="module")
def loaded_rulesets(tmp_path_factory) -> dict:
    from bot.rules.db import migrate, session_scope
    from bot.rules.loader import load_all
    from bot.rules.rulesets import rulesets

    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'rules.db'}"
    migrate(url)
    with session_scope(url) as session:
        load_all(session, DATA)
    with session_scope(url) as session:
        return rulesets(session)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_rows_match_policy_section_2(loaded_rulesets, platform: str) -> None:
    rules = loaded_rulesets[platform]
    for key, (value, unit, counted_from) in POLICY_DEFAULTS[platform].items():
        rule = rules[key]
        assert (rule.value, rule.unit, rule.counted_from) == (value, unit, counted_from), (platform, key)
        assert rule.source_ids, (platform, key)


def test_every_rule_id_is_unique_and_sourced(loaded_rulesets) -> None:
    seen = {}
    for rules in loaded_rulesets.values():
        for rule in rules.rules.values():
            assert rule.source_ids and rule.certainty in ("O", "O-p", "S", "U")
            seen.setdefault(rule.rule_id, rule.key)
            assert seen[rule.rule_id] == rule.key


def test_demo_orders_cover_every_verdict_platform_and_status(loaded_rulesets) -> None:
    base = read_rule_base(DATA, now=datetime.now(timezone.utc))
    orders = base.orders
    assert len(orders) >= 30
    assert {o["platform"] for o in orders} == set(PLATFORMS)
    assert {o["status"] for o in orders} >= {"unpaid", "paid_unshipped", "shipped", "signed", "completed", "closed"}
    assert {o["fulfillment"] for o in orders} == {"domestic", "bonded", "direct_mail"}
    assert {o.get("category_class") for o in orders} >= {None, "statutory_excluded", "confirm_excluded", "one_time_seal"}
    assert {o["condition"] for o in orders} >= {"unopened", "opened_inspected", "used", "tags_removed",
                                               "seal_broken", "activated"}


def test_demo_orders_reach_every_branch_of_the_procedure(tmp_path) -> None:
    """Run every demo order through decide with each kind of request, as the bot would."""
    from bot.rules.db import migrate, session_scope
    from bot.rules.loader import load_all
    from bot.rules.repository import order_for
    from bot.rules.rulesets import ruleset_for_shop
    from bot.rules.schema import OrderRow
    from sqlalchemy import select

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    now = datetime.now(timezone.utc)
    migrate(url)
    with session_scope(url) as session:
        load_all(session, DATA, now=now)
    outcomes = set()
    photo = ({"type": "image", "url": "https://example.invalid/defect.jpg"},)
    with session_scope(url) as session:
        for row in session.execute(select(OrderRow)).scalars():
            order = order_for(session, order_id=row.order_id)
            rules = ruleset_for_shop(session, row.shop_id)
            for request, reason, evidence in [
                ("return", "no_reason", ()), ("exchange", "no_reason", ()), ("refund", "no_reason", ()),
                ("return", "quality", ()), ("return", "quality", photo), ("refund", "quality", photo),
                ("refund", "not_received", ()), ("refund", "counterfeit_suspected", ()),
                ("refund", "health_safety", ()),
            ]:
                decision = decide(AfterSalesRequest(row.platform, request, reason, evidence), order, rules, now)
                outcomes.add((decision.verdict, decision.decline_reason or decision.handoff_reason))
    expected = {
        ("approve", None), ("need_evidence", None),
        ("decline", "window_expired"), ("decline", "statutory_excluded"), ("decline", "confirmed_excluded"),
        ("decline", "not_intact"), ("decline", "no_seven_day_label"), ("decline", "already_refunded"),
        ("decline", "needs_return"),
        ("handoff", "counterfeit_claim"), ("handoff", "health_safety"), ("handoff", "beyond_quality_window"),
        ("handoff", "partial_refund"), ("handoff", "delivery_dispute"),
    }
    assert expected - outcomes == set()


def test_no_lazada_decision_on_the_shipped_rule_base_rests_on_prc_law(loaded_rulesets) -> None:
    """POLICY v2 §1: every rule a Lazada decision applies is Lazada's own or the shop's procedure."""
    from itertools import product

    from bot.rules.model import Order
    from bot.rules.sources import project_sources
    from bot.rules.vocabulary import REASONS, REMEDIES, REQUESTS, STATUSES

    rules = loaded_rulesets["lazada"]
    by_id = {rule.rule_id: rule for rule in rules.rules.values()}
    register = project_sources()
    now = datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)
    cited = set()
    for status, request, reason, remedy, photo, threat, category_class in product(
        STATUSES, REQUESTS, REASONS, (None, *REMEDIES), (False, True), (False, True), (None, "statutory_excluded")
    ):
        order = Order("LZSG24A7K3M9Q1", status, signed_at=now if status in ("signed", "completed") else None,
                      category_class=category_class, fulfillment="direct_mail", shipping_insurance=True)
        asked = AfterSalesRequest("lazada", request, reason, ("https://x/p.jpg",) if photo else (), threat,
                                  remedy=remedy, requested_amount=5.0)
        cited.update(decide(asked, order, rules, now).rule_ids)
    for rule_id in cited:
        sources = by_id[rule_id].source_ids
        assert register.out_of_scope("lazada", sources) is None, (rule_id, sources)
    assert not any(rule_id.startswith("LAW.") for rule_id in cited)
    assert {"LZ.CHANGE_OF_MIND", "LZ.QUALITY_RETURN", "LZ.NON_RETURNABLE"} <= cited


def test_docs_policy_names_every_rule_and_only_rules_that_exist() -> None:
    """docs/policy.md explains the rule base without ../shared: it must not drift from it."""
    import re

    page = (PROJECT_ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    base = read_rule_base(DATA, now=datetime.now(timezone.utc))
    ids = {row["rule_id"] for row in base.rules + base.promises}
    named = set(re.findall(r"`((?:LAW|PROC|TG|TM|TB|JDI|LZ|SHOP)\.[A-Za-z0-9_.-]+)`", page))
    assert ids - named == set(), sorted(ids - named)
    assert named - ids == set(), sorted(named - ids)
