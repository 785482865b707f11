"""Command line of the rule base: ``python -m bot.rules …``.

Commands (each migrates the database first; cheap when it is up to date):
    load [--data data] [--now ISO]      rules YAML + demo orders → database
    decide                              JSON lines in → one decision per line out
    decisions --conversation ID         the decision log, JSON lines, oldest first
    orders import FILE                  upsert a JSON or YAML list of orders
    rules validate [--data data]        check the rule files, write nothing
    rules export [--format yaml|json]   the rule rows in the database, by scope

Errors are one line on stderr and exit code 1, never a traceback: these
commands are run by shop staff and by scripts that read the exit code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

import yaml
from sqlalchemy import select

from bot.rules import db, loader, repository, vocabulary
from bot.rules.contract import decide_lines
from bot.rules.keys import LAW_SCOPE, PROCEDURE_SCOPE
from bot.rules.lexicon import load_lexicon
from bot.rules.schema import RuleRow
from bot.rules.validation import RuleFileError
from bot.settings import PROJECT_ROOT

DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


class CommandError(Exception):
    """A user-facing failure: its message is printed as is."""


def _parse_now(text: Optional[str]) -> dt.datetime:
    """``--now`` (ISO 8601 with offset), or the current time."""
    if not text:
        return dt.datetime.now(dt.timezone.utc)
    try:
        now = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--now {text!r} is not an ISO 8601 time") from None
    if now.tzinfo is None:
        raise CommandError("--now needs a UTC offset, e.g. 2026-11-27T10:00:00+08:00")
    return now


def _dump_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def cmd_load(args: argparse.Namespace, out: TextIO) -> int:
    """Load rules, lexicon, shops and demo orders (idempotent)."""
    now = _parse_now(args.now)
    with db.session_scope(args.url) as session:
        report = loader.load_all(session, args.data, now=now)
    for line in report.lines():
        print(line, file=out)
    print("loaded" if report.changed else "already up to date", file=out)
    return 0


def cmd_decide(args: argparse.Namespace, out: TextIO) -> int:
    """One decide output line per JSON input line on stdin (DESIGN.md contract)."""
    with db.session_scope(args.url) as session:
        sets = loader.rulesets(session)
        lexicon = load_lexicon(session)
    if not sets:
        raise CommandError("the rule base is empty: run `python -m bot.rules load` first")

    def clock() -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    for line in decide_lines(sys.stdin, sets, clock, lexicon.classify):
        out.write(line.rstrip("\n") + "\n")
        out.flush()
    return 0


def cmd_decisions(args: argparse.Namespace, out: TextIO) -> int:
    """Print the conversation's decisions as JSON lines, oldest first."""
    with db.session_scope(args.url) as session:
        rows = repository.decisions_for(session, conversation_id=args.conversation)
    for row in rows:
        print(_dump_line(row), file=out)
    return 0


def _read_order_file(path: pathlib.Path) -> List[Any]:
    """A JSON or YAML list of orders (or a mapping with an ``orders`` list)."""
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        content = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise CommandError(f"{path}: cannot parse: {str(error).splitlines()[0]}") from None
    if isinstance(content, dict) and set(content) == {"orders"}:
        content = content["orders"]
    if not isinstance(content, list):
        raise CommandError(f"{path}: expected a list of orders")
    return content


def cmd_orders_import(args: argparse.Namespace, out: TextIO) -> int:
    """Upsert orders from a file; all or nothing."""
    path = pathlib.Path(args.file)
    rows = _read_order_file(path)
    with db.session_scope(args.url) as session:
        report = repository.import_orders(
            session, rows=rows, now=_parse_now(args.now), source=str(path)
        )
    print(
        f"orders: {report.inserted} inserted, {report.updated} updated, "
        f"{report.unchanged} unchanged",
        file=out,
    )
    if report.shops_created:
        print(
            "new shops with platform defaults: " + ", ".join(report.shops_created), file=out
        )
    return 0


def cmd_rules_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Validate the rule files and demo orders; write nothing."""
    base = loader.read_rule_base(args.data)
    print(f"ok: {base.summary()}", file=out)
    return 0


def cmd_rules_export(args: argparse.Namespace, out: TextIO) -> int:
    """The rule rows in the database grouped by scope (law, procedure, then the platforms)."""
    with db.session_scope(args.url) as session:
        rows = session.execute(select(RuleRow).order_by(RuleRow.rule_id)).scalars().all()
        grouped: Dict[str, List[Dict[str, Any]]] = {}
        scopes = (LAW_SCOPE, PROCEDURE_SCOPE, *vocabulary.PLATFORMS)
        rows = sorted(rows, key=lambda r: scopes.index(r.scope) if r.scope in scopes else 99)
        for row in rows:
            grouped.setdefault(row.scope, []).append(
                {
                    "rule_id": row.rule_id,
                    "key": row.key,
                    "value": row.value,
                    "unit": row.unit,
                    "counted_from": row.counted_from,
                    "source_ids": list(row.source_ids),
                    "certainty": row.certainty,
                    "note": row.note,
                }
            )
    if args.format == "json":
        out.write(json.dumps(grouped, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(yaml.safe_dump(grouped, allow_unicode=True, sort_keys=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.rules", description="Anxin rule base: load, decide, inspect."
    )
    parser.add_argument(
        "--url", help="database URL (default: DATABASE_URL or var/anxin.db)", default=None
    )
    commands = parser.add_subparsers(dest="command", required=True)

    load = commands.add_parser("load", help="load rule YAML and demo orders")
    load.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="data folder")
    load.add_argument("--now", help="ISO time the demo's relative times count from")
    load.set_defaults(run=cmd_load)

    decide = commands.add_parser("decide", help="JSON lines on stdin → decisions on stdout")
    decide.set_defaults(run=cmd_decide)

    decisions = commands.add_parser("decisions", help="print a conversation's decisions")
    decisions.add_argument("--conversation", required=True, help="conversation id")
    decisions.set_defaults(run=cmd_decisions)

    orders = commands.add_parser("orders", help="order commands").add_subparsers(
        dest="orders_command", required=True
    )
    order_import = orders.add_parser("import", help="upsert a JSON/YAML list of orders")
    order_import.add_argument("file")
    order_import.add_argument("--now", help="ISO time relative times count from")
    order_import.set_defaults(run=cmd_orders_import)

    rules = commands.add_parser("rules", help="rule file commands").add_subparsers(
        dest="rules_command", required=True
    )
    validate = rules.add_parser("validate", help="check the rule files, write nothing")
    validate.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="data folder")
    validate.set_defaults(run=cmd_rules_validate)
    export = rules.add_parser("export", help="print the rules in the database")
    export.add_argument("--format", choices=("yaml", "json"), default="yaml")
    export.set_defaults(run=cmd_rules_export)
    return parser


def main(
    argv: Optional[Sequence[str]] = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run one command; returns the exit code (0 ok, 1 error).

    Args:
        argv: arguments without the program name (default: ``sys.argv[1:]``).
        out: where results go.
        err: where the one-line error goes.

    Returns:
        The exit code.
    """
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        db.migrate(args.url)
        return run(args, out)
    except (RuleFileError, CommandError) as error:
        print("error: " + " ".join(str(error).split()), file=err)
    except KeyboardInterrupt:
        print("error: interrupted", file=err)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as error:  # noqa: BLE001 - the user gets one line, not a traceback
        detail = str(error).splitlines()[0] if str(error) else ""
        print(f"error: {type(error).__name__}: {detail}", file=err)
    return 1
