"""Hand the conversation to a person: record why, say by when, and pause the bot.

The handoff row (reason, priority, the decision behind it, the channel) is what
the agents' queue shows; ``ConversationPaused`` makes Rasa log further buyer
messages without answering them until an agent hands the conversation back
(``python -m bot.conversation resume``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.context import buyer, desk, off_loop, say
from bot.conversation.replies import handoff_reply

# Actions after which the handoff reason is the decision's, not the buyer's wish.
DECIDING_ACTIONS = ("action_decide", "action_handle_escalation")
# The chat widget (socketio channel, bot/channels/widget_socketio.py) shows a
# "人工客服已接手" banner on this custom payload. Other channels (REST, IM) get the
# text only: for them it would be a second, empty message.
WIDGET_CHANNEL = "socketio"
WIDGET_HANDOFF_PAYLOAD = {"handoff": True}


class ActionHandoff(Action):
    """Pass the conversation to a human agent."""

    def name(self) -> Text:
        """After a handoff verdict, or when the buyer asks for a person."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        """Record the handoff, tell the buyer when a person answers, pause."""
        from_decision = tracker.latest_action_name in DECIDING_ACTIONS
        reason = (tracker.get_slot("handoff_reason") if from_decision else None) or "buyer_asked"
        decision_id = tracker.get_slot("decision_id") if from_decision else None
        who = buyer(tracker)
        handoff = await off_loop(
            desk().hand_off,
            conversation_id=tracker.sender_id,
            reason=reason,
            decision_id=int(decision_id) if decision_id is not None else None,
            channel=tracker.get_latest_input_channel(),
            shop_id=who["shop_id"],
            platform=who["platform"],
        )
        rules = await off_loop(desk().rules_for, who["shop_id"], who["platform"])
        extra = {}
        if tracker.get_latest_input_channel() == WIDGET_CHANNEL:
            extra["json_message"] = dict(WIDGET_HANDOFF_PAYLOAD)
        say(dispatcher, handoff_reply(handoff, rules), **extra)
        return [SlotSet("handoff_reason", None), ConversationPaused()]
