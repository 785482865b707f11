"""The Chinese words the shop's people read for intents, verdicts and reasons.

One table for the panel, its JavaScript (the API sends the words along) and the
report, so an agent and the shop owner call the same thing by the same name.
"""

from __future__ import annotations

AGENT_TAKEOVER = "agent_takeover"
SERVICE_UNAVAILABLE = "service_unavailable"

INTENT_WORDS = {
    "request_refund": "退款",
    "request_return": "退货",
    "request_exchange": "换货",
    "complain_quality": "质量投诉",
    "ask_logistics": "问物流",
    "ask_policy": "问规则",
    "threaten_escalation": "扬言投诉",
    "request_human": "要人工",
    "inform_order": "报订单号",
    "greet": "打招呼",
    "goodbye": "再见",
    "thank": "感谢",
    "affirm": "肯定",
    "deny": "否定",
    "out_of_scope": "无关话题",
    "nlu_fallback": "没听懂",
}
VERDICT_WORDS = {
    "approve": "同意",
    "need_evidence": "需补充凭证",
    "decline": "拒绝",
    "handoff": "转人工",
}
# POLICY.md handoff and decline reasons, plus two of our own: an agent took over, and a
# message that arrived while the action server was down (bot/action_outage.py).
REASON_WORDS = {
    "counterfeit_claim": "质疑正品",
    "health_safety": "健康安全",
    "escalation_threat": "扬言投诉/介入",
    "beyond_quality_window": "超出质量售后期",
    "partial_refund": "部分退款",
    "delivery_dispute": "签收争议",
    "unknown_order": "查不到订单",
    "low_confidence": "未能确定诉求",
    "buyer_asked": "买家要求人工",
    "missing_facts": "缺少关键事实",
    "excluded_item": "定制/生鲜已发出",
    AGENT_TAKEOVER: "客服主动接管",
    SERVICE_UNAVAILABLE: "系统故障时的留言",
    "window_expired": "已过无理由期",
    "statutory_excluded": "法定不适用无理由",
    "confirmed_excluded": "买家已确认不退",
    "not_intact": "商品不完好",
    "no_seven_day_label": "无七天无理由标识",
    "already_refunded": "已退款/已关闭",
    "needs_return": "需退货才能退款",
}


def words(table: dict, key: object) -> object:
    """``table[key]``, or the key itself when the table has no words for it."""
    return table.get(key, key) if isinstance(key, str) else key
