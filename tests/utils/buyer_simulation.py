"""Play the buyer-simulation suite against a running bot and score it.

Used by ``tests/test_buyer_simulations.py`` (against the bot the tests start) and,
while developing, against ``make run`` from the command line::

    .venv/bin/python tests/utils/buyer_simulation.py --token "$ANXIN_API_TOKEN" [--only ID]

The file format and the scoring rules are in ``tests/buyer_simulations/README.md``.
Each conversation is played over REST with the buyer's channel metadata; the
decisions are read from the decision log and the questions from the tracker's
bot events (their ``utter_action``).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import pathlib
import sys
import uuid
from typing import Any, Dict, Iterable, List, Optional, Sequence

import requests
import yaml

SUITE = pathlib.Path(__file__).resolve().parent.parent / "buyer_simulations"
ORDERS_FILE = SUITE / "orders.yml"
# The demo orders `make db` loads: conversations may play their buyers too.
DEMO_ORDERS_FILE = SUITE.parent.parent / "data" / "demo" / "orders.yml"
PHOTO_URL = "https://img.example.invalid/sim/{n}.jpg"
VIDEO_URL = "https://img.example.invalid/sim/{n}.mp4"
# Which question a response asks (tracker bot events carry the response name).
QUESTIONS = {
    "utter_ask_order_id": "order",
    "utter_pick_order": "order",
    "utter_pick_order_buttons": "order",
    "utter_ask_reason": "reason",
    "utter_ask_reason_buttons": "reason",
    "utter_ask_request_type": "request_type",
    "utter_ask_request_type_buttons": "request_type",
    "utter_ask_evidence": "evidence",
    "utter_ask_remedy": "remedy",
}
REPHRASE = {"utter_ask_rephrase"}
CANCELLED = "utter_request_cancelled"
DECISION_FIELDS = (
    "order_id", "request", "reason", "verdict", "shipping_payer", "decline_reason",
    "handoff_reason", "remedy", "stated_condition",
)


@dataclasses.dataclass
class Turn:
    """One buyer message: text, optional photo or video, and its own checks."""

    text: str
    photo: bool = False
    video: bool = False
    reply_has: Sequence[str] = ()
    no_new_decision: bool = False


@dataclasses.dataclass
class Conversation:
    """A scripted conversation and what must come of it."""

    id: str
    kind: str
    buyer: str
    turns: List[Turn]
    expect: List[Dict[str, Any]]
    never_ask: Sequence[str] = ()
    may_repeat: Sequence[str] = ()
    cancelled: bool = False
    source: str = ""
    shop: Optional[str] = None  # the buyer's shop, when they buy in more than one


@dataclasses.dataclass
class Result:
    """How one conversation went: the problems found (none = fully right)."""

    conversation: Conversation
    problems: List[str]
    transcript: List[str]

    @property
    def right(self) -> bool:
        return not self.problems


def load_suite(folder: pathlib.Path = SUITE) -> List[Conversation]:
    """Every conversation of ``folder/conversations/*.yml``, ids checked unique."""
    conversations: List[Conversation] = []
    for path in sorted((folder / "conversations").glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            turns = [
                Turn(text=t) if isinstance(t, str) else Turn(
                    text=str(t.get("text") or ""), photo=bool(t.get("photo")),
                    video=bool(t.get("video")), reply_has=tuple(t.get("reply_has") or ()),
                    no_new_decision=bool(t.get("no_new_decision")),
                )
                for t in raw["turns"]
            ]
            conversations.append(Conversation(
                id=raw["id"], kind=raw["kind"], buyer=raw["buyer"], turns=turns,
                expect=[{k: (str(v) if k == "order_id" and v is not None else v) for k, v in e.items()}
                        for e in raw.get("expect") or []],
                never_ask=tuple(raw.get("never_ask") or ()),
                may_repeat=tuple(raw.get("may_repeat") or ()),
                cancelled=bool(raw.get("cancelled")), source=path.name, shop=raw.get("shop"),
            ))
    ids = collections.Counter(c.id for c in conversations)
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        raise ValueError(f"conversation ids used twice: {duplicated}")
    return conversations


def buyer_identities(
    files: Sequence[pathlib.Path] = (ORDERS_FILE, DEMO_ORDERS_FILE),
) -> Dict[str, Dict[str, str]]:
    """buyer_id (and ``buyer_id@shop_id``) → that buyer's channel metadata in that shop.

    A buyer's first shop is their plain ``buyer_id``; a conversation with ``shop`` set
    plays the buyer in that shop.
    """
    identities: Dict[str, Dict[str, str]] = {}
    for path in files:
        for order in yaml.safe_load(path.read_text(encoding="utf-8"))["orders"]:
            identity = {"buyer_id": order["buyer_id"], "shop_id": order["shop_id"],
                        "platform": order["platform"]}
            identities.setdefault(order["buyer_id"], identity)
            identities.setdefault(f"{order['buyer_id']}@{order['shop_id']}", identity)
    return identities


def identity_of(conversation: "Conversation", identities: Dict[str, Dict[str, str]]) -> Dict[str, str]:
    """The channel metadata a conversation is played with."""
    if conversation.shop:
        return identities[f"{conversation.buyer}@{conversation.shop}"]
    return identities[conversation.buyer]


class Bot:
    """The running bot: REST for the buyer, the HTTP API for the tracker, the decision log."""

    def __init__(self, base_url: str, token: str, decisions) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.decisions = decisions  # conversation id -> decision log (oldest first)

    def say(self, sender: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": metadata}, timeout=60,
        )
        response.raise_for_status()
        return response.json()

    def bot_events(self, sender: str) -> List[Dict[str, Any]]:
        """The tracker's events (user and bot), oldest first."""
        response = requests.get(
            f"{self.base_url}/conversations/{sender}/tracker",
            params={"token": self.token}, timeout=60,
        )
        response.raise_for_status()
        return [e for e in response.json()["events"] if e.get("event") in ("user", "bot", "pause")]


def _matches(logged: Dict[str, Any], expected: Dict[str, Any]) -> bool:
    return all(logged.get(field) == value for field, value in expected.items())


def _decision_problems(conversation: Conversation, logged: List[Dict[str, Any]]) -> List[str]:
    if not conversation.expect:
        return [f"no decision expected, {len(logged)} logged"] if logged else []
    problems = []
    position = 0
    for expected in conversation.expect:
        while position < len(logged) and not _matches(logged[position], expected):
            position += 1
        if position == len(logged):
            problems.append(f"expected decision not logged: {expected}")
            break
        position += 1
    if logged and not _matches(logged[-1], conversation.expect[-1]):
        last = {k: logged[-1].get(k) for k in DECISION_FIELDS if logged[-1].get(k) is not None}
        problems.append(f"last decision {last} is not the expected {conversation.expect[-1]}")
    if not logged:
        problems[:] = [f"no decision logged; expected {conversation.expect}"]
    return problems


def _question_problems(conversation: Conversation, events: List[Dict[str, Any]]) -> List[str]:
    asked = collections.Counter()
    for event in events:
        kind = QUESTIONS.get((event.get("metadata") or {}).get("utter_action"))
        if event.get("event") == "bot" and kind:
            asked[kind] += 1
    problems = [f"asked for {kind} although the buyer had said it" for kind in conversation.never_ask
                if asked[kind]]
    problems += [f"asked for {kind} {n} times" for kind, n in asked.items()
                 if n > 1 and kind not in conversation.may_repeat]
    return problems


def _loop_problems(events: List[Dict[str, Any]]) -> List[str]:
    """Unanswered turns (before a person took over) and two rephrase requests in a row."""
    turns: List[Dict[str, Any]] = []
    paused = False
    for event in events:
        if event["event"] == "pause":
            paused = True
        elif event["event"] == "user":
            turns.append({"replies": [], "paused": paused})
        elif event["event"] == "bot" and turns:
            turns[-1]["replies"].append((event.get("metadata") or {}).get("utter_action"))
    problems = [f"turn {n} got no reply" for n, turn in enumerate(turns, 1)
                if not turn["replies"] and not turn["paused"]]
    rephrased = [bool(REPHRASE & set(turn["replies"])) for turn in turns]
    problems += [f"asked to rephrase twice in a row (turns {n}, {n + 1})"
                 for n, (a, b) in enumerate(zip(rephrased, rephrased[1:]), 1) if a and b]
    return problems


def play(bot: Bot, conversation: Conversation, identities: Dict[str, Dict[str, str]]) -> Result:
    """Play one conversation and score it."""
    sender = f"sim-{conversation.id}-{uuid.uuid4().hex[:6]}"
    identity = identity_of(conversation, identities)
    problems: List[str] = []
    transcript: List[str] = []
    attachments = 0
    for number, turn in enumerate(conversation.turns, start=1):
        metadata: Dict[str, Any] = dict(identity)
        if turn.photo or turn.video:
            attachments += 1
            kind, url = ("video", VIDEO_URL) if turn.video else ("image", PHOTO_URL)
            metadata["attachments"] = [{"type": kind, "url": url.format(n=attachments)}]
        before = len(bot.decisions(sender))
        replies = bot.say(sender, turn.text, metadata)
        texts = [r.get("text") or "" for r in replies]
        media = " [photo]" if turn.photo else " [video]" if turn.video else ""
        transcript.append(f"买家: {turn.text}{media}")
        transcript += [f"  安心: {t}" for t in texts if t]
        if turn.reply_has and not any(word in t for t in texts for word in turn.reply_has):
            problems.append(f"turn {number}: no reply mentions any of {list(turn.reply_has)}")
        if turn.no_new_decision and len(bot.decisions(sender)) != before:
            problems.append(f"turn {number}: a new decision was logged")
    events = bot.bot_events(sender)
    logged = bot.decisions(sender)
    problems += _decision_problems(conversation, logged)
    problems += _question_problems(conversation, events)
    problems += _loop_problems(events)
    if conversation.cancelled and not any(
        (e.get("metadata") or {}).get("utter_action") == CANCELLED for e in events
    ):
        problems.append("the withdrawal was not confirmed")
    transcript += [f"  [决定] {({k: d.get(k) for k in DECISION_FIELDS if d.get(k) is not None})}"
                   for d in logged]
    return Result(conversation, problems, transcript)


def score_table(results: Iterable[Result]) -> str:
    """Fully right / played, per kind and overall."""
    results = list(results)
    by_kind: Dict[str, List[bool]] = collections.defaultdict(list)
    for result in results:
        by_kind[result.conversation.kind].append(result.right)
    lines = [f"{'kind':<18}{'right':>7}{'played':>8}{'share':>8}"]
    for kind in sorted(by_kind):
        marks = by_kind[kind]
        lines.append(f"{kind:<18}{sum(marks):>7}{len(marks):>8}{sum(marks) / len(marks):>8.0%}")
    right = sum(r.right for r in results)
    lines.append(f"{'all':<18}{right:>7}{len(results):>8}{right / max(1, len(results)):>8.0%}")
    return "\n".join(lines)


def report(results: Iterable[Result], transcripts: bool = True) -> str:
    """The failures with their problems (and transcripts), then the score table."""
    results = list(results)
    parts = []
    for result in results:
        if result.right:
            continue
        parts.append(f"✗ {result.conversation.id} ({result.conversation.source}, {result.conversation.kind})")
        parts += [f"    - {p}" for p in result.problems]
        if transcripts:
            parts += [f"      {line}" for line in result.transcript]
    parts.append(score_table(results))
    return "\n".join(parts)


def _desk_decisions(database_url: str):
    sys.path.insert(0, str(SUITE.parent.parent))
    from bot.conversation.desk import AfterSalesDesk

    return AfterSalesDesk(database_url).decisions


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--token", required=True, help="the bot's ANXIN_API_TOKEN")
    parser.add_argument("--database-url", default=f"sqlite:///{SUITE.parent.parent / 'var' / 'anxin.db'}")
    parser.add_argument("--only", nargs="*", help="conversation ids (prefixes) to play")
    parser.add_argument("--kind", help="play one kind only")
    args = parser.parse_args(argv)
    bot = Bot(args.url, args.token, _desk_decisions(args.database_url))
    identities = buyer_identities()
    chosen = [c for c in load_suite()
              if (not args.only or any(c.id.startswith(p) for p in args.only))
              and (not args.kind or c.kind == args.kind)]
    results = [play(bot, c, identities) for c in chosen]
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
