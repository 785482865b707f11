"""Order and tracking numbers, amounts and days since receipt, read by regex.

These entities are shapes, not words: an order number is a run of digits of the
right length in the right place, an amount is a number with a currency. The
functions here run on the text the TextNormalizer produced (half-width digits
and letters, Simplified Chinese), return character spans on that text, and
never raise: every regex is linear (no nested quantifiers), every number is
length-bounded before it is converted, and Chinese numerals reach ``cn2an``
only after a strict grammar check (its only complaint left is a ValueError).

Values:

- ``order_id`` / ``tracking_number``: the id in ASCII upper case.
- ``amount``: a float (``¥129``, ``129.5元``, ``一百二十九块``, ``1.2k`` → 1200.0),
  with ``additional_info["currency"]`` (CNY unless the buyer says $/美元/港币).
- ``days``: whole days since the parcel was received, as an int, only when the
  phrase is about receipt (收到/签收/到货/到了/拿到/寄到/…): 收到三天了 → 3,
  昨天到的 → 1, 上周五收到的 → the Friday of the previous calendar week.
"""

from __future__ import annotations

import calendar
import re
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Dict, Iterable, List, Optional, Pattern, Tuple

import cn2an

ORDER_ID = "order_id"
TRACKING_NUMBER = "tracking_number"
AMOUNT = "amount"
DAYS = "days"

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, so the length and offsets never change.

    ``str.lower`` can lengthen a string ("İ" → "i̇"), which would shift every span.
    """
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class Found:
    """One entity found in the text: type, span, normalised value, extra info."""

    entity: str
    start: int
    end: int
    value: Any
    additional_info: Optional[Dict[str, Any]] = field(default=None, compare=False)


# --- numbers --------------------------------------------------------------

_D = "[一二两三四五六七八九]"
_HUNDRED_REST = f"(?:{_D}十{_D}?|零{_D}|{_D})"
_SECTION = (
    f"(?:{_D}千(?:{_D}百{_HUNDRED_REST}?|零{_D}十{_D}?|零{_D}|{_D})?"
    f"|{_D}百{_HUNDRED_REST}?|{_D}?十{_D}?|{_D})"
)
# A well-formed Chinese numeral (一百二十九, 一千二, 两万五, 三点五); cn2an misreads
# sloppy ones ("82千四" → 2480), so nothing else is handed to it.
CHINESE_NUMERAL = re.compile(
    f"(?:{_SECTION}(?:万(?:零?{_SECTION})?)?|[零〇])(?:点[零〇一二三四五六七八九]{{1,2}})?"
)
# Digits with 千/万 (1.2万, 2千, 1千2, 5万8).
MIXED_NUMERAL = re.compile(
    r"(?:[0-9](?:\.[0-9]{1,2})?千|[0-9]{1,4}(?:\.[0-9]{1,2})?万)(?:[0-9]|[一二两三四五六七八九])?"
)
_CN_CHARS = "零〇一二两三四五六七八九十百千万"


def chinese_number(text: str) -> Optional[float]:
    """The value of a Chinese or mixed numeral, or None if it is not well formed."""
    if not (CHINESE_NUMERAL.fullmatch(text) or MIXED_NUMERAL.fullmatch(text)):
        return None
    try:
        return float(cn2an.cn2an(text, "smart"))
    except ValueError:  # cn2an's word for "not a numeral I can read"
        return None


def plain_number(text: str) -> Optional[float]:
    """The value of ASCII digits with optional thousands commas and decimals."""
    cleaned = text.replace(",", "")
    if re.fullmatch(r"[0-9]{1,12}(?:\.[0-9]{1,4})?", cleaned) is None:
        return None
    return float(cleaned)


def any_number(text: str) -> Optional[float]:
    """ASCII digits, a Chinese numeral, or digits with 千/万."""
    value = plain_number(text)
    return value if value is not None else chinese_number(text)


def _resolve(found: Iterable[Found]) -> List[Found]:
    """Drop overlapping finds, keeping the leftmost, then the longest."""
    kept: List[Found] = []
    end = -1
    for item in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if item.start >= end:
            kept.append(item)
            end = item.end
    return kept


def _distinct_values(found: Iterable[Found]) -> List[Found]:
    """The first find of every (entity, value): a value said twice is one entity."""
    seen = set()
    kept = []
    for item in found:
        key = (item.entity, item.value)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


# --- order and tracking numbers ------------------------------------------

_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
# Courier waybills: SF1409283746512, JDVA01234567890, YT…, ZTO…, Cainiao LP…, and
# UPU S10 international mail (EA123456789CN).
_COURIER_ID = re.compile(
    r"(?:SF[0-9]{10,15}|JD[A-Z]{0,2}[0-9]{9,15}|JT[0-9]{10,15}|YTO?[0-9]{10,15}"
    r"|ZTO[0-9]{8,15}|STO[0-9]{8,15}|YD[0-9]{10,15}|DPK[0-9]{9,15}|EMS[0-9]{9,15}"
    r"|LP[0-9]{12,16}|[A-Z]{2}[0-9]{9}[A-Z]{2})"
)
# What a number is called just before it (searched on the ASCII-lower-cased text;
# within one alternation the longer words come first).
_ASCII_WORD = r"(?<![a-z]){}(?![a-z])"
_NUMBER_CUE = re.compile(
    "(?P<tracking>快递单号|快递单|快递号|运单号|运单|物流单号|物流单|物流号|退货单号|寄回单号|回寄单号"
    "|(?:顺丰|圆通|中通|申通|韵达|极兔|百世|德邦|邮政|菜鸟|京东快递|京东物流)(?:快递)?(?:单号|号)?"
    + "|"
    + _ASCII_WORD.format(r"(?:tracking\s*(?:number|no|#)?|waybill|ems)")
    + ")|(?P<order>订单号码|订单号|订单编号|订单|单号|"
    + _ASCII_WORD.format(r"order\s*(?:id|number|no|#)?")
    + ")|(?P<other>手机号码|手机号|手机|电话|号码|联系方式|座机|热线|拨打|条形码|条码"
    "|防伪码|溯源码|序列号|型号|货号|款号|批号|批次|验证码|银行卡|卡号|会员号|身份证"
    "|账号|帐号|支付宝|微信|邮编|工号|旺旺|"
    + _ASCII_WORD.format(r"(?:tel|phone|sn|imei|qq)")
    + ")"
)
_CUE_WINDOW = 10
_CURRENCY_AFTER = re.compile(
    r"\s?(?:元|块|圆|rmb|cny|人民币|yuan|美元|美金|usd|刀|港币|港元|hkd)"
)
_CURRENCY_BEFORE = re.compile(r"(?:¥|￥|\$|rmb|cny)\s?$")
_HOTLINES = frozenset({"12315", "12345", "12365", "95105"})
_PHONE = re.compile(r"1[0-9]{10}")
_SERVICE_NUMBER = re.compile(r"[48]00[0-9]{7}")
TAOBAO_PLATFORMS = ["taobao", "tmall", "tmall_global"]
JD_PLATFORMS = ["jd_international"]
LAZADA_PLATFORMS = ["lazada"]
# Right after 订单号 a mixed id needs fewer digits (LZSG24A7K3M9Q1 has six):
# the word says what it is, so SKU-like codes elsewhere stay out.
MIN_DIGITS_AFTER_ORDER_WORD = 4


def _cue_before(lowered: str, start: int) -> Optional[str]:
    """The kind of the nearest number word in the few characters before ``start``."""
    window = lowered[max(0, start - _CUE_WINDOW) : start]
    last = None
    for match in _NUMBER_CUE.finditer(window):
        last = match.lastgroup
    return last


def _looks_like_money(lowered: str, start: int, end: int) -> bool:
    return bool(
        _CURRENCY_AFTER.match(lowered, end)
        or _CURRENCY_BEFORE.search(lowered[max(0, start - 5) : start])
    )


def _is_part_of_decimal(text: str, start: int, end: int) -> bool:
    after = text[end : end + 2]
    before = text[max(0, start - 2) : start]
    return (
        len(after) == 2
        and after[0] == "."
        and after[1].isascii()
        and after[1].isdigit()
    ) or (
        len(before) == 2
        and before[1] == "."
        and before[0].isascii()
        and before[0].isdigit()
    )


def extract_ids(text: str) -> List[Found]:
    """Order numbers and tracking numbers.

    Taobao/Tmall/Tmall Global: 16-19 digits; JD: 9-13 digits; Lazada: letters and
    digits, 10-16 characters with at least 8 digits (4 right after an order word or
    when the id is the whole message, as buyers paste it). 14-15 digits count only
    after an order word (订单号) or alone. Phone numbers (11 digits from 1), amounts
    (129元, ¥…), hotlines and numbers named as something else (手机, 条码,
    防伪码…) are skipped. After 快递单号/运单号/物流单号/快递号 (or a courier name),
    or with a courier prefix (SF…, JD…, YT…, ZTO…), it is a ``tracking_number``.

    Args:
        text: the normalised message text.

    Returns:
        The ids found, in text order, each id once.
    """
    lowered = ascii_lower(text)
    found: List[Found] = []
    for match in _ALNUM_RUN.finditer(text):
        start, end = match.span()
        run = match.group()
        if len(run) < 8 or len(run) > 20:
            continue
        upper = run.upper()
        digits = sum(char.isdigit() for char in run)
        cue = _cue_before(lowered, start)
        if cue is None and text.strip() == run:
            cue = "order"  # an id pasted on its own is the order being talked about
        if digits < len(run):  # letters and digits
            if _COURIER_ID.fullmatch(upper):
                found.append(Found(TRACKING_NUMBER, start, end, upper))
            elif 10 <= len(run) <= 16 and cue != "other" and (
                digits >= 8 or (cue == "order" and digits >= MIN_DIGITS_AFTER_ORDER_WORD)
            ):
                kind = TRACKING_NUMBER if cue == "tracking" else ORDER_ID
                info = (
                    None if kind == TRACKING_NUMBER else {"platforms": LAZADA_PLATFORMS}
                )
                found.append(Found(kind, start, end, upper, info))
            continue
        if (
            cue == "other"
            or run in _HOTLINES
            or (len(run) == 11 and _PHONE.fullmatch(run))
            or (start > 0 and text[start - 1] == "+")
            or _SERVICE_NUMBER.fullmatch(run)
            or _looks_like_money(lowered, start, end)
            or _is_part_of_decimal(text, start, end)
        ):
            continue
        if cue == "tracking":
            found.append(Found(TRACKING_NUMBER, start, end, run))
        elif 16 <= len(run) <= 19:
            found.append(
                Found(ORDER_ID, start, end, run, {"platforms": TAOBAO_PLATFORMS})
            )
        elif 9 <= len(run) <= 13:
            found.append(Found(ORDER_ID, start, end, run, {"platforms": JD_PLATFORMS}))
        elif cue == "order" and 14 <= len(run) <= 15:
            found.append(Found(ORDER_ID, start, end, run, {"platforms": []}))
    return _distinct_values(found)


# --- amounts --------------------------------------------------------------

_PLAIN = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,9})(?:\.[0-9]{1,2})?"
_CN_RUN = f"[{_CN_CHARS}]{{1,10}}(?:点[零〇一二三四五六七八九]{{1,2}})?"
_MIXED_RUN = (
    r"[0-9]{1,4}(?:\.[0-9]{1,2})?[千万](?:[0-9](?![0-9])|[一二两三四五六七八九])?"
)
_AMOUNT_NUMBER = f"(?:{_MIXED_RUN}|{_PLAIN}(?:\\s?[kw](?![a-z]))?|{_CN_RUN})"
_NOT_AFTER_NUMBER = f"(?<![0-9.,a-z{_CN_CHARS}第])"
_UNIT = "元|块钱|块|圆|人民币|rmb|cny|yuan|美元|美金|usd|刀|港币|港元|hkd"
_AMOUNT_PATTERNS: Tuple[Pattern, ...] = (
    # ¥129, RMB 129, $20
    re.compile(
        "(?<![a-z])(?P<cur>¥|￥|rmb|cny|us\\$|hk\\$|\\$)\\s?"
        f"(?P<num>{_AMOUNT_NUMBER})(?![0-9])"
    ),
    # 129元, 一百二十九块, 1.2k元, 129 rmb, 九块九
    re.compile(
        f"{_NOT_AFTER_NUMBER}(?P<num>{_AMOUNT_NUMBER})\\s?(?P<unit>{_UNIT})(?![a-z])"
        "(?P<jiao>[1-9一二两三四五六七八九](?![0-9零〇一二两三四五六七八九十百千万天件个次号]))?"
    ),
    # 1.2k on its own (not 4k屏)
    re.compile(
        f"(?<![0-9.,a-z])(?P<num>{_PLAIN})\\s?k(?![a-z0-9])(?!\\s?[屏高电显分视画线])"
    ),
    # 退款129, 差价20, refund 129: a bare number right after a money word
    re.compile(
        "(?:退款|退钱|退给我|退我|退回|退了|返还|赔偿|赔|补偿|补差价|差价|运费|邮费|价格|售价|原价"
        "|实付款|实付|付了|花了|付款|金额|多收了|多收|少退了|少退|(?<![a-z])(?:refunded|refund|paid"
        "|pay|price|cost|charged))[\\s:：是为了共我]{0,3}"
        "(?P<num>[0-9]{1,6}(?:\\.[0-9]{1,2})?)(?![0-9.,a-z%])"
        "(?!\\s?(?:天|日|号|件|个|次|单|双|套|盒|瓶|包|袋|斤|克|g|kg|ml|l|cm|mm|码|寸|米|年|月|周"
        "|星期|小时|分钟|分|秒|折|岁|楼|层|位|点|期|条|张|台|只|支|本|份|箱|批|遍|回|趟|款|样))"
    ),
)
_K_ALONE, _AFTER_MONEY_WORD = _AMOUNT_PATTERNS[2], _AMOUNT_PATTERNS[3]
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "美元": "USD",
    "美金": "USD",
    "usd": "USD",
    "刀": "USD",
    "hk$": "HKD",
    "港币": "HKD",
    "港元": "HKD",
    "hkd": "HKD",
}
_MULTIPLIERS = {"k": 1000.0, "w": 10000.0}
# After 块 these start a counted thing (两块手表, 一块玻璃), not money.
COUNTED_AFTER_KUAI = tuple(
    "手表 表 玻璃 布 屏 石 砖 板 糖 肉 地 垫 玉 皂 镜 牌 蛋糕 饼 面包 巧克力"
    " 毛巾 手帕 电池 磁".split()
)


def _amount_value(number: str) -> Optional[float]:
    number = number.replace(" ", "")
    multiplier = 1.0
    if number[-1:] in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[number[-1]]
        number = number[:-1]
    value = any_number(number)
    return None if value is None else value * multiplier


def extract_amounts(
    text: str, starts_item: Callable[[str, int], bool] = lambda text, index: False
) -> List[Found]:
    """Money amounts as floats: ¥129, 129元, 一百二十九块, 1.2k, refund 129 rmb.

    Quantities (2件), durations (3天) and 块 used as a counter (两块手表) are not
    amounts.

    Args:
        text: the normalised message text.
        starts_item: tells whether a product word starts at an index (so 一块表 is
            one watch, not one yuan).

    Returns:
        The amounts, in text order, each value once.
    """
    lowered = ascii_lower(text)
    found: List[Found] = []
    for pattern in _AMOUNT_PATTERNS:
        for match in pattern.finditer(lowered):
            groups = match.groupdict()
            unit = groups.get("unit")
            jiao = groups.get("jiao")
            if (
                unit == "块"
                and not jiao
                and (
                    lowered.startswith(COUNTED_AFTER_KUAI, match.end())
                    or starts_item(text, match.end())
                )
            ):
                continue
            value = _amount_value(groups["num"])
            if value is None:
                continue
            if pattern is _K_ALONE:
                value *= _MULTIPLIERS["k"]
            if jiao:
                tenth = any_number(jiao)
                value += (tenth or 0.0) / 10
            symbol = groups.get("cur") or unit or ""
            currency = _CURRENCIES.get(symbol, "CNY")
            # the span holds the currency words (¥129, 129元, 1.2k) but not the money
            # word before a bare number (退款129 → 129)
            bare = pattern is _AFTER_MONEY_WORD
            start = match.start("num") if bare else match.start()
            end = match.end("num") if bare else match.end()
            found.append(
                Found(AMOUNT, start, end, round(value, 2), {"currency": currency})
            )
    return _distinct_values(_resolve(found))


# --- days since receipt ---------------------------------------------------

_RECEIPT = "收到|签收|到货|到了|拿到|寄到|收货|到手|送到|送达|收的货|收的"
# After a point in time (昨天…, 上周五…, 20号…) a plain 到 is arrival as well.
_RECEIPT_AFTER_TIME = f"{_RECEIPT}|到的|到(?![期账位点底时])"
_DAY_COUNT = f"[0-9]{{1,3}}|[{_CN_CHARS}]{{1,4}}|半"
_DURATION = (
    f"(?P<count>{_DAY_COUNT})\\s?(?P<more>多)?(?P<ge>个)?(?:多)?(?P<half>半)?"
    "(?P<unit>天|星期|礼拜|周|月)(?P<tail>半)?"
)
_FILLER = (
    "(?:已经|都|也|有|了|快|差不多|才|刚刚|刚|将近|接近|大概|大约|约|也就|超过|满|整整|足足|好|就"
    "|的时间|时间|至今|到现在|到今天|是|\\s)"
)
_OBJECT = "(?:货|东西|快递|包裹|宝贝|商品|产品|衣服)?"
_TIME_FILLER = (
    "(?:早上|上午|中午|下午|晚上|傍晚|夜里|半夜|刚刚|刚|才|就|已经|都|也|我|就已经|被|的时候"
    "|货|东西|快递|包裹|宝贝|\\s){0,3}"
)
_NEGATED_RECEIPT = re.compile("(?:没有|没|未|还没|还未|不)$")
_DAYS_AFTER_RECEIPT = re.compile(
    f"(?P<verb>{_RECEIPT}){_OBJECT}{_FILLER}{{0,4}}{_DURATION}(?:了|多|啦|左右)?"
    "(?!前|之前|以前|内|之内|以内|后|之后|以后)"
)
_DAYS_BEFORE_RECEIPT = re.compile(
    f"{_DURATION}(?:了)?(?:前|之前|以前)(?:就|已经|才|刚|的时候){{0,2}}"
    f"(?P<verb>{_RECEIPT_AFTER_TIME})"
)
_RELATIVE_DAYS = {
    "大前天": 3,
    "前天": 2,
    "前日": 2,
    "昨天": 1,
    "昨日": 1,
    "昨晚": 1,
    "昨儿": 1,
    "今天": 0,
    "今日": 0,
    "今早": 0,
    "今儿": 0,
    "今晚": 0,
}
_RELATIVE_DAY = re.compile(
    "(?P<rel>大前天|前天|前日|昨天|昨日|昨晚|昨儿|今天|今日|今早|今儿|今晚)"
    f"{_TIME_FILLER}(?P<verb>{_RECEIPT_AFTER_TIME})"
)
# Monday-based weekday numbers: 周一 → 0 … 周日/周天/周7 → 6.
_WEEKDAYS = {
    **{char: index for index, char in enumerate("一二三四五六日")},
    **{str(index + 1): index for index in range(7)},
    "天": 6,
}
_WEEKDAY = re.compile(
    "(?P<week>上上|上|这|本)?(?:个)?(?:周|星期|礼拜)(?P<day>[一二三四五六日天1-7])"
    f"{_TIME_FILLER}(?P<verb>{_RECEIPT_AFTER_TIME})"
)
_DATE = re.compile(
    "(?<![0-9])(?:(?P<month>[0-9]{1,2}|[一二三四五六七八九十]{1,3})月)?"
    "(?P<day>[0-9]{1,2}|[一二三四五六七八九十]{1,3})(?:号|日)"
    f"{_TIME_FILLER}(?P<verb>{_RECEIPT_AFTER_TIME})"
)
_UNIT_DAYS = {"天": 1, "星期": 7, "礼拜": 7, "周": 7, "月": 30}


def _duration_days(match: re.Match) -> Optional[int]:
    """Days in a duration match (三天, 一个星期, 半个月, 一个多月)."""
    count_text = match.group("count")
    unit = match.group("unit")
    if unit == "月" and not (match.group("ge") or count_text == "半"):
        return None  # 3月 is March
    count = 0.5 if count_text == "半" else any_number(count_text)
    if count is None:
        return None
    if match.group("half") or match.group("tail"):
        count += 0.5
    days = int(count * _UNIT_DAYS[unit])
    return days if 0 <= days <= 3660 else None


def _receipt_is_negated(text: str, verb_start: int) -> bool:
    return bool(_NEGATED_RECEIPT.search(text[max(0, verb_start - 2) : verb_start]))


def _small_number(text: str) -> Optional[int]:
    value = any_number(text)
    return int(value) if value is not None and value == int(value) else None


def _days_since_date(today: date, month: Optional[int], day: int) -> Optional[int]:
    """Days from the most recent past ``month``/``day`` (this month if no month)."""
    year = today.year
    if month is None:
        month = today.month
        if day > today.day:
            month, year = (12, year - 1) if month == 1 else (month - 1, year)
    elif (month, day) > (today.month, today.day):
        year -= 1
    if not (1 <= month <= 12) or not (1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    days = (today - date(year, month, day)).days
    return days if 0 <= days <= 366 else None


def _days_since_weekday(
    today: date, week: Optional[str], weekday: int
) -> Optional[int]:
    """Days since a weekday: 上周五 is the Friday of the previous Monday-based week."""
    monday = today - timedelta(days=today.weekday())
    if week == "上":
        target = monday - timedelta(days=7) + timedelta(days=weekday)
    elif week == "上上":
        target = monday - timedelta(days=14) + timedelta(days=weekday)
    elif week in ("这", "本"):
        target = monday + timedelta(days=weekday)
    else:  # 周三收到的: the latest Wednesday, today included
        target = today - timedelta(days=(today.weekday() - weekday) % 7)
    days = (today - target).days
    return days if days >= 0 else None


def extract_days(text: str, today: date) -> List[Found]:
    """Days since the parcel was received, from phrases about receipt only.

    收到三天了 / 签收5天 / 到了3天 → 3 or 5; 一周了 → 7; 半个月 → 15; 三天前收到的 → 3;
    昨天到的 → 1; 今天刚收到 → 0; 前天签收 → 2; 上周五收到的, 11月20号签收 → from
    ``today``. 用了三天, 签收后7天内, 还没收到三天了 give nothing.

    Args:
        text: the normalised message text.
        today: the day the message was written (Asia/Shanghai).

    Returns:
        The day counts, in text order, each value once; the span covers the time
        words (三天, 昨天, 上周五).
    """
    found: List[Found] = []
    for pattern in (_DAYS_AFTER_RECEIPT, _DAYS_BEFORE_RECEIPT):
        for match in pattern.finditer(text):
            if _receipt_is_negated(text, match.start("verb")):
                continue
            days = _duration_days(match)
            if days is not None:
                found.append(Found(DAYS, match.start("count"), match.end("unit"), days))
    for match in _RELATIVE_DAY.finditer(text):
        if not _receipt_is_negated(text, match.start("verb")):
            value = _RELATIVE_DAYS[match.group("rel")]
            found.append(Found(DAYS, match.start("rel"), match.end("rel"), value))
    for match in _WEEKDAY.finditer(text):
        if _receipt_is_negated(text, match.start("verb")):
            continue
        days = _days_since_weekday(
            today, match.group("week"), _WEEKDAYS[match.group("day")]
        )
        if days is not None:
            found.append(Found(DAYS, match.start(), match.end("day"), days))
    for match in _DATE.finditer(text):
        if _receipt_is_negated(text, match.start("verb")):
            continue
        day = _small_number(match.group("day"))
        month = _small_number(match.group("month")) if match.group("month") else None
        if day is None or (match.group("month") and month is None):
            continue
        days = _days_since_date(today, month, day)
        if days is not None:
            # the span ends after 号/日, the one character following the day
            found.append(Found(DAYS, match.start(), match.end("day") + 1, days))
    return _distinct_values(_resolve(found))
