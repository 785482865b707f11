"""What a message says about *which* order, besides its number.

Buyers rarely paste an order number. They say which one in other ways:

- a place in the list we showed them: 第二个, 第2个, 最后那个, 倒数第二个, or just "2";
- a time: 9月份买的, 上周到的, 前两天拍的, 十来天前, 昨天签收的;
- a state: 还没发货的那单, 还在路上的.

This module reads those hints from the text alone (products and amounts come
from the NLU entities, see ``bot.conversation.order_choice``). Numerals are read
with cn2an, so 第二个 and 第2个 are the same hint. Times are local calendar dates
of the platform's time zone, because that is how a buyer counts "yesterday".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Optional

import cn2an

from bot.nlu.text_normalizer import to_half_width, to_simplified

# What a time hint is about: the purchase, the delivery, or either.
BOUGHT, RECEIVED, EITHER = "bought", "received", "either"
# 第2个 / 倒数第2单, or 第2 ending the message (第2天, 第1次 are not places in a list).
ORDINAL = re.compile(r"(倒数)?第([0-9]{1,2})(?:(?:个|单|笔|件|条|款|项|张|行)|(?:吧|哈|呀|啊)?$)")
LAST = re.compile(r"最后(?:一|1|那|这)?\s*(?:个|单|笔|件|条|款)|最下面(?:那|的|一)?(?:个|单|笔)?")
# A lone small number answers a numbered list ("2", "2号", "选2").
BARE_NUMBER = re.compile(r"^(?:选|要|是)?\s*([1-9])\s*(?:号|个|单|笔)?\s*(?:吧|哈|呀|啊)?$")
MONTH = re.compile(r"(?<![0-9个])([0-9]{1,2})\s*月份?(?!\s*[0-9]{1,2}\s*[日号])")
MONTH_DAY = re.compile(r"(?<![0-9])([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]")
DAYS_AGO = re.compile(r"([0-9]{1,2})\s*(来|多)?\s*天(?:之)?前")
WEEKS_AGO = re.compile(r"([0-9])\s*个?\s*多?\s*(?:星期|礼拜|周)(?:之)?前")
PERIOD_WORDS = (
    # phrase, first and last day ago (inclusive); longer phrases first
    ("大前天", 3, 3),
    ("前天", 2, 2),
    ("昨天", 1, 1),
    ("今天", 0, 0),
    ("前几天", 2, 7),
    ("几天前", 2, 7),
    ("前2天", 1, 3),
    ("前两天", 1, 3),
    ("前3天", 2, 4),
    ("1个多星期", 8, 14),
    ("1个多礼拜", 8, 14),
    ("1周多", 8, 14),
    ("半个月前", 12, 18),
    ("半个多月", 15, 25),
    ("1个月前", 25, 40),
)
WEEK_WORDS = (("上上周", -2), ("上上个星期", -2), ("上上个礼拜", -2), ("上上星期", -2),
              ("上周", -1), ("上个星期", -1), ("上个礼拜", -1), ("上星期", -1), ("上礼拜", -1),
              ("这周", 0), ("本周", 0), ("这个星期", 0), ("这星期", 0), ("这礼拜", 0))
MONTH_WORDS = (("上上个月", -2), ("上个月", -1), ("上月", -1), ("这个月", 0), ("本月", 0))
BOUGHT_VERBS = ("买", "拍", "下单", "下的单", "订", "付款", "付的")
RECEIVED_VERBS = ("到", "收到", "签收", "送到", "送来", "拿到")
UNSHIPPED_WORDS = ("没发货", "没有发货", "未发货", "还没发", "没发出", "待发货", "没寄出")
IN_TRANSIT_WORDS = ("在路上", "还没到", "运输中", "没到货", "还在运", "派送中")


@dataclasses.dataclass(frozen=True)
class Period:
    """Local calendar dates (inclusive) and what happened in them."""

    first: dt.date
    last: dt.date
    event: str = EITHER

    def holds(self, moment: Optional[dt.datetime], zone: dt.tzinfo) -> bool:
        """Whether ``moment`` (aware) falls on one of the period's local dates."""
        if moment is None:
            return False
        day = moment.astimezone(zone).date() if moment.tzinfo else moment.date()
        return self.first <= day <= self.last


