"""``python -m bot.bench``: measure the real stack and Rasa's starter bot in one run.

Steps, in order: (1) optionally train Anxin from scratch in a temporary folder to
time it; (2) ``rasa init`` the starter bot (this trains it, timed); (3) start
Anxin with ``python -m bot.serve`` on a fresh database, warm it up, play the
multi-turn conversations at each concurrency level, then the NLU-only floor;
(4) the same for the starter bot; (5) print the Markdown table and write
``results/bench.json``. Progress goes to stderr, the table to stdout.

Usage: ``python -m bot.bench [--scale 0.1 | --messages 20] [--levels 1,8,32]
[--no-train] [--no-peer] [--warmup 10] [--out results/bench.json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import secrets
import shutil
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

from bot.bench import load
from bot.bench.machine import load_average, machine_info
from bot.bench.report import SystemResult, build_report, render_markdown
from bot.bench.scripts import CONVERSATIONS_FILE, BenchScriptError, Conversation, load_scripts
from bot.bench.servers import MODEL, BenchSetupError, OurStack, PeerBot, train_ours
from bot.bench.stats import LevelResult
from bot.settings import PROJECT_ROOT

DEFAULT_LEVELS = (1, 8, 32)
DEFAULT_MESSAGES = {1: 150, 8: 400, 32: 600}
DEFAULT_WARMUP = 10
DEFAULT_OUT = PROJECT_ROOT / "results" / "bench.json"


def progress(text: str) -> None:
    """One progress line on stderr (stdout keeps only the table)."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def messages_per_level(levels: Sequence[int], scale: float, fixed: Optional[int]) -> Dict[int, int]:
    """The message budget of each level: ``fixed``, or the default size times ``scale``.

    The default is 150 messages at concurrency 1, 400 up to 8 and 600 above
    (about 8 minutes in all on 2 cores, training included).
    """
    sizes = {}
    for level in levels:
        if fixed is not None:
            sizes[level] = fixed
        else:
            default = DEFAULT_MESSAGES.get(level, 150 if level <= 1 else 400 if level <= 8 else 600)
            sizes[level] = max(1, round(default * scale))
    return sizes


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default=",".join(map(str, DEFAULT_LEVELS)),
                        help="concurrency levels (virtual users), comma-separated (default 1,8,32)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the default messages per level (150/400/600) by this, "
                        "e.g. 0.1 for a quick run")
    parser.add_argument("--messages", type=int, default=None,
                        help="send exactly this many messages at every level (overrides --scale)")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP,
                        help=f"messages sent to each server before measuring (default {DEFAULT_WARMUP})")
    parser.add_argument("--train", action=argparse.BooleanOptionalAction, default=True,
                        help="time training Anxin from scratch (about 2 minutes; --no-train skips it)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True,
                        help="measure Rasa's starter bot too (--no-peer skips it)")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="where the JSON goes")
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the temporary folder (logs, databases, trained models)")
    args = parser.parse_args(argv)
    try:
        args.levels = [int(level) for level in args.levels.split(",") if level.strip()]
    except ValueError:
        parser.error(f"--levels must be numbers separated by commas, not {args.levels!r}")
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels needs at least one level, each at least 1")
    if args.scale <= 0 or (args.messages is not None and args.messages < 1) or args.warmup < 0:
        parser.error("--scale and --messages must be positive, --warmup not negative")
    return args


def report_level(result: LevelResult) -> None:
    """One level's headline figures on stderr."""
    progress(
        f"  p50 {result.p50_ms or 0:.0f} ms, p95 {result.p95_ms or 0:.0f} ms, "
        f"{result.throughput:.1f} msg/s, {result.error_count} errors"
    )


async def measure(
    into: SystemResult,
    server,
    conversations: List[Conversation],
    sizes: Dict[int, int],
    warmup: int,
    notes: List[str],
) -> None:
    """Warm up ``server``, then every level end to end and NLU-only, into ``into``.

    Each level is added as soon as it is measured, so a Ctrl-C keeps the levels done.
    """
    system = into.system
    run_id = secrets.token_hex(3)
    if warmup:
        progress(f"{system}: warm-up, {warmup} messages")
        warm = await load.play_conversations(
            base_url=server.base_url, conversations=conversations, concurrency=1,
            messages=warmup, sender_prefix=f"bench-{run_id}-warmup", system=system,
        )
        if warm.error_count:
            notes.append(
                f"{system}: {warm.error_count} of {warm.sent} warm-up messages failed: {warm.errors}"
            )
    texts = [text for conversation in conversations for text in conversation.texts]
    for level, messages in sizes.items():
        progress(f"{system}: REST conversations, concurrency {level}, {messages} messages")
        result = await load.play_conversations(
            base_url=server.base_url, conversations=conversations, concurrency=level,
            messages=messages, sender_prefix=f"bench-{run_id}-c{level}", system=system,
        )
        report_level(result)
        into.e2e.append(result)
    for level, messages in sizes.items():
        progress(f"{system}: NLU only, concurrency {level}, {messages} messages")
        result = await load.parse_texts(
            base_url=server.base_url, token=server.token, texts=texts, concurrency=level,
            messages=messages, system=system,
        )
        report_level(result)
        into.nlu.append(result)


