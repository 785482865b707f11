"""Fuzz: 2,000 generated inputs through REST and the IM webhook of the real bot.

Every input is built up front by ``build_cases(SEED)`` (a seeded
``random.Random``), so a failure names a case number that the same seed builds
again. The inputs cover empty and whitespace-only text, 20,000-character pastes
(Chinese and mixed), control and invisible characters, invalid UTF-8, emoji
only, SQL- and script-looking text, order-number-like digit runs, Traditional
Chinese, lone surrogates, slash commands, mixed fragments, and bodies of the
wrong shape: non-JSON, wrongly typed ``sender``/``message``/``metadata`` on
REST, wrongly typed push fields and attachments on IM, and pushes that are
unsigned, wrongly signed or stale.

What must hold:

- no answer is a 5xx, and the servers keep running (every offending input is
  listed in the failure message);
- a valid message is answered: REST (a string ``sender``, a non-empty string
  ``message``, whitespace only included) gets 200 and a non-empty list of bot
  messages for that sender (``/restart``, Rasa's silent command, only no 5xx);
  a correctly signed, valid IM push gets 200 ``{"status": "accepted"}`` and,
  for a sample, its reply reaches the fake IM platform. Every valid input uses a
  fresh sender/buyer, so it is a first message: a handoff ("转人工", "投诉")
  is a reply too, and no earlier handoff has paused the conversation;
- wrongly typed fields get a 4xx (REST and IM: 400), every IM body that is not
  a valid push 400, a bad signature 401 (raw REST bodies: only no 5xx); a
  ``message_id`` pushed again gets ``{"status": "duplicate"}``;
- no traceback in the server log while fuzzing, and afterwards the bot still
  answers "你好" on both channels.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Optional, Tuple

import requests

from bot.rules.vocabulary import PLATFORMS
from utils.fake_im import IMClient

SEED = 20261126
REST_CASES = 1000
IM_CASES = 1000  # of which DUPLICATES re-push accepted message ids
DUPLICATES = 50
WORKERS = 8
IM_ARRIVAL_SAMPLE = 100
REQUEST_TIMEOUT_S = 120
SERVER_LOG_PROBLEMS = re.compile(
    r"Traceback \(most recent call last\)|Encountered an exception while running action"
)

# Expectations of one input.
ANSWERED = "answered"  # REST: 200 + non-empty list; IM: 200 accepted (+ the reply arrives)
REJECTED = "rejected"  # a 4xx (REST 400, IM 400)
UNAUTHORIZED = "unauthorized"  # IM: 401
DUPLICATE = "duplicate"  # IM: 200 {"status": "duplicate"}
NO_5XX = "no_5xx"  # only: not a server error (e.g. a body sanic may or may not read)


# --- material ------------------------------------------------------------------

AFTER_SALES = [
    "我要退货", "衣服有个洞", "七天无理由能退吗", "没收到货想退款", "快递到哪了",
    "再不处理我就投诉", "转人工", "耳机左边没声音", "拍错了，想退掉换个颜色", "你好",
    "订单号3398127465503318820", "算了不退了", "不是退货是换货", "谢谢", "人呢",
    "东西一直没到，客服也不回，", "尺码买大了，不太喜欢", "再不处理我就打12315",
]
TRADITIONAL = [
    "我要申請退款，訂單還沒發貨", "衣服有個洞，想退貨", "請問七天無理由能退嗎", "快遞到哪裡了",
    "轉人工客服", "質量太差了，我要投訴", "換貨需要運費嗎", "收到的商品和描述不符", "包裹破損了，怎麼辦",
]
EMOJI = [
    "😀", "😡", "🙏", "👍🏻", "👩‍👩‍👧‍👦", "🇨🇳", "❤️", "🔥", "📦", "💔", "🤬", "🧧", "🏳️‍🌈",
    "🫠", "😭", "👀", "🤡", "1️⃣", "#️⃣", "🧑🏿‍🦱",
]
SQL = [
    "'; DROP TABLE orders; --", "1 OR 1=1", "' OR '1'='1", '" OR ""="', "1; DELETE FROM handoffs",
    "admin'--", "' UNION SELECT buyer_id, phone FROM orders --", "订单号 3398127465503318820' OR 1=1 --",
    "Robert'); DROP TABLE im_messages;--", "%' AND 1=0 UNION ALL SELECT NULL--",
    "1' AND SLEEP(5)#", "'; UPDATE orders SET status='refunded' WHERE '1'='1",
]
SCRIPT = [
    "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x}", "<img src=x onerror=alert(1)>",
    "{% for x in range(9) %}{{x}}{% endfor %}", "#{7*7}", "javascript:alert(document.cookie)",
    '<!--#exec cmd="ls"-->', "../../../../etc/passwd", "{{ request.application.__globals__ }}",
    "$(rm -rf /)", "`id`", "%s%s%s%n", "{0.__class__}", '<!ENTITY x SYSTEM "file:///etc/passwd">',
    '{"sender": "x", "message": "y"}', "null", "NaN", "__proto__", "{buyer_id}", "{{order_id}}",
    "<svg/onload=alert`1`>", "'\"><iframe src=//evil>",
]
SLASH = ["/request_human", "/greet", "/nlu_fallback", "/restart", "/", "//", "/不存在的意图",
         '/request_refund{"order_id": "3398127465503318820"}', "/inform{", "/stop"]
CONTROL = [chr(code) for code in range(0x20)] + [
    "\x7f", "\x85", "\xa0", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b",
    "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029",
    "\ufeff", "\ufff9", "\ufffc", "\ufffd", "\u180e", "\u034f",
]
WHITESPACE = [" ", "\t", "\n", "\r", "\u3000", "\xa0", "\u2003", "\u200b", "\x0b", "\x0c",
              "\u2028", "\ufeff", "\u180e"]
ODD_CODE_POINTS = ["\ud800", "\udfff", "\udc80", "\uffff", "\ufffe", "\U0010ffff", "\ufdd0",
                   "\U000e0001", "\ue000", "\U000f0000", "\u0301" * 50, "\u0000"]
SCRIPTS = [(0x4E00, 0x9FFF), (0x0041, 0x007A), (0x0400, 0x04FF), (0x0600, 0x06FF),
           (0xAC00, 0xD7A3), (0x1F300, 0x1F6FF), (0x3040, 0x30FF), (0xFF01, 0xFF5E),
           (0x0E00, 0x0E7F), (0x2000, 0x206F)]
TEXT_CATEGORIES = [
    "empty", "whitespace", "long_chinese", "long_mixed", "control", "emoji", "sql", "script",
    "digits", "traditional", "mixed", "odd_code_points", "slash", "after_sales",
]
# 20,000-character messages cost the most time: half as many of them.
CATEGORY_WEIGHTS = [0.5 if name.startswith("long_") else 1.0 for name in TEXT_CATEGORIES]
# Rasa's own command: it restarts the conversation and says nothing (no utter_restart).
SILENT_COMMANDS = {"/restart"}


def pick_category(rng: random.Random) -> str:
    return rng.choices(TEXT_CATEGORIES, CATEGORY_WEIGHTS)[0]


def long_text(rng: random.Random, mixed: bool) -> str:
    """Exactly 20,000 characters: a Chinese rant, or fragments of every kind."""
    pool = AFTER_SALES + TRADITIONAL
    if mixed:
        pool = pool + EMOJI + SQL + SCRIPT + ["ＡＢＣ１２３", "refund please!!", "3398127465503318820"]
    parts, size = [], 0
    while size < 20_000:
        part = rng.choice(pool)
        parts.append(part)
        size += len(part)
    return "".join(parts)[:20_000]


def digits(rng: random.Random) -> str:
    """Runs of digits that look (too much) like order numbers."""
    length = rng.choice([19, 19, 20, 25, 64, 300, 5000])
    run = "".join(rng.choice("0123456789") for _ in range(length))
    return rng.choice([
        run, f"订单号{run}", f"我的订单 {run} 要退款",
        run.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        "-".join(run[i:i + 4] for i in range(0, min(len(run), 40), 4)), f"{run}e309", f"-{run}",
        "٣٣٩٨١٢٧٤٦٥٥٠٣٣١٨٨٢٠", "¹²³⁴⁵⁶⁷⁸⁹⁰", f"0x{run[:16]}", f"{run[:19]} {run[:19]}",
    ])


def random_code_points(rng: random.Random, count: int) -> str:
    chars = []
    for _ in range(count):
        low, high = rng.choice(SCRIPTS)
        chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def fuzz_text(rng: random.Random, category: str) -> str:
    """One message text of ``category`` (see TEXT_CATEGORIES)."""
    if category == "empty":
        return ""
    if category == "whitespace":
        return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 40)))
    if category == "long_chinese":
        return long_text(rng, mixed=False)
    if category == "long_mixed":
        return long_text(rng, mixed=True)
    if category == "control":
        noise = "".join(rng.choice(CONTROL) for _ in range(rng.randint(1, 30)))
        where = rng.randrange(3)
        phrase = rng.choice(AFTER_SALES)
        return [noise, noise + phrase, phrase[:2] + noise + phrase[2:]][where]
    if category == "emoji":
        return "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 30)))
    if category == "sql":
        return rng.choice(SQL)
    if category == "script":
        return rng.choice(SCRIPT)
    if category == "digits":
        return digits(rng)
    if category == "traditional":
        return "".join(rng.sample(TRADITIONAL, rng.randint(1, 3)))
    if category == "odd_code_points":
        return rng.choice(["", "退款"]) + "".join(rng.sample(ODD_CODE_POINTS, rng.randint(1, 3)))
    if category == "slash":
        return rng.choice(SLASH)
    if category == "after_sales":
        return rng.choice(AFTER_SALES)
    # mixed: fragments of every kind and random code points of many scripts
    pools = [AFTER_SALES, TRADITIONAL, EMOJI, SQL, SCRIPT, CONTROL, WHITESPACE]
    parts = [rng.choice(rng.choice(pools)) for _ in range(rng.randint(2, 8))]
    parts.append(random_code_points(rng, rng.randint(1, 60)))
    rng.shuffle(parts)
    return "".join(parts)


def encode(value: object) -> bytes:
    """JSON as UTF-8; with ASCII escapes when the text has lone surrogates (UTF-8 cannot hold them)."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True).encode("ascii")


