"""The reply audit's checks: what POLICY.md sections 2-4 forbid in a finished reply.

A ``ReplyAuditor`` reads the texts the buyer gets for one decision (and the
decision, rules and order behind them) and returns its findings, one line each.
It knows only the rule set, the source register and the decision, so a reply
that promises more than the decision holds, cites a document of another platform
or quotes a time no rule row gives is found whatever template produced it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, List, Optional, Set

from bot.conversation import replies
from bot.conversation.desk import Outcome, timezone_of
from bot.rules.decide import add_timer, window_end
from bot.rules.model import RuleSet
from bot.rules.sources import SourceRegister, quotes
from bot.rules.vocabulary import URGENT_HANDOFF_REASONS

PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")
QUOTED = re.compile(r"《[^》]+》(?:第[一二三四五六七八九十百零、]+条|第[一二三四五六七八九十]+章)?")
DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(小时|个工作日|天)")
DATE = re.compile(r"\d{1,2}月\d{1,2}日 \d{2}:\d{2}")
# POLICY.md §4's phrases and their near variants (报关单 offered as proof is a near
# variant of 海关正品: a buyer never reads customs papers as proof of authenticity).
FORBIDDEN = re.compile(
    r"拆封不退|拆封后不退|拆封不予|开封不退|拆了不退|最终解释权|海关正品|海关认证|海关检验|海关验真|"
    r"100%免税|百分百免税|免税|报关单|报关材料|申报清单|保证正品|假一赔"
)
AUTO_CLAIM = re.compile(r"自动理赔|自动赔付|自动退运费")
TAX_REFUNDED = re.compile(r"税[^。；]*(退回|返还|退还)|退税|随退款一起")
FREE_POSTAGE = re.compile(r"运费不用您承担|不用您承担运费|运费都由我们承担|运费由我们承担|免运费")
RANGE = re.compile(r"\d+\s*[-~～至到]\s*\d+\s*(个)?(工作日|小时|天)")
PRC_WORDS = re.compile(r"法》|办法》|条例》|依法|法定|法律|七天无理由|七日无理由|运费险|淘宝|天猫|京东|消费者权益|海关|跨境税")
REMEDY_WORDS = {
    "remedy_return_refund": ("退货退款",),
    "remedy_exchange": ("换货",),
    "remedy_reship": ("补发",),
    "remedy_repair": ("维修",),
    "offer_return_exchange_reship": ("退货退款", "换货", "补发"),
    "refund_keep_item": ("补偿",),
}


def render(reply: replies.Reply) -> str:
    """A reply as the buyer reads it: its domain.yml text with the params filled in."""
    text = replies.response_texts()[reply.response]
    return PLACEHOLDER.sub(lambda match: str(reply.params.get(match.group(1), match.group(0))), text)


class ReplyAuditor:
    """Checks finished replies against the decision and the platform's rules.

    Args:
        register: the source register (which 《…》 a platform's buyer may read).
    """

    def __init__(self, register: SourceRegister) -> None:
        self.register = register

    def quotable(self, rules: RuleSet) -> Set[str]:
        """Every 《document》article a reply on this rule set may quote: its rows' own quotes."""
        names = self.register.quotable_for(rules.platform, rules.under_prc_law)
        return {
            quote
            for rule in rules.rules.values()
            for quote in quotes(rule.note)
            if QUOTED.fullmatch(quote) and quote.split("》")[0] + "》" in names
        }

    def durations(self, rules: RuleSet) -> Set[str]:
        """``48小时``, ``2个工作日``, ``15天`` …: the lengths the rule rows give."""
        allowed = set()
        for rule in rules.rules.values():
            if rule.unit in ("hours", "working_days") and isinstance(rule.value, (int, float)):
                allowed.add(replies.duration(rules, rule.key))
            elif rule.unit == "days" and isinstance(rule.value, (int, float)):
                allowed.add(f"{replies.number(rule.value)}天")
            if isinstance(rule.value, dict):
                allowed |= {f"{replies.number(v)}天" for v in rule.value.values() if isinstance(v, (int, float))}
        return allowed

    def dates(self, outcome: Outcome, answer_by: Optional[dt.datetime]) -> Set[str]:
        """The moments this decision may quote: its deadline, window ends, customs dates, signing."""
        rules, moments = outcome.rules, [outcome.decision.deadline, answer_by]
        if outcome.order is not None:
            order, zone = outcome.order.order, timezone_of(rules)
            moments += [window_end(rules[key], order, zone) for key in ("no_reason_window", "quality_window")]
            moments.append(order.signed_at)  # "显示已在…签收" (the order system's fact)
            customs = rules.get("customs_tax_window")
            if customs is not None and order.customs_released_at is not None:
                moments += [order.customs_released_at + dt.timedelta(days=d) for d in customs.value.values()]
        return {replies.when(moment, rules) for moment in moments if moment is not None}

    def findings(
        self,
        texts: Iterable[str],
        outcome: Outcome,
        answer_by: Optional[dt.datetime] = None,
        follow_up: bool = False,
    ) -> List[str]:
        """What is wrong with the buyer's texts for this decision (empty: nothing).

        ``follow_up``: the texts answer a question about the decision (寄到哪,
        多久到账), so they need not restate the approved remedy.
        """
        decision, rules = outcome.decision, outcome.rules
        text = "\n".join(texts)
        found: List[str] = []

        def finding(what: str) -> None:
            found.append(f"{rules.platform} {decision.verdict}/{decision.decline_reason or decision.handoff_reason}"
                         f" {sorted(decision.notes)}: {what}\n  {text}")

        if PLACEHOLDER.search(text) or "{" in text or "}" in text or "None" in text:
            finding("unfilled placeholder")
        if "尽快前" in text:
            finding("a deadline quoted from nothing (尽快前)")
        for pattern, what in ((FORBIDDEN, "forbidden phrase"), (AUTO_CLAIM, "promises an automatic claim"),
                              (TAX_REFUNDED, "promises the tax back"), (RANGE, "a time range with no rule row")):
            match = pattern.search(text)
            if match:
                finding(f"{what}: {match.group(0)}")
        quotable = self.quotable(rules)
        for quote in QUOTED.findall(text):
            if quote not in quotable:
                finding(f"citation not valid for {rules.platform}: {quote}")
        if not rules.under_prc_law:
            match = PRC_WORDS.search(text)
            if match:
                finding(f"PRC law, Taobao/Tmall/JD or 运费险 wording for a buyer outside PRC law: {match.group(0)}")
        elif "Lazada" in text:
            finding("Lazada wording for a PRC platform")
        allowed = self.durations(rules)
        for number, unit in DURATION.findall(text):
            if f"{number}{unit}" not in allowed:
                finding(f"a time with no rule row behind it: {number}{unit}")
        moments = self.dates(outcome, answer_by)
        for moment in DATE.findall(text):
            if moment not in moments:
                finding(f"a date no rule or decision gives: {moment}")
        if decision.shipping_payer in ("buyer", "insurance") and FREE_POSTAGE.search(text):
            finding(f"free postage promised on a {decision.shipping_payer} return leg")
        if decision.verdict == "approve":
            if {"remedy_exchange", "remedy_reship"} & set(decision.notes) and "退款" in text:
                finding("an exchange or reship approval speaks of a refund")
            for note, words in REMEDY_WORDS.items():
                if not follow_up and note in decision.notes and not all(word in text for word in words):
                    finding(f"the approved remedy ({note}) is not what the reply says")
            if outcome.request.reason not in ("quality", "no_reason") and "质量问题" in text:
                finding(f"a {outcome.request.reason} approval calls it a quality problem")
        if "照片我们收到了" in text:
            finding("says a photo arrived (the evidence may be a video)")
        if "跨境税款" in text and not re.search(r"这是税款的条件|不作承诺", text):
            finding("customs tax without saying it is a condition, not a return window")
        if decision.handoff_reason in URGENT_HANDOFF_REASONS or "deescalate" in decision.notes:
            urgent = add_timer(outcome.now, rules["urgent_response"], timezone_of(rules))
            if decision.deadline != urgent or (answer_by is not None and answer_by != urgent):
                finding("an urgent handoff is not answered within urgent_response")
        if not re.search(r"亲|您", text):
            finding("does not address the buyer")
        return found
