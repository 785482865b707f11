"""The decide JSON-lines contract: one line out per line in, errors per line."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.contract import decide_lines
from bot.rules.vocabulary import PLATFORMS
from rule_sets import rule_set

RULESETS = {platform: rule_set(platform) for platform in PLATFORMS}
CLOCK = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def run(*lines: str, classify=None) -> list:
    return [json.loads(out) for out in decide_lines(lines, RULESETS, lambda: CLOCK, classify)]


def line(**fields) -> str:
    base = {
        "platform": "tmall", "request": "return", "reason": "no_reason", "now": "2026-11-24T10:00:00+08:00",
        "evidence": [], "order": {"order_id": "3091102086046928447", "status": "signed",
                                  "signed_at": "2026-11-20T15:00:00+08:00"},
    }
    base.update(fields)
    return json.dumps(base, ensure_ascii=False)


def test_a_valid_line_gets_the_contract_fields() -> None:
    [out] = run(line())
    assert out["verdict"] == "approve" and out["shipping_payer"] == "buyer"
    assert set(out) >= {"verdict", "shipping_payer", "decline_reason", "handoff_reason", "rule_ids", "deadline"}
    assert out["deadline"] == "2026-11-25T22:00:00+08:00"


def test_malformed_lines_get_an_error_and_the_rest_go_on() -> None:
    outputs = run(
        "{not json",
        line(platform="amazon"),
        line(order={"status": "signed"}),
        line(order={"order_id": "1", "status": "signed", "signed_at": "yesterday"}),
        line(now="2026-11-24T10:00:00"),
        line(order={"order_id": "1", "status": "signed", "amount": -3}),
        "[1, 2]",
        line(),
    )
    assert [("error" in out) for out in outputs] == [True] * 7 + [False]
    assert "platform" in outputs[1]["error"] and "amazon" in outputs[1]["error"]
    assert "order.order_id" in outputs[2]["error"]
    assert "order.signed_at" in outputs[3]["error"]
    assert "offset" in outputs[4]["error"]
    assert "order.amount" in outputs[5]["error"]


def test_null_order_is_an_unknown_order() -> None:
    [out] = run(line(order=None))
    assert (out["verdict"], out["handoff_reason"]) == ("handoff", "unknown_order")


def test_missing_optional_fields_take_policy_defaults() -> None:
    [out] = run(line(order={"order_id": "1", "status": "signed", "signed_at": "2026-11-20T15:00:00+08:00",
                            "free_shipping": None, "condition": None}))
    assert out["verdict"] == "approve" and "buyer_pays_outbound" not in out["notes"]


def test_missing_now_uses_the_clock() -> None:
    data = json.loads(line())
    del data["now"]
    [out] = run(json.dumps(data))
    assert out["deadline"] == "2026-11-25T22:00:00+08:00"  # CLOCK is 10:00 in Shanghai


def test_category_without_class_is_classified() -> None:
    order = {"order_id": "1", "status": "signed", "signed_at": "2026-11-20T15:00:00+08:00", "category": "鲜花"}
    [out] = run(line(order=order), classify=lambda name: "statutory_excluded" if "花" in name else None)
    assert out["decline_reason"] == "statutory_excluded"


def test_blank_lines_are_skipped() -> None:
    assert len(run("", "   ", line())) == 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_line_gives_exactly_one_json_answer(text: str) -> None:
    outputs = list(decide_lines([text], RULESETS, lambda: CLOCK))
    assert len(outputs) == (1 if text.strip() else 0)
    for out in outputs:
        assert isinstance(json.loads(out), dict)


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(["tmall", "refund", "quality", "signed", "9999-12-31T23:00:00+08:00",
                       "2026-11-20T15:00:00+08:00", "bonded", "used", "one_time_seal"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)
contract_keys = st.sampled_from(["platform", "request", "reason", "now", "evidence", "order"])
order_keys = st.sampled_from(["order_id", "status", "signed_at", "completed_at", "category", "category_class",
                              "fulfillment", "amount", "free_shipping", "shipping_insurance",
                              "seven_day_label", "buyer_confirmed_exclusion", "condition"])


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(contract_keys, values), st.dictionaries(order_keys, values))
def test_any_json_object_gives_a_decision_or_an_error(fields, order_fields) -> None:
    base = json.loads(line())
    base.update(fields)
    if isinstance(base.get("order"), dict):
        base["order"].update(order_fields)
    [out] = run(json.dumps(base))
    assert "error" in out or out["verdict"] in ("approve", "need_evidence", "decline", "handoff")


def test_policy_v2_inputs_reach_decide() -> None:
    """stated_condition, remedy and requested_amount (DESIGN.md, optional since v2)."""
    worn, cap, bad_remedy, bad_amount = run(
        line(stated_condition="used"),
        line(request="refund", reason="quality", evidence=["p.jpg"], remedy="compensation",
             requested_amount=20, order={"order_id": "1", "status": "signed", "amount": 899,
                                         "signed_at": "2026-11-20T15:00:00+08:00"}),
        line(remedy="money"),
        line(requested_amount="20"),
    )
    assert worn["decline_reason"] == "not_intact"
    assert cap["handoff_reason"] == "partial_refund"  # the default rule set has no cap
    assert "remedy" in bad_remedy["error"] and "requested_amount" in bad_amount["error"]
