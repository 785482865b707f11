"""``python -m bot``: the shop's command-line tools, one subcommand each.

    python -m bot report --from 2026-11-01 --to 2026-11-30 [--out results/report]
        [--endpoints endpoints.yml] [--tracker-db var/tracker.db]

    python -m bot demo

``demo`` plays ``data/demo/conversations.yml`` through the running bot (REST for
the buyers, the panel API for the agent; needs ``ANXIN_PANEL_TOKEN`` and
``ANXIN_RASA_URL`` of that bot) and prints each conversation id; exit 1 when
the bot cannot be reached or refuses a step.

``report`` writes the after-sales analytics (``report.html`` and one PNG per chart)
and prints the paths and the figures. Dates are whole days in Asia/Shanghai,
both inclusive; the default range is the last 30 days up to today. Bad dates
exit with code 2, a missing tracker or decision database with code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import pathlib
import sys
from typing import List, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot.assist.analytics import SHANGHAI, load_report, resolve_range
from bot.assist.analytics_sources import open_tracker_store
from bot.assist.report import summary_items, write_report
from bot.demo_conversations import DemoError, play_demo
from bot.settings import PROJECT_ROOT, load_settings

DEFAULT_OUT = pathlib.Path("results/report")


def _day(text: str) -> dt.date:
    """An argparse type: a YYYY-MM-DD date (argparse turns the error into exit 2)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand (more are added as ``subparsers`` entries)."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Anxin's shop tools.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = subparsers.add_parser(
        "report",
        help="after-sales analytics for a date range (HTML + PNG charts)",
        description="Write report.html and one PNG per chart for the days FROM..TO "
        "(Asia/Shanghai, inclusive; default: the last 30 days up to today).",
    )
    report.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="end", type=_day, help="last day, YYYY-MM-DD")
    report.add_argument(
        "--out", type=pathlib.Path, default=DEFAULT_OUT, help="output folder (default %(default)s)"
    )
    report.add_argument(
        "--endpoints",
        type=pathlib.Path,
        default=PROJECT_ROOT / "endpoints.yml",
        help="Rasa endpoints file naming the tracker store (default: the project's)",
    )
    report.add_argument(
        "--tracker-db", help="SQLite tracker file, replacing the endpoints file's `db`"
    )
    report.set_defaults(run=run_report, parser=report)
    demo = subparsers.add_parser(
        "demo",
        help="play the demo conversations through the running bot (for the panel and the report)",
        description="Play data/demo/conversations.yml through the bot at ANXIN_RASA_URL; "
        "the agent steps use the panel API with ANXIN_PANEL_TOKEN.",
    )
    demo.set_defaults(run=run_demo, parser=demo)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    """Play the demo conversations; print one line per conversation."""
    try:
        played = play_demo(load_settings())
    except DemoError as error:
        print(f"Could not play the demo: {error}", file=sys.stderr)
        return 1
    for conversation in played:
        print(
            f"{conversation.conversation_id}\t{conversation.name}\t"
            f"{conversation.bot_messages} bot messages, {conversation.agent_steps} agent steps"
        )
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Compute the report, write it, print the paths and the figures."""
    try:
        start, end = resolve_range(args.start, args.end, dt.datetime.now(SHANGHAI).date())
    except ValueError as error:
        args.parser.error(str(error))
    try:
        store = open_tracker_store(args.endpoints, args.tracker_db)
        report = asyncio.run(load_report(store, load_settings().database_url, start, end))
    except (FileNotFoundError, SQLAlchemyError) as error:
        print(f"Could not read the data for the report: {error}", file=sys.stderr)
        return 1
    for path in write_report(report, args.out):
        print(path)
    for label, value in summary_items(report):
        print(f"{label}：{value}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the subcommand named on the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
