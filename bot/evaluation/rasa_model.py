"""Runs a trained Rasa model archive over messages, the way the server would parse them.

Going through `Agent.parse_message` (not the NLU graph directly) means the
FallbackClassifier and our custom components behave exactly as in production, so an
`nlu_fallback` here is an `nlu_fallback` a buyer would get.
"""

import asyncio
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import structlog
from rasa.core.agent import Agent


@dataclass(frozen=True)
class ModelPredictions:
    """What the model said for each message, and how fast."""

    intents: List[str]
    confidences: List[float]
    median_parse_ms: float


async def parse_texts(agent: Agent, texts: Sequence[str]) -> ModelPredictions:
    """Parses messages one at a time, timing each as a single buyer message.

    Args:
        agent: an agent with a loaded model.
        texts: the messages.

    Returns:
        Intent name and confidence per message (an empty name if the model gave no
        intent), and the median parse time; the median keeps the first call's
        warm-up from distorting the figure.
    """
    intents: List[str] = []
    confidences: List[float] = []
    durations_ms: List[float] = []
    for text in texts:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        durations_ms.append((time.perf_counter() - started) * 1000)
        intent = parsed.get("intent") or {}
        intents.append(intent.get("name") or "")
        confidences.append(float(intent.get("confidence") or 0.0))
    return ModelPredictions(
        intents=intents,
        confidences=confidences,
        median_parse_ms=statistics.median(durations_ms) if durations_ms else 0.0,
    )


def silence_debug_logs() -> None:
    """Stops Rasa from echoing every parsed message to stdout.

    Only the rasa CLI configures structlog; used as a library, structlog's default
    prints Rasa's debug events, one per parse with the message text, and eval messages
    must not end up in terminals or CI logs.
    """
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )


def predict_with_model(model_path: Path, texts: Sequence[str]) -> ModelPredictions:
    """Loads a model archive and parses the messages with it.

    Args:
        model_path: a `rasa train` archive such as models/anxin.tar.gz.
        texts: the messages.

    Returns:
        The predictions, in the order of `texts`.
    """
    silence_debug_logs()
    agent = Agent.load(str(model_path))
    return asyncio.run(parse_texts(agent, texts))
