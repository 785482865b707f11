"""Scores what the model understands of a request: reason, item condition, remedy.

A labelled set (``tests/data/understanding_dev_set.yml``,
``tests/data/understanding_heldout_set.yml``, both written by sessions that never
saw the patterns or examples) has the form::

    cases:
      - text: 外套买大了一码 吊牌还在 能换小一码吗
        reason: no_reason          # or null: the message states no reason
        condition: opened_inspected
        remedy: exchange
        amount: null               # the compensation asked for, when named

Each message is parsed by the trained model the way the server parses it, and
the facts are picked from its entities exactly as the dialogue picks them
(``bot.conversation.facts.stated_facts``). A field is right when it equals the
label, null included (saying nothing when nothing was said is right too).

The held-out set is scored ``sealed``: only the totals are printed, never a
message, so it stays a set nobody tuned on.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from bot.conversation.facts import StatedFacts, stated_facts

FIELDS = ("reason", "condition", "remedy", "amount")


@dataclasses.dataclass(frozen=True)
class Case:
    """One labelled message."""

    text: str
    gold: StatedFacts


@dataclasses.dataclass(frozen=True)
class UnderstandingScore:
    """Accuracy per field, recall per reason value, and the misses (unless sealed)."""

    cases: int
    accuracy: Dict[str, float]
    reason_recall: Dict[str, float]
    misses: List[Dict[str, Any]]

    def as_json(self) -> Dict[str, Any]:
        """For results/eval.json."""
        return {"cases": self.cases, "accuracy": self.accuracy,
                "reason_recall": self.reason_recall, "misses": self.misses}


def load_cases(path: Path) -> List[Case]:
    """The cases of a labelled set (missing fields are null)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    cases = []
    for item in raw:
        amount = item.get("amount")
        cases.append(Case(
            text=str(item["text"]),
            gold=StatedFacts(
                reason=item.get("reason"), condition=item.get("condition"),
                remedy=item.get("remedy"),
                amount=float(amount) if isinstance(amount, (int, float)) else None,
            ),
        ))
    return cases


def score_facts(cases: Sequence[Case], predicted: Sequence[StatedFacts], sealed: bool) -> UnderstandingScore:
    """Compare predicted facts with the labels."""
    right = collections.Counter()
    by_reason: Dict[str, List[bool]] = collections.defaultdict(list)
    misses = []
    for case, guess in zip(cases, predicted):
        wrong = []
        for field in FIELDS:
            ok = getattr(case.gold, field) == getattr(guess, field)
            right[field] += ok
            if not ok:
                wrong.append(field)
        by_reason[str(case.gold.reason)].append(case.gold.reason == guess.reason)
        if wrong and not sealed:
            misses.append({"text": case.text, "wrong": wrong,
                           "gold": dataclasses.asdict(case.gold), "got": dataclasses.asdict(guess)})
    total = max(1, len(cases))
    return UnderstandingScore(
        cases=len(cases),
        accuracy={field: round(right[field] / total, 3) for field in FIELDS},
        reason_recall={value: round(sum(marks) / len(marks), 3) for value, marks in sorted(by_reason.items())},
        misses=misses,
    )


async def _parse_all(model_path: Path, texts: Sequence[str]) -> List[StatedFacts]:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    agent = Agent.load(str(model_path))
    facts = []
    for text in texts:
        parsed = await agent.processor.parse_message(UserMessage(text))
        facts.append(stated_facts(parsed.get("entities") or []))
    return facts


def evaluate_understanding(model_path: Path, cases_path: Path, sealed: bool = False) -> UnderstandingScore:
    """Parse every case with the model archive and score reason, condition, remedy."""
    from bot.evaluation.rasa_model import silence_debug_logs

    silence_debug_logs()
    cases = load_cases(cases_path)
    predicted = asyncio.run(_parse_all(model_path, [case.text for case in cases]))
    return score_facts(cases, predicted, sealed)


def format_understanding(name: str, result: UnderstandingScore, show_misses: int = 0) -> str:
    """A small table: accuracy per field, recall per reason value."""
    lines = [f"understanding: {name} ({result.cases} messages)"]
    lines += [f"  {field:<10} {value:.3f}" for field, value in result.accuracy.items()]
    lines.append("  reason recall: " + ", ".join(
        f"{value} {recall:.2f}" for value, recall in result.reason_recall.items()))
    for miss in result.misses[:show_misses]:
        lines.append(f"  ✗ {miss['text']}  {miss['wrong']}  gold={miss['gold']}  got={miss['got']}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m bot.evaluation.understanding CASES [--sealed] [--misses N]``."""
    import argparse

    parser = argparse.ArgumentParser(description="score reason, condition and remedy")
    parser.add_argument("cases", type=Path)
    parser.add_argument("--model", type=Path, default=Path("models/anxin.tar.gz"))
    parser.add_argument("--sealed", action="store_true", help="print totals only")
    parser.add_argument("--misses", type=int, default=0, help="print this many misses")
    args = parser.parse_args(argv)
    result = evaluate_understanding(args.model, args.cases, sealed=args.sealed)
    print(format_understanding(args.cases.name, result, 0 if args.sealed else args.misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
