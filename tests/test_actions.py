"""The custom actions on tracker fixtures, against a real database.

Each test builds the ``rasa_sdk.Tracker`` the action server would receive (the
latest user message with its intent, entities and channel metadata, the slots,
the active loop, the latest action), runs the action with a
``CollectingDispatcher`` and checks the exact events returned and the
``domain.yml`` responses sent. ``actions.context.desk`` is pointed at a copy of
the rule base and demo orders loaded at the fixed ``NOW``, with the desk's
clock stopped at the same moment.
"""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
from typing import Any, Dict, Iterable, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import actions
import actions.context
from actions.aftersales_form import ActionAskOrderId, ActionAskReason, ActionAskRequestType, ValidateAftersalesForm
from actions.answers import ActionAnswerLogistics, ActionAnswerPolicy
from actions.change_of_mind import ActionCancelRequest
from actions.decision import ActionDecide, request_message
from actions.escalation import ActionHandleEscalation
from actions.evidence_form import ActionAskEvidence, ValidateEvidenceForm
from actions.handoff import ActionHandoff
from actions.slot_mappings import ActionValidateSlotMappings
from bot.conversation import handoffs
from bot.conversation.desk import AfterSalesDesk
from bot.rules import db
from bot.settings import PROJECT_ROOT
from utils.rules_db import NOW, load_demo_database, private_copy

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
CHEN = {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"}
LIN = {"buyer_id": "buyer_tg_lin", "shop_id": "demo_tmall_global", "platform": "tmall_global"}
LIU = {"buyer_id": "buyer_tm_liu", "shop_id": "demo_tmall", "platform": "tmall"}
CHEN_ORDER = "3398127465503318820"  # buyer_tm_chen's only recent order: signed, in window
LIU_EXPIRED = "3398127465503318829"  # signed 12 days ago: no-reason window over
LIN_UNSHIPPED = "4012873365920117371"  # paid_unshipped
LIN_SHIPPED = "4012873365920117370"
LIN_BONDED = "4012873365920117364"  # signed, in window, bonded
PHOTO = "https://img.example.invalid/crack.jpg"
SENDER = "conv-1"


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory) -> pathlib.Path:
    """The rule base and demo orders loaded once at NOW."""
    return load_demo_database(tmp_path_factory.mktemp("actions_db"))


@pytest.fixture
def url(loaded_db, tmp_path, monkeypatch) -> str:
    """A private copy of the loaded database (tests write decisions and handoffs)."""
    return private_copy(loaded_db, tmp_path, monkeypatch)


@pytest.fixture(autouse=True)
def desk(url, monkeypatch) -> AfterSalesDesk:
    """Point every action module's ``desk()`` at the test database and fixed clock.

    The modules do ``from actions.context import desk``, so the name is patched
    where it is used: in ``actions.context`` and in every ``actions`` module that
    imported it (found by walking the package, so a new module is covered too).
    """
    test_desk = AfterSalesDesk(url, clock=lambda: NOW)
    original = actions.context.desk
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        if getattr(module, "desk", None) is original:
            monkeypatch.setattr(module, "desk", lambda: test_desk)
    return test_desk


def tracker(
    *,
    text: str = "",
    intent: Optional[str] = None,
    entities: Optional[Dict[str, str]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    slots: Optional[Dict[str, Any]] = None,
    candidates: Optional[Dict[str, Any]] = None,
    history: Iterable[Dict[str, Any]] = (),
    active_loop: Optional[str] = None,
    latest_action_name: str = "action_listen",
    input_channel: str = "rest",
) -> Tracker:
    """The tracker the action server receives after one user message.

    Args:
        text / intent / entities / metadata: the latest user message, as parsed.
        slots: slot values (the domain's initial values fill the rest).
        candidates: slots set after the message (what Rasa hands a form's
            validation action to validate); their values are in ``slots`` too.
        history: events before the latest user message.
        active_loop: the active form, if any.
        latest_action_name: the action that ran last.
        input_channel: the channel of the latest user message.
    """
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95},
        "entities": [
            {"entity": name, "value": value, "start": 0, "end": 0, "extractor": "test"}
            for name, value in (entities or {}).items()
        ],
        "metadata": metadata or {},
    }
    events = [
        *history,
        {"event": "user", "text": text, "parse_data": parse_data,
         "metadata": metadata or {}, "input_channel": input_channel},
        *({"event": "slot", "name": name, "value": value} for name, value in (candidates or {}).items()),
    ]
    values = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
    values["requested_slot"] = None
    values.update(slots or {})
    values.update(candidates or {})
    return Tracker(
        sender_id=SENDER,
        slots=values,
        latest_message=parse_data,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=latest_action_name,
    )


def slot_history(**values: Any) -> List[Dict[str, Any]]:
    """Events of an earlier turn that set these slots."""
    return [
        {"event": "user", "text": "earlier", "parse_data": {"intent": {"name": "request_return"}}},
        *({"event": "slot", "name": name, "value": value} for name, value in values.items()),
    ]


