"""Accuracy, macro-F1 and the confusion matrix under the eval set's scoring rules.

Every function takes gold eval labels and raw predicted intents, so the same rules
(unscored rows skipped, ask_policy allowance, unknown intents → "other") apply to the
model and to both baselines alike.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.evaluation.eval_set import OTHER, SCORED_LABELS, to_eval_label

CONFUSION_COLUMNS = SCORED_LABELS + (OTHER,)

# Fonts that render CJK, tried in order; labels are ASCII today, but a CJK font keeps
# the picture readable if a Chinese title or label is ever added.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
)


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall and F1 of one eval label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Score:
    """The headline numbers of one system on the eval set."""

    accuracy: float
    macro_f1: float
    per_label: Dict[str, LabelScore]
    n_scored: int


def scored_pairs(
    gold_labels: Sequence[str], predicted_intents: Sequence[str]
) -> List[Tuple[str, str]]:
    """Pairs each scored gold label with its predicted eval label.

    Args:
        gold_labels: eval labels, one per row, unscored labels included.
        predicted_intents: bot intents predicted for the same rows.

    Returns:
        (gold label, predicted eval label) for rows whose gold label is scored.

    Raises:
        ValueError: if the two sequences differ in length.
    """
    if len(gold_labels) != len(predicted_intents):
        raise ValueError(
            f"{len(gold_labels)} gold labels but {len(predicted_intents)} predictions"
        )
    return [
        (gold, to_eval_label(intent, gold))
        for gold, intent in zip(gold_labels, predicted_intents)
        if gold in SCORED_LABELS
    ]


def _ratio(numerator: int, denominator: int) -> float:
    """Divides, taking 0/0 as 0 as sklearn's zero_division=0 does."""
    return numerator / denominator if denominator else 0.0


def _label_score(pairs: Sequence[Tuple[str, str]], label: str) -> LabelScore:
    """Scores one label; an "other" prediction never counts as a positive for it."""
    true_positives = sum(1 for gold, pred in pairs if gold == label and pred == label)
    predicted = sum(1 for _, pred in pairs if pred == label)
    support = sum(1 for gold, _ in pairs if gold == label)
    precision = _ratio(true_positives, predicted)
    recall = _ratio(true_positives, support)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LabelScore(precision=precision, recall=recall, f1=f1, support=support)


def score(gold_labels: Sequence[str], predicted_intents: Sequence[str]) -> Score:
    """Computes accuracy and macro-F1 over the nine scored labels.

    "other" predictions lower the recall of the gold label but are not a label of
    their own, so they add no precision term and no tenth F1 to the average.

    Args:
        gold_labels: eval labels, one per row, unscored labels included.
        predicted_intents: bot intents predicted for the same rows.

    Returns:
        The score; all zeros when no row is scored.
    """
    pairs = scored_pairs(gold_labels, predicted_intents)
    per_label = {label: _label_score(pairs, label) for label in SCORED_LABELS}
    correct = sum(1 for gold, pred in pairs if gold == pred)
    return Score(
        accuracy=_ratio(correct, len(pairs)),
        macro_f1=sum(s.f1 for s in per_label.values()) / len(SCORED_LABELS),
        per_label=per_label,
        n_scored=len(pairs),
    )


def confusion_matrix(
    gold_labels: Sequence[str], predicted_intents: Sequence[str]
) -> List[List[int]]:
    """Counts scored rows by gold label (rows) and predicted eval label (columns).

    Args:
        gold_labels: eval labels, one per row, unscored labels included.
        predicted_intents: bot intents predicted for the same rows.

    Returns:
        A len(SCORED_LABELS) x len(CONFUSION_COLUMNS) matrix of counts.
    """
    matrix = [[0] * len(CONFUSION_COLUMNS) for _ in SCORED_LABELS]
    for gold, pred in scored_pairs(gold_labels, predicted_intents):
        matrix[SCORED_LABELS.index(gold)][CONFUSION_COLUMNS.index(pred)] += 1
    return matrix


def _cjk_font_family() -> List[str]:
    """Returns a font list led by an installed CJK font, if the machine has one."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in installed] + ["DejaVu Sans"]


def render_confusion_matrix(
    matrix: Sequence[Sequence[int]], path: Path, title: str
) -> None:
    """Draws the confusion matrix as a PNG with the Agg canvas (no display needed).

    Args:
        matrix: counts shaped like confusion_matrix() returns.
        path: PNG file to write; its directory must exist.
        title: heading drawn above the matrix.
    """
    with rc_context({"font.family": _cjk_font_family()}):
        figure = Figure(figsize=(9, 7.5), dpi=120)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes)
        axes.set_xticks(range(len(CONFUSION_COLUMNS)))
        axes.set_xticklabels(CONFUSION_COLUMNS, rotation=45, ha="right")
        axes.set_yticks(range(len(SCORED_LABELS)))
        axes.set_yticklabels(SCORED_LABELS)
        axes.set_xlabel("predicted")
        axes.set_ylabel("gold")
        axes.set_title(title)
        threshold = max((max(row) for row in matrix), default=0) / 2
        for row_index, row in enumerate(matrix):
            for column_index, count in enumerate(row):
                axes.text(
                    column_index,
                    row_index,
                    str(count),
                    ha="center",
                    va="center",
                    color="white" if count > threshold else "black",
                )
        figure.tight_layout()
        figure.savefig(path)
