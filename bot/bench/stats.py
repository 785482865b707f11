"""Percentiles and the summary of one measured level.

Pure functions so ``tests/test_bench.py`` can check them without servers. Latencies
are in milliseconds; only answered requests count towards the percentiles, failed
ones are counted by kind in ``errors`` (a benchmark reports failures, it never
hides them in the latency figures).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Sequence

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """The ``pct``-th percentile of ``values`` by linear interpolation (numpy's default).

    Args:
        values: the samples, in any order.
        pct: between 0 and 100.

    Returns:
        The percentile, or None when there are no samples.
    """
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {pct}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclasses.dataclass
class LevelResult:
    """What one concurrency level measured.

    Attributes:
        system: ``"ours"`` or ``"peer"``.
        kind: ``"e2e"`` (REST, whole conversations) or ``"nlu"`` (``/model/parse``).
        concurrency: number of virtual users.
        sent: requests sent.
        answered: requests answered with HTTP 200 and (for e2e) at least one reply.
        errors: failed requests by kind (``http_500``, ``timeout``, ``empty_reply`` …).
        wall_s: wall time of the level, first send to last answer.
        p50_ms, p95_ms, p99_ms, mean_ms, max_ms: latency of the answered requests.
        throughput: answered requests per second of wall time.
    """

    system: str
    kind: str
    concurrency: int
    sent: int
    answered: int
    errors: Dict[str, int]
    wall_s: float
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    mean_ms: Optional[float]
    max_ms: Optional[float]
    throughput: float

    @property
    def error_count(self) -> int:
        """All failed requests."""
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        """JSON-ready form (rounded)."""
        row = dataclasses.asdict(self)
        for key in ("wall_s", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms", "throughput"):
            if row[key] is not None:
                row[key] = round(row[key], 2)
        row["error_count"] = self.error_count
        return row


def summarize(
    *,
    system: str,
    kind: str,
    concurrency: int,
    latencies_ms: List[float],
    errors: Dict[str, int],
    wall_s: float,
) -> LevelResult:
    """Summarize one level from the latencies of its answered requests and its errors."""
    answered = len(latencies_ms)
    return LevelResult(
        system=system,
        kind=kind,
        concurrency=concurrency,
        sent=answered + sum(errors.values()),
        answered=answered,
        errors=dict(sorted(errors.items())),
        wall_s=wall_s,
        p50_ms=percentile(latencies_ms, 50),
        p95_ms=percentile(latencies_ms, 95),
        p99_ms=percentile(latencies_ms, 99),
        mean_ms=sum(latencies_ms) / answered if answered else None,
        max_ms=max(latencies_ms) if latencies_ms else None,
        throughput=answered / wall_s if wall_s > 0 else 0.0,
    )