async def run(action, **tracker_args: Any):
    """Run an action on a tracker built from ``tracker_args``: (events, dispatcher)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(**tracker_args), DOMAIN)
    return events, dispatcher


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """The names of the responses the action sent, in order."""
    return [message["response"] for message in dispatcher.messages]


def open_handoffs(url: str):
    """(conversation, reason, priority, decision id, channel) of each open handoff."""
    with db.session_scope(url) as session:
        return [
            (row.conversation_id, row.reason, row.priority, row.decision_id, row.channel)
            for row in handoffs.open_handoffs(session)
        ]


def message_params(dispatcher: CollectingDispatcher, index: int = 0) -> Dict[str, Any]:
    """The response params of one sent message (the dispatcher's own keys removed)."""
    own = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
    return {key: value for key, value in dispatcher.messages[index].items() if key not in own}


def decision_events(verdict: str, handoff_reason: Optional[str] = None, decision_id: float = 1.0):
    """What ``action_decide`` returns for a verdict."""
    return [
        SlotSet("verdict", verdict),
        SlotSet("handoff_reason", handoff_reason),
        SlotSet("decision_id", decision_id),
        SlotSet("escalation", False),
        SlotSet("order_misses", 0),
        SlotSet("asked", None),
    ]


# ------------------------------------------------------------------ slot mappings


async def test_identity_comes_from_the_channel_metadata() -> None:
    events, dispatcher = await run(ActionValidateSlotMappings(), text="你好", intent="greet", metadata=CHEN)
    assert events == [
        SlotSet("buyer_id", "buyer_tm_chen"),
        SlotSet("shop_id", "demo_tmall"),
        SlotSet("platform", "tmall"),
    ]
    assert dispatcher.messages == []


async def test_known_identity_is_not_set_again() -> None:
    events, _ = await run(ActionValidateSlotMappings(), text="你好", intent="greet", metadata=CHEN, slots=CHEN)
    assert events == []


async def test_metadata_of_the_wrong_type_sets_nothing() -> None:
    bad = {"buyer_id": ["x"], "shop_id": 7, "platform": "ebay", "attachments": "not-a-list"}
    events, _ = await run(ActionValidateSlotMappings(), text="你好", intent="greet", metadata=bad)
    assert events == []


async def test_photos_are_appended_to_the_evidence_without_duplicates() -> None:
    second = "https://img.example.invalid/label.jpg"
    attachments = [{"type": "image", "url": PHOTO}, {"type": "image", "url": second}]
    events, _ = await run(
        ActionValidateSlotMappings(), text="[图片]", intent="inform_order",
        metadata={**CHEN, "attachments": attachments}, slots={**CHEN, "evidence": [PHOTO]},
    )
    assert events == [SlotSet("evidence", [PHOTO, second])]


async def test_a_threat_is_remembered_for_the_decision() -> None:
    events, _ = await run(
        ActionValidateSlotMappings(), text="我要投诉你们", intent="threaten_escalation", slots=CHEN
    )
    assert events == [SlotSet("escalation", True)]


@pytest.mark.parametrize(
    "current, intent, text, context, expected",
    [
        (None, "request_refund", "我要退款", {}, [SlotSet("request_type", "refund")]),
        (None, "complain_quality", "杯子漏水", {}, [SlotSet("request_type", "quality_complaint")]),
        ("return", "request_exchange", "不是退货是换货", {}, [SlotSet("request_type", "exchange")]),
        ("return", "request_return", "退货", {}, []),
        # A defect described for a return explains it, whenever it is told; not a new request.
        ("return", "complain_quality", "衣服有个洞",
         {"slots": {"requested_slot": "reason"}, "active_loop": "aftersales_form"}, []),
        ("return", "complain_quality", "衣服有个洞",
         {"slots": {"requested_slot": "order_id"}, "active_loop": "aftersales_form"}, []),
        # A change of mind under a quality intent is no quality complaint (the form asks).
        (None, "complain_quality", "裙子买大了", {"entities": {"reason": "no_reason"}}, [
            SlotSet("reason", "no_reason")]),
        # The remedy named makes the request, whatever the intent.
        ("return", "complain_quality", "给我换一条", {"entities": {"remedy": "exchange"}}, [
            SlotSet("request_type", "exchange"), SlotSet("remedy", "exchange")]),
        # Request words without a request intent: 退款 while nothing is known.
        (None, "ask_logistics", "显示签收了可我没收到 给我退款", {}, [SlotSet("request_type", "refund")]),
        # A photo captioned like a complaint is the evidence we asked for.
        ("exchange", "complain_quality", "你看这个洞",
         {"active_loop": "evidence_form", "metadata": {"attachments": [{"type": "image", "url": PHOTO}]}},
         [SlotSet("evidence", [PHOTO])]),
        ("return", "complain_quality", "你看这个洞",
         {"metadata": {"attachments": [{"type": "image", "url": PHOTO}]}},
         [SlotSet("evidence", [PHOTO])]),
    ],
)
async def test_request_type_follows_what_the_buyer_now_asks(current, intent, text, context, expected) -> None:
    slots = {**CHEN, "request_type": current, **context.get("slots", {})}
    events, _ = await run(
        ActionValidateSlotMappings(), text=text, intent=intent, slots=slots,
        entities=context.get("entities"),
        metadata={**CHEN, **context.get("metadata", {})}, active_loop=context.get("active_loop"),
    )
    assert events == expected


# ------------------------------------------------------------------ after-sales form


@pytest.mark.parametrize(
    "slots, required",
    [
        ({**CHEN, "request_type": "return", "order_id": CHEN_ORDER}, ["request_type", "order_id", "reason"]),
        ({**LIN, "request_type": "refund", "order_id": LIN_UNSHIPPED}, ["request_type", "order_id"]),
        ({**LIN, "request_type": "return", "order_id": LIN_SHIPPED}, ["request_type", "order_id"]),
        ({**CHEN, "request_type": "return", "order_id": CHEN_ORDER, "reason": "no_reason"},
         ["request_type", "order_id"]),
        ({**CHEN, "request_type": "return"}, ["request_type", "order_id"]),
        ({**CHEN, "order_id": CHEN_ORDER}, ["request_type", "order_id"]),
        # Another buyer's order is not found, so no reason can change the answer.
        ({**LIU, "request_type": "return", "order_id": CHEN_ORDER}, ["request_type", "order_id"]),
    ],
)
async def test_the_reason_is_required_only_when_it_matters(slots, required) -> None:
    form = ValidateAftersalesForm()
    domain_slots = DOMAIN["forms"]["aftersales_form"]["required_slots"]
    found = await form.required_slots(domain_slots, CollectingDispatcher(), tracker(slots=slots), DOMAIN)
    assert found == required


async def test_the_only_recent_order_is_assumed_and_said() -> None:
    events, dispatcher = await run(
        ValidateAftersalesForm(), text="我要退货", intent="request_return",
        slots={**CHEN, "request_type": "return"}, active_loop="aftersales_form",
    )
    assert events == [SlotSet("order_id", CHEN_ORDER), SlotSet("order_misses", 0)]
    assert responses(dispatcher) == ["utter_order_assumed"]
    assert message_params(dispatcher) == {"order_id": CHEN_ORDER, "item": "连衣裙"}


@pytest.mark.parametrize("who", [LIN, {}], ids=["several recent orders", "no buyer id"])
async def test_no_order_is_assumed_without_exactly_one_recent_order(who) -> None:
    events, dispatcher = await run(
        ValidateAftersalesForm(), text="我要退货", intent="request_return",
        slots={**who, "request_type": "return"}, active_loop="aftersales_form",
    )
    # Nothing filled: the turn stays the form's (a no-op slot event), which asks next.
    assert events == [SlotSet("asked", None), SlotSet("requested_slot", "order_id")]
    assert dispatcher.messages == []


async def test_another_order_forgets_the_previous_request() -> None:
    slots = {**CHEN, "request_type": "return", "order_id": CHEN_ORDER, "reason": "quality",
             "evidence": [PHOTO], "order_misses": 1.0}
    events, dispatcher = await run(
        ValidateAftersalesForm(), text="还有一个订单也想退", intent="request_return",
        slots=slots, active_loop="aftersales_form",
    )
    assert events == [
        SlotSet("reason", None),
        SlotSet("evidence", None),
        SlotSet("order_misses", 0),
        SlotSet("order_id", None),
        SlotSet("requested_slot", "order_id"),
    ]
    assert dispatcher.messages == []  # the only recent order is not assumed again


async def test_a_corrected_order_number_is_asked_again() -> None:
    slots = {**CHEN, "request_type": "return", "order_id": CHEN_ORDER, "reason": "no_reason",
             "order_misses": 1.0}
    events, _ = await run(
        ValidateAftersalesForm(), text="订单号发错了", intent="inform_order",
        slots=slots, active_loop="aftersales_form",
    )
    assert events == [
        SlotSet("order_misses", 0),
        SlotSet("order_id", None),
        SlotSet("requested_slot", "order_id"),
    ]


async def test_a_defect_told_when_asked_why_is_a_quality_reason() -> None:
    events, _ = await run(
        ValidateAftersalesForm(), text="衣服有个洞", intent="complain_quality",
        slots={**CHEN, "request_type": "return", "order_id": CHEN_ORDER, "requested_slot": "reason"},
        active_loop="aftersales_form",
    )
    assert events == [SlotSet("reason", "quality"), SlotSet("requested_slot", None)]


async def test_an_order_number_of_the_buyer_is_accepted() -> None:
    events, dispatcher = await run(
        ValidateAftersalesForm(), text=f"订单号{CHEN_ORDER}", intent="inform_order",
        entities={"order_id": CHEN_ORDER}, candidates={"order_id": CHEN_ORDER},
        slots={**CHEN, "request_type": "return", "requested_slot": "order_id"}, active_loop="aftersales_form",
    )
    # The reason matters for this order: Rasa asks for it (the form's domain order).
    assert events == [SlotSet("order_id", CHEN_ORDER), SlotSet("order_misses", 0)]
    assert dispatcher.messages == []


async def test_a_new_order_forgets_the_reason_and_evidence_of_the_old_one() -> None:
    events, _ = await run(
        ValidateAftersalesForm(), text=f"是这单{LIN_UNSHIPPED}", intent="inform_order",
        entities={"order_id": LIN_UNSHIPPED}, candidates={"order_id": LIN_UNSHIPPED},
        slots={**LIN, "request_type": "refund", "reason": "quality", "evidence": [PHOTO]},
        history=slot_history(order_id=LIN_BONDED), active_loop="aftersales_form",
    )
    # Another item: only what this message says of it holds.
    assert events == [
        SlotSet("order_id", LIN_UNSHIPPED),
        SlotSet("order_misses", 0),
        SlotSet("reason", None),
        SlotSet("stated_condition", None),
        SlotSet("remedy", None),
        SlotSet("requested_amount", None),
        SlotSet("evidence", None),
        SlotSet("requested_slot", None),  # a refund before shipping: no reason needed
    ]


async def test_an_unknown_order_is_asked_once_more_then_decided_as_unknown() -> None:
    others = "3398127465503318829"  # buyer_tm_liu's order
    asked = {**CHEN, "request_type": "return", "requested_slot": "order_id"}
    events, dispatcher = await run(
        ValidateAftersalesForm(), text=f"订单号{others}", intent="inform_order",
        entities={"order_id": others}, candidates={"order_id": others},
        slots=asked, active_loop="aftersales_form",
    )
    assert events == [
        SlotSet("order_id", None), SlotSet("order_misses", 1), SlotSet("requested_slot", "order_id")
    ]
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert message_params(dispatcher) == {"order_id": others}

    events, dispatcher = await run(
        ValidateAftersalesForm(), text=f"订单号{others}", intent="inform_order",
        entities={"order_id": others}, candidates={"order_id": others},
        slots={**asked, "order_misses": 1.0}, active_loop="aftersales_form",
    )
    assert events == [
        SlotSet("order_id", others), SlotSet("order_misses", 2), SlotSet("requested_slot", None)
    ]
    assert dispatcher.messages == []

    events, dispatcher = await run(
        ActionDecide(), text=f"订单号{others}", intent="inform_order", entities={"order_id": others},
        slots={**CHEN, "request_type": "return", "order_id": others, "order_misses": 2.0},
        latest_action_name="aftersales_form",
    )
    assert events == decision_events("handoff", "unknown_order")
    assert responses(dispatcher) == ["utter_handoff_unknown_order"]


@pytest.mark.parametrize(
    "method, value, expected",
    [
        ("validate_request_type", "exchange", "exchange"),
        ("validate_request_type", "swap", None),
        ("validate_reason", "wrong_item", "wrong_item"),
        ("validate_reason", "because", None),
    ],
)
def test_only_policy_vocabulary_is_accepted(method, value, expected) -> None:
    slot = method.replace("validate_", "")
    validate = getattr(ValidateAftersalesForm(), method)
    assert validate(value, CollectingDispatcher(), tracker(), DOMAIN) == {slot: expected}


async def test_several_recent_orders_are_offered_as_buttons() -> None:
    events, dispatcher = await run(ActionAskOrderId(), slots=LIN, latest_action_name="aftersales_form")
    [message] = dispatcher.messages
    shown = [button["payload"].split('"')[3] for button in message["buttons"][:5]]
    assert events == [SlotSet("shown_orders", shown), SlotSet("asked", {"order_id": 1})]
    assert message["response"] == "utter_pick_order"
    # six recent orders: the five newest, and a way to the others
    assert len(message["buttons"]) == 6
    assert message["buttons"][5] == {"title": "更早的订单", "payload": "更早的订单"}
    message["buttons"] = message["buttons"][:5]
    assert message["buttons"][0] == {
        "title": f"{LIN_UNSHIPPED}（保健品，待发货）",
        "payload": '/inform_order{"order_id": "%s"}' % LIN_UNSHIPPED,
    }
    for button in message["buttons"]:
        order_id = button["title"].split("（")[0]
        assert button["payload"] == '/inform_order{"order_id": "%s"}' % order_id


@pytest.mark.parametrize("who", [CHEN, {}], ids=["one recent order", "no buyer id"])
async def test_the_order_number_is_asked_plainly_otherwise(who) -> None:
    events, dispatcher = await run(ActionAskOrderId(), slots=who, latest_action_name="aftersales_form")
    assert events == [SlotSet("asked", {"order_id": 1})]
    assert responses(dispatcher) == ["utter_ask_order_id"]
    assert dispatcher.messages[0]["buttons"] == []


# ------------------------------------------------------------------ evidence form


@pytest.mark.parametrize(
    "reason, response",
    [("quality", "utter_ask_evidence"), ("missing_parts", "utter_ask_evidence_video")],
)
async def test_the_evidence_question_asks_for_what_the_reason_needs(reason, response) -> None:
    events, dispatcher = await run(
        ActionAskEvidence(), slots={**CHEN, "order_id": CHEN_ORDER, "reason": reason},
        latest_action_name="evidence_form",
    )
    assert events == [SlotSet("asked", {"evidence": 1})]
    assert responses(dispatcher) == [response]
    assert message_params(dispatcher) == {"citation": "《淘宝平台争议处理规则》第六十五条"}


@pytest.mark.parametrize("value, expected", [([PHOTO], [PHOTO]), ([], None), (PHOTO, None), (None, None)])
def test_evidence_must_be_a_non_empty_list(value, expected) -> None:
    result = ValidateEvidenceForm().validate_evidence(value, CollectingDispatcher(), tracker(), DOMAIN)
    assert result == {"evidence": expected}


# ------------------------------------------------------------------ decisions


def request_slots(who: Dict[str, str], request_type: str, order_id: str, reason: str, **more: Any):
    """The slots of a completed after-sales form."""
    return {**who, "request_type": request_type, "order_id": order_id, "reason": reason, **more}


@pytest.mark.parametrize(
    "slots, verdict, handoff_reason, sent",
    [
        (request_slots(CHEN, "return", CHEN_ORDER, "no_reason"), "approve", None, ["utter_approve_return"]),
        (request_slots(LIU, "return", LIU_EXPIRED, "no_reason"), "decline", None,
         ["utter_decline_window_expired"]),
        # The evidence form asks for the photo: action_decide itself says nothing.
        (request_slots(CHEN, "quality_complaint", CHEN_ORDER, "quality"), "need_evidence", None, []),
        # A defect with a photo and no remedy named: the buyer is offered the choice.
        (request_slots(CHEN, "quality_complaint", CHEN_ORDER, "quality", evidence=[PHOTO]),
         "approve", None, ["utter_approve_quality_choice"]),
        (request_slots(CHEN, "return", CHEN_ORDER, "health_safety"), "handoff", "health_safety",
         ["utter_handoff_health_safety"]),
        (request_slots(LIN, "exchange", LIN_UNSHIPPED, "no_reason"), "handoff", "buyer_asked",
         ["utter_handoff_change_before_shipping"]),
    ],
)
async def test_decide_sets_the_verdict_and_answers(desk, slots, verdict, handoff_reason, sent) -> None:
    events, dispatcher = await run(
        ActionDecide(), text="我要退货", intent="request_return", slots=slots,
        latest_action_name="aftersales_form",
    )
    assert events == decision_events(verdict, handoff_reason)
    assert responses(dispatcher) == sent
    [logged] = desk.decisions(SENDER)
    assert (logged["verdict"], logged["handoff_reason"]) == (verdict, handoff_reason)
    assert logged["order_id"] == slots["order_id"]


async def test_decide_fills_the_approval_with_the_orders_facts() -> None:
    _, dispatcher = await run(
        ActionDecide(), text="我要退货", intent="request_return",
        slots=request_slots(LIN, "return", LIN_BONDED, "no_reason"), latest_action_name="aftersales_form",
    )
    params = message_params(dispatcher)
    assert params["order_id"] == LIN_BONDED
    assert params["window_end"] == "12月10日 00:00"  # the shop's 15 days from 25 Nov
    assert "跨境" in params["customs"] and "保税物流中心" in params["return_address"]


async def test_the_decision_is_logged_against_the_request_not_the_reason_answer(desk) -> None:
    history = [{"event": "user", "text": "我想退货",
                "parse_data": {"intent": {"name": "request_return", "confidence": 0.91}, "entities": []}},
               {"event": "slot", "name": "request_type", "value": "return"}]
    answer = dict(text='/inform_order{"reason": "no_reason"}', intent="inform_order",
                  entities={"reason": "no_reason"}, history=history,
                  slots=request_slots(CHEN, "return", CHEN_ORDER, "no_reason"),
                  latest_action_name="aftersales_form")
    assert request_message(tracker(**answer)) == ("我想退货", "request_return", 0.91)
    await run(ActionDecide(), **answer)
    [logged] = desk.decisions(SENDER)
    assert (logged["message"], logged["intent"], logged["confidence"]) == ("我想退货", "request_return", 0.91)


async def test_a_threat_inside_the_form_keeps_the_decline_and_brings_a_person(desk) -> None:
    events, dispatcher = await run(
        ActionDecide(), text="我要退货", intent="request_return", latest_action_name="aftersales_form",
        slots=request_slots(LIU, "return", LIU_EXPIRED, "no_reason", escalation=True),
    )
    assert events == decision_events("handoff", "escalation_threat")
    assert responses(dispatcher) == ["utter_deescalate_calm", "utter_decline_window_expired"]
    [logged] = desk.decisions(SENDER)
    assert (logged["verdict"], logged["decline_reason"]) == ("decline", "window_expired")


# ------------------------------------------------------------------ escalation


async def test_escalation_after_a_decline_keeps_it_and_hands_off(desk) -> None:
    events, dispatcher = await run(
        ActionHandleEscalation(), text="再不处理我就投诉到平台", intent="threaten_escalation",
        slots=request_slots(LIU, "return", LIU_EXPIRED, "no_reason", escalation=True),
    )
    assert events == decision_events("handoff", "escalation_threat")
    assert responses(dispatcher) == ["utter_deescalate_calm", "utter_decline_window_expired"]
    [logged] = desk.decisions(SENDER)
    assert (logged["verdict"], logged["decline_reason"], logged["handoff_reason"]) == (
        "decline", "window_expired", "escalation_threat")
    assert logged["intent"] == "threaten_escalation" and "PROC.ESCALATION" in logged["rule_ids"]


async def test_escalation_on_an_approved_request_keeps_the_approval(desk) -> None:
    events, dispatcher = await run(
        ActionHandleEscalation(), text="快点处理不然投诉", intent="threaten_escalation",
        slots=request_slots(CHEN, "return", CHEN_ORDER, "no_reason", escalation=True),
    )
    assert events == decision_events("approve")
    assert responses(dispatcher) == ["utter_deescalate_calm", "utter_approve_return"]


async def test_escalation_without_a_request_hands_off_at_once(desk) -> None:
    events, dispatcher = await run(
        ActionHandleEscalation(), text="我要投诉你们", intent="threaten_escalation",
        slots={**CHEN, "escalation": True},
    )
    assert events == [
        SlotSet("verdict", "handoff"),
        SlotSet("handoff_reason", "escalation_threat"),
        SlotSet("decision_id", None),  # the handoff is not about an earlier decision
        SlotSet("escalation", False),  # the person taking over deals with this threat
    ]
    assert responses(dispatcher) == ["utter_deescalate"]
    assert desk.decisions(SENDER) == []


# ------------------------------------------------------------------ handoff


async def test_a_buyer_who_asks_for_a_person_gets_one(url) -> None:
    events, dispatcher = await run(
        ActionHandoff(), text="转人工", intent="request_human",
        # Left over from an earlier decision: not the reason of this handoff.
        slots={**CHEN, "handoff_reason": "unknown_order", "decision_id": 3.0},
    )
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff"]
    assert message_params(dispatcher) == {"answer_by": "11月28日 10:00"}  # the shop's 24 h
    assert open_handoffs(url) == [(SENDER, "buyer_asked", "normal", None, "rest")]


async def test_a_handoff_in_the_widget_tells_it_to_show_the_banner(url) -> None:
    events, dispatcher = await run(
        ActionHandoff(), text="转人工", intent="request_human", slots=CHEN, input_channel="socketio",
    )
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff"]
    assert dispatcher.messages[0]["custom"] == {"handoff": True}
    assert open_handoffs(url) == [(SENDER, "buyer_asked", "normal", None, "socketio")]


async def test_other_channels_get_no_widget_payload(url) -> None:
    _, dispatcher = await run(ActionHandoff(), text="转人工", intent="request_human", slots=CHEN)
    assert not dispatcher.messages[0].get("custom")


async def test_a_handoff_after_a_decision_carries_its_reason_and_id(url) -> None:
    slots = request_slots(CHEN, "return", CHEN_ORDER, "health_safety")
    decided, _ = await run(ActionDecide(), text="孩子吃了过敏", intent="request_return", slots=slots)
    after = {**slots, **{event["name"]: event["value"] for event in decided}}
    events, dispatcher = await run(
        ActionHandoff(), text="孩子吃了过敏", intent="request_return", slots=after,
        latest_action_name="action_decide", input_channel="im",
    )
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff_priority"]
    assert open_handoffs(url) == [(SENDER, "health_safety", "high", 1, "im")]


async def test_a_handoff_after_an_escalation_is_high_priority(url) -> None:
    events, _ = await run(
        ActionHandoff(), text="我要投诉你们", intent="threaten_escalation",
        slots={**LIN, "verdict": "handoff", "handoff_reason": "escalation_threat"},
        latest_action_name="action_handle_escalation",
    )
    assert events == [SlotSet("handoff_reason", None), ConversationPaused()]
    assert open_handoffs(url) == [(SENDER, "escalation_threat", "high", None, "rest")]


# ------------------------------------------------------------------ questions


async def test_policy_answer_shows_the_shops_15_day_promise() -> None:
    events, dispatcher = await run(ActionAnswerPolicy(), text="你们能退货吗", intent="ask_policy", slots=LIN)
    assert events == []
    assert responses(dispatcher) == ["utter_policy_answer"]
    params = message_params(dispatcher)
    assert params["shop"] == "安心海外旗舰店"
    assert "15天" in params["window"] and "本店承诺" in params["citation"]


async def test_policy_answer_follows_the_named_order_to_its_shop() -> None:
    _, dispatcher = await run(
        ActionAnswerPolicy(), text=f"{LIN_BONDED}这单能退吗", intent="ask_policy",
        entities={"order_id": LIN_BONDED}, slots={"buyer_id": "buyer_tg_lin"},
    )
    assert message_params(dispatcher)["window"] == "签收次日零点起15天内"


async def test_policy_answer_without_a_shop_uses_the_platform_default() -> None:
    _, dispatcher = await run(
        ActionAnswerPolicy(), text="能退货吗", intent="ask_policy", slots={"platform": "taobao"}
    )
    params = message_params(dispatcher)
    assert (params["shop"], params["window"], params["timer"]) == ("淘宝店铺", "签收次日零点起7天内", "36小时")


@pytest.mark.parametrize(
    "slots, entities, sent, events",
    [
        (LIN, {"order_id": LIN_SHIPPED}, ["utter_logistics_shipped"], [SlotSet("order_id", LIN_SHIPPED)]),
        ({**LIN, "order_id": LIN_UNSHIPPED}, {}, ["utter_logistics_paid_unshipped"],
         [SlotSet("order_id", LIN_UNSHIPPED)]),
        (CHEN, {}, ["utter_logistics_signed"], [SlotSet("order_id", CHEN_ORDER)]),  # the only recent order
        # Several recent orders: the three newest.
        (LIN, {}, ["utter_logistics_paid_unshipped", "utter_logistics_shipped", "utter_logistics_signed"],
         []),
        ({}, {}, ["utter_ask_order_id"], []),
    ],
)
async def test_logistics_answer(slots, entities, sent, events) -> None:
    got, dispatcher = await run(ActionAnswerLogistics(), text="到哪了", intent="ask_logistics",
                                slots=slots, entities=entities)
    assert got == events
    assert responses(dispatcher) == sent


async def test_logistics_of_a_signed_order_says_when() -> None:
    _, dispatcher = await run(ActionAnswerLogistics(), text="到哪了", intent="ask_logistics", slots=CHEN)
    assert message_params(dispatcher) == {"order_id": CHEN_ORDER, "item": "连衣裙", "signed": "11月24日 12:40"}


async def test_logistics_never_shows_another_buyers_order() -> None:
    _, dispatcher = await run(ActionAnswerLogistics(), text="到哪了", intent="ask_logistics",
                              slots=CHEN, entities={"order_id": LIU_EXPIRED})
    shown = [message_params(dispatcher, i)["order_id"] for i in range(len(dispatcher.messages))]
    assert shown == [CHEN_ORDER]  # the buyer's own order instead


# ------------------------------------------------------------------ change of mind


async def test_cancelling_forgets_the_request_but_keeps_the_order() -> None:
    events, dispatcher = await run(
        ActionCancelRequest(), text="算了不退了", intent="deny",
        slots=request_slots(CHEN, "return", CHEN_ORDER, "quality", evidence=[PHOTO]),
    )
    assert events == [SlotSet(slot, None) for slot in (
        "request_type", "reason", "evidence", "stated_condition", "remedy", "requested_amount",
        "asked", "shown_orders")]
    assert responses(dispatcher) == ["utter_request_cancelled"]


@pytest.mark.parametrize("text, slots, sent", [
    # "不是" alone withdraws nothing: the request stays, the bot asks how to go on.
    ("不是", {}, ["utter_keep_request"]),
    # "不用退" after asking for a reshipped part confirms it; nothing is withdrawn.
    ("音箱本身没问题 不用退", {"remedy": "reship"}, ["utter_keep_request"]),
    # Photos awaited: "现在拍不了" keeps the request open.
    ("现在拍不了", {"verdict": "need_evidence"}, ["utter_evidence_later"]),
])
async def test_only_the_buyers_own_words_withdraw_a_request(text, slots, sent) -> None:
    events, dispatcher = await run(
        ActionCancelRequest(), text=text, intent="deny",
        slots={**request_slots(CHEN, "return", CHEN_ORDER, "quality"), **slots},
    )
    assert events == []
    assert responses(dispatcher) == sent


async def test_cancelling_nothing_asks_what_else() -> None:
    events, dispatcher = await run(ActionCancelRequest(), text="不用了", intent="deny", slots=CHEN)
    assert events == []
    assert responses(dispatcher) == ["utter_anything_else"]


def test_every_action_module_uses_the_test_desk(desk) -> None:
    """The harness itself: no action may reach the real database or the real clock."""
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        if hasattr(module, "desk"):
            assert module.desk() is desk, module.__name__


# ------------------------------------------------------------------ never ask twice, never lose a fact


async def test_a_product_picks_the_order_and_the_bot_says_which() -> None:
    events, dispatcher = await run(
        ValidateAftersalesForm(), text="面霜那单想退", intent="request_return",
        entities={"product": "面霜"}, slots={**LIN, "request_type": "return"}, active_loop="aftersales_form",
    )
    assert SlotSet("order_id", LIN_BONDED) in events
    assert responses(dispatcher) == ["utter_order_picked"]
    assert message_params(dispatcher) == {"order_id": LIN_BONDED, "item": "面霜"}


async def test_a_place_in_the_list_shown_answers_it() -> None:
    shown = [LIN_UNSHIPPED, LIN_SHIPPED, LIN_BONDED]
    events, _ = await run(
        ValidateAftersalesForm(), text="第二个", intent="inform_order",
        slots={**LIN, "request_type": "refund", "shown_orders": shown, "requested_slot": "order_id"},
        active_loop="aftersales_form",
    )
    assert SlotSet("order_id", LIN_SHIPPED) in events and SlotSet("shown_orders", None) in events


async def test_earlier_orders_are_the_next_five_and_no_new_question() -> None:
    _, first = await run(ActionAskOrderId(), slots=LIN, latest_action_name="aftersales_form")
    shown = [button["payload"].split('"')[3] for button in first.messages[0]["buttons"][:5]]
    events, dispatcher = await run(
        ActionAskOrderId(), text="更早的订单", intent="inform_order",
        slots={**LIN, "shown_orders": shown, "asked": {"order_id": 1}}, latest_action_name="aftersales_form",
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_pick_order_more"
    rest = [button["payload"].split('"')[3] for button in message["buttons"]]
    assert rest and not set(rest) & set(shown)
    assert events == [SlotSet("shown_orders", rest)]  # asking for more is not a second question


@pytest.mark.parametrize("action, slot, again", [
    (ActionAskOrderId(), "order_id", "utter_pick_order_buttons"),
    (ActionAskReason(), "reason", "utter_ask_reason_buttons"),
    (ActionAskRequestType(), "request_type", "utter_ask_request_type_buttons"),
])
async def test_a_question_comes_back_as_buttons_then_goes_to_a_person(action, slot, again) -> None:
    events, dispatcher = await run(action, slots={**LIN, "asked": {slot: 1}}, latest_action_name="aftersales_form")
    assert responses(dispatcher) == [again] and dispatcher.messages[0]["buttons"]
    assert SlotSet("asked", {slot: 2}) in events
    events, dispatcher = await run(action, slots={**LIN, "asked": {slot: 2}}, latest_action_name="aftersales_form")
    assert dispatcher.messages == []
    assert events == [SlotSet("handoff_reason", "low_confidence"), SlotSet("requested_slot", None)]
    events, _ = await run(ActionDecide(), slots={**LIN, "handoff_reason": "low_confidence"},
                          latest_action_name="aftersales_form")
    assert events == [SlotSet("verdict", "handoff"), SlotSet("asked", None)]


async def test_after_a_photo_the_request_question_says_it_arrived() -> None:
    _, dispatcher = await run(ActionAskRequestType(), slots={**CHEN, "evidence": [PHOTO]},
                              latest_action_name="aftersales_form")
    assert responses(dispatcher) == ["utter_ask_request_type_evidence"]


async def test_a_threat_with_a_reason_but_no_request_word_finds_the_order_and_decides() -> None:
    events, dispatcher = await run(
        ActionHandleEscalation(), text="太重了 不想要了 退 不让退我就投诉", intent="threaten_escalation",
        entities={"reason": "no_reason"}, slots=CHEN,
    )
    assert events == [SlotSet("request_type", "return"), FollowupAction("aftersales_form")]
    assert dispatcher.messages == []  # the decision carries the calm words


async def test_how_do_i_return_saying_what_and_why_is_the_request() -> None:
    events, dispatcher = await run(
        ActionAnswerPolicy(), text="鞋子挤脚 怎么退", intent="ask_policy", entities={"reason": "no_reason"},
        slots={**CHEN, "request_type": "return"},
    )
    assert events == [FollowupAction("aftersales_form")] and dispatcher.messages == []


async def test_a_follow_up_is_answered_from_the_decision_and_a_repeat_logs_nothing(desk) -> None:
    slots = request_slots(CHEN, "return", CHEN_ORDER, "no_reason")
    events, _ = await run(ActionDecide(), text="不想要了", intent="request_return", slots=slots,
                          latest_action_name="aftersales_form")
    decided = {**slots, "decision_id": 1.0, "verdict": "approve"}
    events, dispatcher = await run(ActionAnswerLogistics(), text="退款多久到账", intent="ask_logistics",
                                   slots=decided)
    assert responses(dispatcher) == ["utter_followup_refund_return"] and events == []
    events, dispatcher = await run(ActionDecide(), text="上门取件吗", intent="request_return", slots=decided,
                                   latest_action_name="aftersales_form")
    assert responses(dispatcher) == ["utter_followup_pickup"]
    assert events == decision_events("approve", None, 1.0)  # the same decision, not a new one
    assert len(desk.decisions(SENDER)) == 1
