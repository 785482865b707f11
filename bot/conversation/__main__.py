"""``python -m bot.conversation``: demo chat, the handoff queue, handing conversations back.

    python -m bot.conversation chat --buyer buyer_tm_chen   # talk to `make run` as a buyer
    python -m bot.conversation handoffs                     # open handoffs, most urgent first
    python -m bot.conversation resume ID [--agent NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from bot.conversation.chat import buyer_metadata, chat
from bot.conversation.handoffs import open_handoffs
from bot.conversation.resume import ResumeError, resume_conversation
from bot.rules.db import session_scope
from bot.settings import load_settings


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; 0 on success, 1 on a clear error."""
    parser = argparse.ArgumentParser(prog="python -m bot.conversation")
    commands = parser.add_subparsers(dest="command", required=True)
    talk = commands.add_parser("chat", help="chat with the running bot as a demo buyer")
    talk.add_argument("--buyer", required=True, help="a buyer_id of data/demo/orders.yml")
    commands.add_parser("handoffs", help="list open handoffs as JSON lines")
    resume = commands.add_parser("resume", help="hand a paused conversation back to the bot")
    resume.add_argument("conversation_id")
    resume.add_argument("--agent", default="agent", help="who hands it back")
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.command == "chat":
        try:
            metadata = buyer_metadata(args.buyer, settings.database_url)
        except LookupError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        chat(settings.rasa_url, metadata)
        return 0
    if args.command == "handoffs":
        with session_scope(settings.database_url) as session:
            for row in open_handoffs(session):
                print(json.dumps({
                    "conversation_id": row.conversation_id,
                    "reason": row.reason,
                    "priority": row.priority,
                    "decision_id": row.decision_id,
                    "channel": row.channel,
                    "created_at": row.created_at.isoformat(),
                    "answer_by": row.answer_by.isoformat() if row.answer_by else None,
                }, ensure_ascii=False))
        return 0
    try:
        resumed = resume_conversation(args.conversation_id, agent=args.agent, settings=settings)
    except ResumeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"resumed {resumed.conversation_id}: {resumed.handoffs_closed} handoff(s) closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