def has_content(text: str) -> bool:
    """Whether the webhooks treat ``text`` as a message (they use ``str.strip``)."""
    return bool(text.strip())


def expects_answer(text: str) -> bool:
    """A non-empty message gets an answer (also whitespace only), unless it is a silent command."""
    return text != "" and text.strip() not in SILENT_COMMANDS


# --- the cases -------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    """One fuzz input and what must come back."""

    number: int
    channel: str  # "rest" | "im"
    category: str
    body: bytes
    expect: str
    sender: str = ""  # REST: the sender; IM: the buyer
    signing: str = "signed"  # IM: signed, unsigned, wrong_secret, stale, …
    duplicate_of: Optional[int] = None
    check_arrival: bool = False

    def describe(self) -> str:
        shown = self.body if len(self.body) <= 160 else self.body[:160] + b"..."
        signing = f"{self.signing}, " if self.channel == "im" else ""
        return (f"#{self.number} {self.channel}/{self.category} ({signing}{len(self.body)} bytes, "
                f"expect {self.expect}): {shown!r}")


def wrong_metadata(rng: random.Random) -> object:
    """Metadata a REST caller may send: right, absent, or of the wrong type."""
    return rng.choice([
        None, {}, {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"},
        {"buyer_id": 12345}, {"buyer_id": ["buyer_tm_chen"]}, {"buyer_id": {"id": "x"}},
        {"buyer_id": None, "shop_id": 3.5, "platform": True}, {"buyer_id": "买家一号"},
        {"buyer_id": "x" * 5000}, {"buyer_id": "buyer_tm_chen'; DROP TABLE orders; --"},
        {"platform": "amazon"}, {"platform": "TMALL"}, {"platform": ["tmall"]}, {"shop_id": {"$ne": 1}},
        {"attachments": "https://example.com/a.jpg"}, {"attachments": {"type": "image"}},
        {"attachments": [1, "x", None, []]}, {"attachments": [{"type": "image", "url": 5}]},
        {"attachments": [{"type": "image", "url": "javascript:alert(1)"}]},
        {"attachments": [{"type": "image", "url": "//evil.example/x.jpg"}]},
        {"attachments": [{"type": "image", "url": "https://example.com/p.jpg"}] * 40},
        {"attachments": [{"type": "video", "url": "https://example.com/v.mp4"}]},
        {"attachments": [{"type": "image", "url": "https://x/" + "a" * 5000}]},
        {"attachments": [{"type": "image"}] * 3000},
        {"nested": json.loads("[" * 200 + "]" * 200)}, {"sent_at": "2026-13-45"},
        ["buyer_tm_chen"], "buyer_tm_chen", 42, True,
    ])


ODD_SENDER_SUFFIXES = ["", "", "", "", "", "", "", "-😀", "-订单", "-\u202e", " x", "/../x", "?a=1#b", "-%00"]


def rest_cases(rng: random.Random, start: int, count: int) -> List[Case]:
    """REST inputs: valid messages of every text category, wrong types, raw bodies."""
    cases: List[Case] = []
    shapes = ["valid"] * 48 + ["wrong_type"] * 24 + ["raw"] * 28
    for number in range(start, start + count):
        sender = f"fz-rest-{number:04d}" + rng.choice(ODD_SENDER_SUFFIXES)
        shape = rng.choice(shapes)
        if shape == "valid":
            category = pick_category(rng)
            text = fuzz_text(rng, category)
            body: Dict[str, object] = {"sender": sender, "message": text}
            metadata = wrong_metadata(rng)
            if metadata is not None:
                body["metadata"] = metadata
            cases.append(Case(number, "rest", category, encode(body),
                              ANSWERED if expects_answer(text) else NO_5XX, sender))
        elif shape == "wrong_type":
            text = fuzz_text(rng, pick_category(rng))
            body_value, expect, category = rng.choice([
                ({"message": text}, REJECTED, "sender_missing"),
                ({"sender": None, "message": text}, REJECTED, "sender_null"),
                ({"sender": "", "message": text}, REJECTED, "sender_empty"),
                ({"sender": " \u3000", "message": text}, REJECTED, "sender_blank"),
                ({"sender": [sender], "message": text}, REJECTED, "sender_list"),
                ({"sender": {"id": sender}, "message": text}, REJECTED, "sender_dict"),
                ({"sender": True, "message": text}, REJECTED, "sender_bool"),
                ({"sender": "s" * 257, "message": text}, REJECTED, "sender_too_long"),
                ({"sender": 900_000 + number, "message": text}, NO_5XX, "sender_int"),
                ({"sender": number + 0.5, "message": text}, NO_5XX, "sender_float"),
                ({"sender": sender, "message": [text]}, REJECTED, "message_list"),
                ({"sender": sender, "message": {"text": text}}, REJECTED, "message_dict"),
                ({"sender": sender, "message": 3398127465503318820}, REJECTED, "message_int"),
                ({"sender": sender, "message": True}, REJECTED, "message_bool"),
                ({"sender": sender, "message": None}, NO_5XX, "message_null"),
                ({"sender": sender}, NO_5XX, "message_missing"),
                ([{"sender": sender, "message": text}], REJECTED, "body_list"),
                (text, REJECTED, "body_string"),
                (42, REJECTED, "body_number"),
                (None, REJECTED, "body_null"),
            ])
            cases.append(Case(number, "rest", category, encode(body_value), expect, sender))
        else:
            category, raw = raw_rest_body(rng, sender)
            cases.append(Case(number, "rest", category, raw, NO_5XX, sender))
    return cases


def raw_rest_body(rng: random.Random, sender: str) -> Tuple[str, bytes]:
    """A REST body that is not (quite) JSON: broken syntax, invalid UTF-8, odd encodings."""
    head = b'{"sender": "' + sender.encode("utf-8", "surrogatepass") + b'", "message": "'
    valid = encode({"sender": sender, "message": "我要退货"})
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return rng.choice([
        ("raw_empty", b""),
        ("raw_truncated", valid[: rng.randint(1, len(valid) - 1)]),
        ("raw_not_json", b"sender=x&message=%E9%80%80%E6%AC%BE"),
        ("raw_single_quotes", b"{'sender': 'x', 'message': 'y'}"),
        ("raw_trailing_garbage", valid + b" xyz"),
        ("invalid_utf8_in_string", head + rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xe4\xbd", b"\xc0\xaf",
                                                      b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + b'"}'),
        ("invalid_utf8_junk", junk),
        ("raw_utf16", json.dumps({"sender": sender, "message": "退款"}, ensure_ascii=False).encode("utf-16")),
        ("raw_bom", b"\xef\xbb\xbf" + valid),
        ("raw_control_in_string", head + bytes(rng.sample(range(32), 5)) + '退款"}'.encode()),
        ("raw_deep_nesting", b"[" * 100_000),
        ("raw_deep_metadata", head + b'x", "metadata": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"),
        ("raw_duplicate_keys", head + b'x", "sender": ["x"]}'),
        ("raw_nan", head + b'x", "metadata": {"sent_at": NaN}}'),
        ("raw_huge_number", head + b'x", "metadata": ' + b"9" * 10_000 + b"}"),
    ])


MISSING = ...  # a field value that drops the field from the push


def push_body(number: int, rng: random.Random, **fields: object) -> Dict[str, object]:
    """A valid push of a fresh buyer; ``fields`` replace fields (``MISSING`` drops one)."""
    buyer = f"fz-im-{number:04d}"
    message_id = f"fz-{number:04d}-" + rng.choice(["", "m", "消息", "😀", "'; --", "a" * 100])
    body: Dict[str, object] = {
        "message_id": message_id, "buyer_id": buyer,
        "shop_id": rng.choice(["im_shop", "demo_tmall", "s.1:@-"]),
        "platform": rng.choice(PLATFORMS), "text": "你好",
    }
    optional = {
        "attachments": rng.choice([[], None, [{"type": "image", "url": "https://example.com/p.jpg"}],
                                   [{"type": "image", "url": "javascript:alert(1)"}],
                                   [{"type": "file", "url": "https://example.com/a.pdf"}],
                                   [{"type": "image", "url": "//evil.example/x"}] * 50,
                                   [{"type": "图片", "url": "", "extra": [1, 2]}]]),
        "sent_at": rng.choice([1764150000, 1764150000.5, "2026-11-26T10:00:00Z", "昨天", None,
                               -1, 10**20, "0"]),
        "extra": rng.choice([{"a": 1}, [1, 2], "x", None]),
    }
    for key, value in optional.items():
        if rng.random() < 0.5:
            body[key] = value
    body.update(fields)
    return {key: value for key, value in body.items() if value is not MISSING}


def im_cases(rng: random.Random, start: int, count: int) -> List[Case]:
    """IM inputs: valid signed pushes, wrong fields, raw bodies, bad signatures (no duplicates)."""
    cases: List[Case] = []
    shapes = ["valid"] * 40 + ["wrong_field"] * 32 + ["raw"] * 12 + ["signature"] * 16
    for number in range(start, start + count):
        buyer = f"fz-im-{number:04d}"
        shape = rng.choice(shapes)
        if shape == "valid":
            category = pick_category(rng)
            text = fuzz_text(rng, category)
            fields: Dict[str, object] = {"text": text}
            if not has_content(text) and rng.random() < 0.5:
                fields["attachments"] = [{"type": "image", "url": "https://example.com/photo.jpg"}]
                category += "+image"
            body = push_body(number, rng, **fields)
            has_image = any(isinstance(item, dict) and item.get("type") == "image"
                            for item in body.get("attachments") or [])
            if not (has_content(text) or has_image):
                expect = REJECTED
            else:
                expect = ANSWERED if not has_content(text) or expects_answer(text) else NO_5XX
            cases.append(Case(number, "im", category, encode(body), expect, buyer))
        elif shape == "wrong_field":
            category, fields = rng.choice(WRONG_PUSH_FIELDS)
            value = fields(rng) if callable(fields) else fields
            if category.startswith("body_"):
                raw = encode(value)
            else:
                raw = encode(push_body(number, rng, **{"text": fuzz_text(rng, "after_sales"), **value}))
            cases.append(Case(number, "im", category, raw, REJECTED, buyer))
        elif shape == "raw":
            category, raw, expect = raw_push_body(rng, number)
            cases.append(Case(number, "im", category, raw, expect, buyer))
        else:
            signing = rng.choice(["unsigned", "timestamp_only", "signature_only", "wrong_secret", "stale",
                                  "future", "timestamp_garbage", "timestamp_negative", "tampered",
                                  "signature_empty", "signature_latin1"])
            body = push_body(number, rng, text=fuzz_text(rng, pick_category(rng)) or "你好")
            cases.append(Case(number, "im", "bad_signature", encode(body), UNAUTHORIZED, buyer, signing))
    return cases


WRONG_PUSH_FIELDS: List[Tuple[str, object]] = [
    ("buyer_id_int", {"buyer_id": 12345}), ("buyer_id_list", {"buyer_id": ["b1"]}),
    ("buyer_id_dict", {"buyer_id": {"id": "b1"}}), ("buyer_id_null", {"buyer_id": None}),
    ("buyer_id_missing", {"buyer_id": MISSING}), ("buyer_id_empty", {"buyer_id": ""}),
    ("buyer_id_too_long", {"buyer_id": "b" * 65}), ("buyer_id_chinese", {"buyer_id": "买家"}),
    ("buyer_id_sql", {"buyer_id": "b1'; DROP TABLE im_messages; --"}),
    ("buyer_id_newline", {"buyer_id": "b1\nb2"}), ("shop_id_int", {"shop_id": 7}),
    ("shop_id_list", {"shop_id": []}), ("shop_id_missing", {"shop_id": MISSING}),
    ("platform_unknown", {"platform": "amazon"}), ("platform_upper", {"platform": "TMALL"}),
    ("platform_int", {"platform": 1}), ("platform_null", {"platform": None}),
    ("platform_missing", {"platform": MISSING}), ("text_int", {"text": 42}),
    ("text_list", {"text": ["我要退货"]}), ("text_dict", {"text": {"zh": "退货"}}),
    ("text_null", {"text": None}), ("text_missing", {"text": MISSING}),
    ("text_blank_no_image", {"text": " \u3000\t\n", "attachments": MISSING}), ("message_id_int", {"message_id": 1}),
    ("message_id_missing", {"message_id": MISSING}), ("message_id_blank", {"message_id": "  "}),
    ("message_id_too_long", {"message_id": "m" * 129}), ("message_id_list", {"message_id": ["m"]}),
    ("attachments_string", {"attachments": "https://example.com/a.jpg"}),
    ("attachments_dict", {"attachments": {"type": "image", "url": "https://example.com/a.jpg"}}),
    ("attachments_int", {"attachments": 3}), ("attachments_strings", {"attachments": ["a.jpg"]}),
    ("attachments_no_url", {"attachments": [{"type": "image"}]}),
    ("attachments_url_int", {"attachments": [{"type": "image", "url": 5}]}),
    ("attachments_type_null", {"attachments": [{"type": None, "url": "https://x/a.jpg"}]}),
    ("attachments_too_many", {"attachments": [{"type": "image", "url": "https://x/a.jpg"}] * 51}),
    ("attachments_thousands", {"attachments": [{"type": "image", "url": "https://x/a.jpg"}] * 5000}),
    ("sent_at_dict", {"sent_at": {"t": 1}}), ("sent_at_list", {"sent_at": [1]}),
    ("sent_at_bool", {"sent_at": True}),
    ("body_list", lambda rng: [push_body(0, rng)]), ("body_string", "我要退货"),
    ("body_number", 3398127465503318820), ("body_null", None), ("body_empty_object", {}),
]


def raw_push_body(rng: random.Random, number: int) -> Tuple[str, bytes, str]:
    """A signed push body that is not valid JSON of a push (or only barely)."""
    valid = encode(push_body(number, rng, text="我要退货"))
    head = valid[: valid.index(b'"text": "') + len(b'"text": "')]
    tail = valid[valid.index(b'"', len(head)):]
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    return rng.choice([
        ("raw_empty", b"", REJECTED),
        ("raw_truncated", valid[: rng.randint(1, len(valid) - 1)], REJECTED),
        ("raw_not_json", b"message_id=1&text=hi", REJECTED),
        ("invalid_utf8_in_text", head + rng.choice([b"\xff\xfe", b"\xc3\x28", b"\xe4\xbd", b"\xed\xa0\x80"])
         + tail, REJECTED),
        ("invalid_utf8_junk", junk, REJECTED),
        ("raw_utf16", json.dumps(push_body(number, rng), ensure_ascii=False).encode("utf-16"), REJECTED),
        ("raw_bom", b"\xef\xbb\xbf" + valid, REJECTED),
        ("raw_control_in_text", head + bytes(rng.sample(range(32), 4)) + tail, REJECTED),
        ("raw_deep_nesting", b"[" * 100_000 + b"]" * 100_000, REJECTED),
        ("raw_deep_field", valid[:-1] + b', "extra": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", REJECTED),
        ("raw_huge_number", valid[:-1] + b', "sent_at": ' + b"9" * 10_000 + b"}", REJECTED),
        ("raw_nan_sent_at", valid[:-1] + b', "sent_at": NaN}', NO_5XX),
        ("raw_trailing_garbage", valid + b"}}", REJECTED),
    ])


def build_cases(seed: int = SEED) -> List[Case]:
    """All 2,000 inputs, the same for the same seed; duplicates come last (they need their original)."""
    rng = random.Random(seed)
    cases = rest_cases(rng, 0, REST_CASES) + im_cases(rng, REST_CASES, IM_CASES - DUPLICATES)
    accepted = [case for case in cases if case.channel == "im" and case.expect == ANSWERED]
    for case in rng.sample(accepted, IM_ARRIVAL_SAMPLE):
        case.check_arrival = True
    originals = rng.sample(accepted, DUPLICATES)
    number = REST_CASES + IM_CASES - DUPLICATES
    for original in originals:
        body = original.body
        if rng.random() < 0.5:  # same id, other text: still the same push
            data = json.loads(body)
            data["text"] = "我要退货"
            body = encode(data)
        cases.append(Case(number, "im", "duplicate_message_id", body, DUPLICATE, original.sender,
                          duplicate_of=original.number))
        number += 1
    return cases


# --- sending and checking ---------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    status: int  # 0: no answer at all
    text: str
    seconds: float = 0.0


def send(case: Case, base_url: str, im: IMClient) -> Outcome:
    """POST one input as it is; a connection error or timeout is status 0."""
    started = time.monotonic()
    try:
        if case.channel == "rest":
            answer = requests.post(f"{base_url}/webhooks/rest/webhook", data=case.body,
                                   headers={"Content-Type": "application/json"}, timeout=REQUEST_TIMEOUT_S)
        else:
            answer = post_push(im, case)
    except requests.RequestException as problem:
        return Outcome(0, f"{type(problem).__name__}: {problem}", time.monotonic() - started)
    return Outcome(answer.status_code, answer.text, time.monotonic() - started)


def post_push(im: IMClient, case: Case) -> requests.Response:
    now = int(time.time())
    if case.signing == "signed":
        return im.post(case.body)
    if case.signing == "wrong_secret":
        return im.post(case.body, secret="not-the-secret")
    if case.signing in ("stale", "future"):
        return im.post(case.body, timestamp=now + (-1000 if case.signing == "stale" else 1000))
    good = hmac_hex(im.secret, str(now), case.body)
    headers = {
        "unsigned": {},
        "timestamp_only": {"X-Signature-Timestamp": str(now)},
        "signature_only": {"X-Signature": good},
        "timestamp_garbage": {"X-Signature-Timestamp": "1e9", "X-Signature": hmac_hex(im.secret, "1e9", case.body)},
        "timestamp_negative": {"X-Signature-Timestamp": "-5", "X-Signature": hmac_hex(im.secret, "-5", case.body)},
        "tampered": {"X-Signature-Timestamp": str(now), "X-Signature": hmac_hex(im.secret, str(now), case.body + b" ")},
        "signature_empty": {"X-Signature-Timestamp": str(now), "X-Signature": ""},
        "signature_latin1": {"X-Signature-Timestamp": str(now), "X-Signature": "é" * 64},
    }[case.signing]
    return im.post(case.body, headers=headers)


def hmac_hex(secret: str, timestamp: str, body: bytes) -> str:
    """The signature of ``body`` as the platform computes it (plain ``hmac``)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def problem_with(case: Case, outcome: Outcome) -> Optional[str]:
    """Why ``outcome`` is not acceptable for ``case``, or None."""
    status = outcome.status
    if status == 0 or status >= 500:
        return f"server error / no answer: {status}"
    if case.expect == NO_5XX:
        return None
    if case.expect == REJECTED:
        return None if 400 <= status < 500 and status != 401 else f"expected a 4xx, got {status}"
    if case.expect == UNAUTHORIZED:
        return None if status == 401 else f"expected 401, got {status}"
    try:
        answer = json.loads(outcome.text)
    except ValueError:
        return f"status {status}, not JSON"
    if case.expect == DUPLICATE:
        return None if status == 200 and answer == {"status": "duplicate"} else f"expected duplicate, got {status}"
    if case.channel == "im":
        return None if status == 200 and answer == {"status": "accepted"} else f"expected accepted, got {status}"
    if status != 200 or not isinstance(answer, list) or not answer:
        return f"expected 200 and bot messages, got {status}"
    if not all(isinstance(message, dict) and message.get("recipient_id") == case.sender for message in answer):
        return "bot messages for another recipient"
    return None


def run_all(cases: List[Case], sender: Callable[[Case], Outcome]) -> Dict[int, Outcome]:
    """Send the cases on WORKERS threads: first everything else, then the duplicates."""
    outcomes: Dict[int, Outcome] = {}
    first = [case for case in cases if case.duplicate_of is None]
    again = [case for case in cases if case.duplicate_of is not None]
    with ThreadPoolExecutor(WORKERS) as pool:
        for batch in (first, again):
            for case, outcome in zip(batch, pool.map(sender, batch)):
                outcomes[case.number] = outcome
    return outcomes


def log_size(path) -> int:
    return path.stat().st_size if path.exists() else 0


# --- tests ------------------------------------------------------------------------


def test_the_fuzz_inputs_are_reproducible_and_cover_every_category() -> None:
    cases, again = build_cases(), build_cases()
    assert [(c.body, c.expect, c.signing) for c in cases] == [(c.body, c.expect, c.signing) for c in again]
    assert len(cases) == REST_CASES + IM_CASES == 2000
    assert len({case.number for case in cases}) == 2000
    categories = {case.category.split("+")[0] for case in cases}
    assert set(TEXT_CATEGORIES) <= categories
    assert {"invalid_utf8_in_string", "invalid_utf8_in_text", "bad_signature", "duplicate_message_id",
            "attachments_string", "buyer_id_int"} <= categories
    valid_senders = [case.sender for case in cases if case.expect == ANSWERED]
    assert len(valid_senders) == len(set(valid_senders)), "every valid input starts its own conversation"


def test_two_thousand_fuzzed_inputs_never_give_a_server_error(running_bot, fake_im_platform, capsys) -> None:
    cases = build_cases()
    im = IMClient(running_bot, fake_im_platform)
    log_start = log_size(running_bot.log)
    started = time.monotonic()
    outcomes = run_all(cases, lambda case: send(case, running_bot.base_url, im))
    sent_s = time.monotonic() - started

    problems = []
    for case in cases:
        problem = problem_with(case, outcomes[case.number])
        if problem:
            problems.append(f"{case.describe()}\n    -> {problem}: {outcomes[case.number].text[:200]!r}")
    arrivals = [case for case in cases if case.check_arrival and outcomes[case.number].status == 200]
    for case in arrivals:
        if not fake_im_platform.wait_for(case.sender, 1, timeout=60):
            problems.append(f"{case.describe()}\n    -> accepted, but no reply reached the platform")
    total_s = time.monotonic() - started

    with running_bot.log.open("rb") as log:
        log.seek(log_start)
        fuzz_log = log.read().decode("utf-8", "replace")
    for match in SERVER_LOG_PROBLEMS.finditer(fuzz_log):
        problems.append(f"server log: {fuzz_log[match.start():match.start() + 1500]}")

    assert running_bot.process.poll() is None, "the bot died while fuzzing"
    assert requests.get(f"{running_bot.base_url}/", timeout=10).status_code == 200
    status = requests.get(f"{running_bot.base_url}/status", params={"token": running_bot.token}, timeout=10)
    assert status.status_code == 200
    hello = running_bot.say("fz-after-rest", "你好")
    assert hello.status_code == 200 and hello.json(), hello.text[:300]
    pushed = im.push("fz-after-im", "你好")
    assert pushed.status_code == 200 and pushed.json() == {"status": "accepted"}, pushed.text[:300]
    assert fake_im_platform.wait_for("fz-after-im", 1), "no IM reply to 你好 after fuzzing"

    counts: Dict[str, List[float]] = {}
    for case in cases:
        counts.setdefault(f"{case.channel}/{case.expect}", []).append(outcomes[case.number].seconds)
    summary = ", ".join(f"{key}: {len(times)} (mean {sum(times) / len(times):.2f} s)"
                        for key, times in sorted(counts.items()))
    with capsys.disabled():
        print(f"\nfuzz: {len(cases)} inputs sent in {sent_s:.1f} s, checked in {total_s:.1f} s "
              f"({len(arrivals)} IM replies waited for); {summary}")
    assert not problems, f"{len(problems)} fuzz inputs failed (seed {SEED}):\n" + "\n".join(problems)