@dataclasses.dataclass(frozen=True)
class OrderHints:
    """The hints of one message (None or empty where it gives none).

    Attributes:
        ordinal: 1-based place in the list shown; negative counts from the end
            (-1 is the last).
        period: when the order was bought or received.
        status: ``paid_unshipped`` or ``shipped`` when the buyer says so.
    """

    ordinal: Optional[int] = None
    period: Optional[Period] = None
    status: Optional[str] = None

    @property
    def any(self) -> bool:
        """Whether the message says anything about which order."""
        return self.ordinal is not None or self.period is not None or self.status is not None


def _plain(text: str) -> str:
    """Simplified, half-width, Arabic numerals, no spaces."""
    simple = to_simplified(to_half_width(text or ""))
    try:
        simple = cn2an.transform(simple, "cn2an")
    except (ValueError, KeyError, IndexError):  # cn2an gives up on odd numerals
        pass
    return "".join(simple.split())


def _ordinal(plain: str) -> Optional[int]:
    match = ORDINAL.search(plain)
    if match and int(match.group(2)) > 0:
        place = int(match.group(2))
        return -place if match.group(1) else place
    if LAST.search(plain):
        return -1
    bare = BARE_NUMBER.match(plain)
    return int(bare.group(1)) if bare else None


def _event_after(plain: str, end: int) -> str:
    """Whether the words right after a time say bought or received."""
    following = plain[end:end + 5]
    bought = min((following.find(v) for v in BOUGHT_VERBS if v in following), default=None)
    received = min((following.find(v) for v in RECEIVED_VERBS if v in following), default=None)
    if bought is None and received is None:
        return EITHER
    if received is None or (bought is not None and bought <= received):
        return BOUGHT
    return RECEIVED


def _days_back(today: dt.date, first: int, last: int) -> tuple:
    return today - dt.timedelta(days=last), today - dt.timedelta(days=first)


def _month(today: dt.date, month: int) -> Optional[tuple]:
    if not 1 <= month <= 12:
        return None
    year = today.year if month <= today.month else today.year - 1
    first = dt.date(year, month, 1)
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _shift_month(today: dt.date, months: int) -> tuple:
    index = today.year * 12 + today.month - 1 + months
    return _month(dt.date(index // 12, index % 12 + 1, 28), index % 12 + 1)


def _period(plain: str, today: dt.date) -> Optional[Period]:
    match = MONTH_DAY.search(plain)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        span = _month(today, month)
        if span and day <= (span[1] - span[0]).days + 1:
            date = span[0].replace(day=day)
            return Period(date, date, _event_after(plain, match.end()))
    for phrase, first, last in PERIOD_WORDS:
        index = plain.find(phrase)
        if index >= 0:
            return Period(*_days_back(today, first, last), _event_after(plain, index + len(phrase)))
    match = DAYS_AGO.search(plain)
    if match:
        days = int(match.group(1))
        first, last = (max(0, days - 3), days + 5) if match.group(2) else (max(0, days - 1), days + 1)
        return Period(*_days_back(today, first, last), _event_after(plain, match.end()))
    match = WEEKS_AGO.search(plain)
    if match:
        weeks = int(match.group(1))
        return Period(*_days_back(today, 7 * weeks - 3, 7 * weeks + 6), _event_after(plain, match.end()))
    for phrase, weeks in WEEK_WORDS:
        index = plain.find(phrase)
        if index >= 0:
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)
            last = min(monday + dt.timedelta(days=6), today)
            return Period(monday, last, _event_after(plain, index + len(phrase)))
    for phrase, months in MONTH_WORDS:
        index = plain.find(phrase)
        if index >= 0:
            return Period(*_shift_month(today, months), _event_after(plain, index + len(phrase)))
    match = MONTH.search(plain)
    if match:
        span = _month(today, int(match.group(1)))
        if span:
            return Period(*span, _event_after(plain, match.end()))
    return None


def _status(plain: str) -> Optional[str]:
    if any(word in plain for word in UNSHIPPED_WORDS):
        return "paid_unshipped"
    if any(word in plain for word in IN_TRANSIT_WORDS):
        return "shipped"
    return None


def read_hints(text: str, today: dt.date) -> OrderHints:
    """The order hints of ``text``, with ``today`` the local date of the conversation."""
    plain = _plain(text)
    return OrderHints(ordinal=_ordinal(plain), period=_period(plain, today), status=_status(plain))


def names_a_place_in_a_list(text: str) -> bool:
    """Whether the message is (or contains) an answer like 第二个 / 最后那个 / 2."""
    return _ordinal(_plain(text)) is not None
