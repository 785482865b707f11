"""Suggested replies: one for every handoff reason and every bot verdict, each clean.

Rendered against the demo rule base at the fixed test time, then checked as the
buyer would read them: greeting with shop and agent, the decision's rules cited,
no placeholder left, no phrase POLICY.md §4 forbids.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.assist import suggestions
from bot.assist.agent_desk import TAKEOVER_REASON, AgentDesk, DecisionFacts, HandoffFacts
from bot.assist.labels import SERVICE_UNAVAILABLE
from bot.conversation.desk import AfterSalesDesk
from bot.rules.sources import project_sources
from bot.rules.vocabulary import HANDOFF_REASONS
from conftest import PROJECT_ROOT
from test_domain_and_data import FORBIDDEN_PHRASES
from utils.rules_db import DATA_DIR, NOW, demo_desk

CREAM = "4012873365920117364"


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> AfterSalesDesk:
    return demo_desk(tmp_path_factory)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def decided(desk: AfterSalesDesk, request: str, reason: str, evidence=()) -> DecisionFacts:
    """Decide and log a request, then read it back as the panel does."""
    desk.decide(
        conversation_id="c", message="m", intent="request_return", confidence=0.9,
        request_type=request, reason=reason, order_id=CREAM, buyer_id="buyer_tg_lin",
        shop_id="demo_tmall_global", platform="tmall_global", evidence=evidence,
    )
    return AgentDesk(desk.url, clock=desk.clock).latest_decision("c")


def check(text: str, agent: str = "小王") -> None:
    assert text.startswith(f"亲，您好，我是安心海外旗舰店的客服{agent}。"), text
    assert not re.search(r"\{[a-z_]+\}", text), text
    assert not any(phrase in text for phrase in FORBIDDEN_PHRASES), text
    assert "\n" not in text and "  " not in text


@pytest.mark.parametrize("reason", [*HANDOFF_REASONS, TAKEOVER_REASON, SERVICE_UNAVAILABLE])
def test_every_handoff_reason_has_a_clean_suggestion(desk, domain, reason) -> None:
    decision = decided(desk, "return", "counterfeit_suspected")
    handoff = HandoffFacts(1, "c", reason, "high", NOW, NOW + dt.timedelta(hours=24), "socketio",
                           decision.decision_id, "小王")
    rules = desk.rules_for("demo_tmall_global", "tmall_global")
    text = suggestions.suggest(domain=domain, decision=decision, handoff=handoff,
                               order=desk.find_order(CREAM, "buyer_tg_lin"), rules=rules,
                               shop="安心海外旗舰店", agent="小王")
    check(text)
    templates = yaml.safe_load(suggestions.SUGGESTIONS_FILE.read_text(encoding="utf-8"))["handoff"]
    assert reason in templates, f"suggestions.yml has no text for {reason}"
    if "{citation}" in templates[reason]:
        assert "《淘宝平台争议处理规则》第六十六条" in text  # the counterfeit rule's citation
    if "{order_id}" in templates[reason]:
        assert CREAM in text


@pytest.mark.parametrize(
    "request_type, reason, evidence, words",
    [
        ("return", "no_reason", (), "同意退货"),
        ("return", "quality", (), "照片"),
        ("return", "quality", ("https://x/1.jpg",), "照片/视频我们收到了"),
    ],
)
def test_a_decided_request_suggests_the_bots_own_wording(desk, domain, request_type, reason, evidence, words) -> None:
    decision = decided(desk, request_type, reason, evidence)
    rules = desk.rules_for("demo_tmall_global", "tmall_global")
    text = suggestions.suggest(domain=domain, decision=decision, handoff=None,
                               order=desk.find_order(CREAM, "buyer_tg_lin"), rules=rules,
                               shop="安心海外旗舰店", agent="Amy")
    check(text, "Amy")
    assert words in text


def test_no_decision_and_no_order_leaves_a_blank_for_the_agent(desk, domain) -> None:
    rules = desk.rules_for(None, "tmall")
    handoff = HandoffFacts(1, "c", "unknown_order", "normal", NOW, None, "im", None, None)
    text = suggestions.suggest(domain=domain, decision=None, handoff=handoff, order=None, rules=rules,
                               shop="安心海外旗舰店", agent="小王")
    check(text)
    assert "订单详情页的截图" in text


def test_every_source_a_rule_cites_has_a_plain_chinese_title() -> None:
    used = set()
    for path in (DATA_DIR / "rules").glob("*.yml"):
        used |= set(re.findall(r"\b(S\d+|POLICY)\b", " ".join(
            re.findall(r"source_ids:\s*\[([^\]]*)\]", path.read_text(encoding="utf-8")))))
    titles = {source_id: source.title for source_id, source in project_sources().sources.items()}
    assert used and used <= set(titles), sorted(used - set(titles))
    assert all(re.search(r"[\u4e00-\u9fff]", titles[source]) for source in used)
