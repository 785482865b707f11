"""Time ``python -m bot.rules decide`` on a batch of generated requests.

Usage: ``python -m bot.rules.benchmark [--lines 10000]``. Prints the wall time of
the whole command (start-up, database read, parsing, deciding, writing), which
is what a caller piping a batch through it waits for. A benchmark, not a test:
it prints numbers and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Iterator, List

from bot.rules.vocabulary import (
    CATEGORY_CLASSES,
    CONDITIONS,
    FULFILLMENTS,
    PLATFORMS,
    REASONS,
    REQUESTS,
    STATUSES,
)

SEED = 20261126


def generate(count: int, now: datetime) -> Iterator[str]:
    """Varied decide lines covering every platform, request, reason and status."""
    rng = random.Random(SEED)
    combos = itertools.cycle(itertools.product(PLATFORMS, REQUESTS, REASONS))
    for index in range(count):
        platform, request, reason = next(combos)
        signed = now - timedelta(hours=rng.randint(0, 24 * 30))
        order = None if index % 50 == 0 else {
            "order_id": str(3091102086046928447 + index),
            "status": rng.choice(STATUSES),
            "signed_at": signed.isoformat(),
            "category_class": rng.choice((None,) + CATEGORY_CLASSES),
            "fulfillment": rng.choice(FULFILLMENTS),
            "amount": round(rng.uniform(5, 2000), 2),
            "free_shipping": rng.random() < 0.8,
            "shipping_insurance": rng.random() < 0.5,
            "seven_day_label": rng.choice([None, True, False]),
            "buyer_confirmed_exclusion": rng.random() < 0.3,
            "condition": rng.choice(CONDITIONS),
        }
        evidence = [{"type": "image", "url": f"https://example.invalid/{index}.jpg"}] if index % 3 else []
        yield json.dumps({"platform": platform, "request": request, "reason": reason,
                          "now": now.isoformat(), "evidence": evidence, "order": order},
                         ensure_ascii=False)


def main(argv: List[str] = None) -> int:
    """Generate the batch, pipe it through the command, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bot.rules.benchmark")
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args(argv)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    batch = "\n".join(generate(args.lines, now)) + "\n"
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "bot.rules", "decide"], input=batch,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    outputs = result.stdout.splitlines()
    errors = sum(1 for line in outputs if '"error"' in line)
    print(f"decide: {len(outputs)} lines answered for {args.lines} in, {errors} errors, "
          f"{elapsed:.2f} s wall ({len(outputs) / elapsed:,.0f} lines/s), exit {result.returncode}")
    return 0 if result.returncode == 0 and len(outputs) == args.lines else 1


if __name__ == "__main__":
    sys.exit(main())