def run(args: argparse.Namespace) -> int:
    """The whole bench; returns the exit code."""
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 2
    try:
        scripts = load_scripts()
    except BenchScriptError as error:
        print(f"Cannot run the bench: {error}", file=sys.stderr)
        return 2
    sizes = messages_per_level(args.levels, args.scale, args.messages)
    machine = machine_info()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="anxin-bench-"))
    notes = [
        "The load generator (aiohttp, one process) runs on the same machine and shares its cores.",
        "Anxin: REST channel, action server, SQLite tracker store and rule base; "
        "starter bot: REST channel, in-memory tracker store, no custom actions.",
        "Latency is per request, send to full HTTP response; percentiles over answered requests only.",
    ]
    ours = SystemResult("ours", model_bytes=MODEL.stat().st_size)
    peer: Optional[SystemResult] = SystemResult("peer") if args.peer else None
    interrupted = False
    progress(f"workdir {workdir}; messages per level {sizes}")
    try:
        if args.train:
            progress("training Anxin from scratch (rasa train, empty cache)")
            trained = train_ours(workdir / "train")
            if trained.returncode == 0:
                ours.training_s, ours.training_peak_rss_bytes = trained.seconds, trained.peak_rss_bytes
                ours.training_note = "rasa train, empty cache"
            else:
                log = workdir / "train" / "train.log"
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
                notes.append(f"ours: rasa train failed (code {trained.returncode}); its log is above")
        else:
            ours.training_note = "--no-train"
        peer_bot = PeerBot(workdir) if peer is not None else None
        if peer_bot is not None and peer is not None:
            progress("creating and training the starter bot (rasa init --no-prompt)")
            try:
                initialised = peer_bot.init()
                peer.training_s = initialised.seconds
                peer.training_peak_rss_bytes = initialised.peak_rss_bytes
                peer.training_note = "rasa init, includes training"
                model = peer_bot.model_path()
                peer.model_bytes = model.stat().st_size if model else None
            except BenchSetupError as error:
                print(error, file=sys.stderr)
                notes.append(f"peer not measured: {str(error).splitlines()[0]}")
                peer_bot = None
        progress("starting Anxin (python -m bot.serve)")
        stack = OurStack(workdir)
        try:
            with stack:
                asyncio.run(measure(ours, stack, scripts["ours"], sizes, args.warmup, notes))
        finally:
            ours.memory = stack.memory
        if peer_bot is not None and peer is not None:
            progress("starting the starter bot (rasa run)")
            try:
                with peer_bot:
                    asyncio.run(measure(peer, peer_bot, scripts["peer"], sizes, args.warmup, notes))
            finally:
                peer.memory = peer_bot.memory
    except KeyboardInterrupt:
        interrupted = True
        notes.append("Interrupted (Ctrl-C): the figures are partial.")
    except BenchSetupError as error:
        print(f"Cannot run the bench: {error}", file=sys.stderr)
        notes.append(f"stopped early: {str(error).splitlines()[0]}")
    finally:
        if args.keep_workdir:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    machine["load_average_1m_at_end"] = load_average()
    settings = {
        "levels": args.levels,
        "messages_per_level": {str(level): n for level, n in sizes.items()},
        "warmup": args.warmup,
        "train": args.train,
        "peer": args.peer,
        "conversations": str(CONVERSATIONS_FILE.relative_to(PROJECT_ROOT)),
        "conversation_counts": {system: len(convs) for system, convs in scripts.items()},
    }
    report = build_report(machine=machine, settings=settings, ours=ours, peer=peer, notes=notes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(render_markdown(report), flush=True)
    progress(f"wrote {args.out}")
    if interrupted:
        return 130
    return 0 if ours.e2e else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point."""
    return run(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
