"""Virtual users that play conversations over HTTP and time every request.

Concurrency is the number of virtual users. Each one plays whole conversations
one after the other, each under a fresh sender id (so no tracker grows without
bound and every conversation starts like a new buyer's), until the level's
message budget is spent. A request's latency is send → full HTTP response read.
Failures are counted by kind and never stop the run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence

import aiohttp

from bot.bench.scripts import Conversation
from bot.bench.stats import LevelResult, summarize

REQUEST_TIMEOUT_S = 60.0


class _Budget:
    """How many messages a level may still send (shared by its virtual users)."""

    def __init__(self, messages: int):
        self.left = messages

    def take(self) -> bool:
        """Reserve one message; False when the level is done."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


class _Recorder:
    """Latencies of answered requests and failures by kind."""

    def __init__(self) -> None:
        self.latencies_ms: List[float] = []
        self.errors: Counter = Counter()

    async def timed(
        self,
        session: aiohttp.ClientSession,
        url: str,
        payload: dict,
        expect_reply: bool,
    ) -> bool:
        """POST ``payload``; record latency or the kind of failure. True when answered."""
        started = time.perf_counter()
        try:
            async with session.post(url, json=payload) as response:
                body = await response.read()
                elapsed_ms = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    self.errors[f"http_{response.status}"] += 1
                    return False
                if expect_reply and body.strip() in (b"", b"[]"):
                    self.errors["empty_reply"] += 1
                    return False
        except asyncio.TimeoutError:
            self.errors["timeout"] += 1
            return False
        except aiohttp.ClientError as error:
            self.errors[f"connection_{type(error).__name__}"] += 1
            return False
        self.latencies_ms.append(elapsed_ms)
        return True


async def _run_users(
    concurrency: int, user: Callable[[int, aiohttp.ClientSession], "asyncio.Future"]
) -> float:
    """Run ``concurrency`` virtual users on one session; returns the wall time in seconds."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(number, session) for number in range(concurrency)))
        return time.perf_counter() - started


async def play_conversations(
    *,
    base_url: str,
    conversations: Sequence[Conversation],
    concurrency: int,
    messages: int,
    sender_prefix: str,
    system: str = "ours",
) -> LevelResult:
    """Play ``conversations`` over REST with ``concurrency`` users until ``messages`` were sent.

    Args:
        base_url: the Rasa server, e.g. ``http://127.0.0.1:5005``.
        conversations: the scripts; user ``n`` starts at script ``n`` so levels mix them.
        concurrency: virtual users.
        messages: the level's message budget (all users together).
        sender_prefix: unique per level, so no two conversations share a tracker.
        system: ``"ours"`` or ``"peer"`` (a label in the result).
    """
    url = f"{base_url}/webhooks/rest/webhook"
    budget, recorder = _Budget(messages), _Recorder()

    async def user(number: int, session: aiohttp.ClientSession) -> None:
        scripts = itertools.islice(itertools.cycle(conversations), number, None)
        for round_number, script in enumerate(scripts):
            sender = f"{sender_prefix}-u{number}-c{round_number}"
            for turn in script.turns:
                if not budget.take():
                    return
                payload: Dict[str, object] = {"sender": sender, "message": turn}
                if script.metadata:
                    payload["metadata"] = script.metadata
                if not await recorder.timed(session, url, payload, expect_reply=True):
                    break  # the rest of this conversation would not make sense

    wall_s = await _run_users(concurrency, user)
    return summarize(
        system=system, kind="e2e", concurrency=concurrency,
        latencies_ms=recorder.latencies_ms, errors=dict(recorder.errors), wall_s=wall_s,
    )


async def parse_texts(
    *,
    base_url: str,
    token: Optional[str],
    texts: Sequence[str],
    concurrency: int,
    messages: int,
    system: str = "ours",
) -> LevelResult:
    """The NLU-only floor: ``POST /model/parse`` with ``texts``, like ``play_conversations``."""
    url = f"{base_url}/model/parse" + (f"?token={token}" if token else "")
    budget, recorder = _Budget(messages), _Recorder()

    async def user(number: int, session: aiohttp.ClientSession) -> None:
        for text in itertools.islice(itertools.cycle(texts), number, None):
            if not budget.take():
                return
            await recorder.timed(session, url, {"text": text}, expect_reply=False)

    wall_s = await _run_users(concurrency, user)
    return summarize(
        system=system, kind="nlu", concurrency=concurrency,
        latencies_ms=recorder.latencies_ms, errors=dict(recorder.errors), wall_s=wall_s,
    )
