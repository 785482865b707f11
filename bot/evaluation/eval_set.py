"""The labelled real-buyer messages and the mapping from bot intents to their labels.

The eval set uses coarser labels than the bot (see ../shared/eval/README.md), so every
prediction is translated here before it is scored. The file is for measuring only: it
is read at run time and never copied into the repository.
"""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import List

EXPECTED_HEADER = ["text", "intent", "source"]

SCORED_LABELS = (
    "refund",
    "return",
    "exchange",
    "quality_complaint",
    "logistics",
    "escalation",
    "human_handoff",
    "greet",
    "thanks",
)
UNSCORED_LABELS = ("order_status", "other")

# A prediction that maps to none of the scored labels; it is always wrong.
OTHER = "other"

INTENT_TO_LABEL = {
    "request_refund": "refund",
    "request_return": "return",
    "request_exchange": "exchange",
    "complain_quality": "quality_complaint",
    "ask_logistics": "logistics",
    "threaten_escalation": "escalation",
    "request_human": "human_handoff",
    "greet": "greet",
    "thank": "thanks",
}

# The eval labels fold "how do I return / when is my refund" questions into these
# three labels, where the bot says ask_policy; the README lets that count as correct.
POLICY_INTENT = "ask_policy"
POLICY_ALLOWED_LABELS = frozenset({"refund", "return", "exchange"})


@dataclass(frozen=True)
class EvalRow:
    """One labelled buyer message."""

    text: str
    label: str
    source: str

    @property
    def is_scored(self) -> bool:
        """Whether the row counts in accuracy and F1 (order_status/other do not)."""
        return self.label in SCORED_LABELS


def load_eval_set(path: Path) -> List[EvalRow]:
    """Reads the eval TSV, keeping unscored rows so counts match the file.

    Args:
        path: TSV file with the header `text<TAB>intent<TAB>source`.

    Returns:
        The rows in file order.

    Raises:
        ValueError: if the header differs, a row has the wrong number of columns, or a
            label is neither scored nor known-unscored (a typo would silently shrink
            the scored set otherwise).
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != EXPECTED_HEADER:
            raise ValueError(f"{path}: expected header {EXPECTED_HEADER}, got {header}")
        rows = []
        for line_number, fields in enumerate(reader, start=2):
            if not fields:
                continue
            if len(fields) != len(EXPECTED_HEADER):
                raise ValueError(
                    f"{path}:{line_number}: expected 3 tab-separated fields, "
                    f"got {len(fields)}"
                )
            text, label, source = fields
            if label not in SCORED_LABELS and label not in UNSCORED_LABELS:
                raise ValueError(f"{path}:{line_number}: unknown label {label!r}")
            rows.append(EvalRow(text=text, label=label, source=source))
    return rows


def to_eval_label(intent: str, gold_label: str) -> str:
    """Translates a predicted bot intent into an eval label for one row.

    Args:
        intent: the intent the system predicted (any name, including nlu_fallback).
        gold_label: the row's eval label, needed for the ask_policy allowance.

    Returns:
        One of SCORED_LABELS, or OTHER when the intent has no eval label.
    """
    if intent == POLICY_INTENT and gold_label in POLICY_ALLOWED_LABELS:
        return gold_label
    return INTENT_TO_LABEL.get(intent, OTHER)
