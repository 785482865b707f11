"""Turns scores into the outputs: eval.json, eval_errors.tsv and the printed table.

Kept apart from scoring so the numbers can be tested without files, and so the output
formats can change without touching how anything is counted.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bot.evaluation.cross_validation import CrossValidationResult
from bot.evaluation.eval_set import SCORED_LABELS, EvalRow, to_eval_label
from bot.evaluation.rasa_model import ModelPredictions
from bot.evaluation.scoring import CONFUSION_COLUMNS, Score

ERRORS_HEADER = [
    "text",
    "gold",
    "predicted_intent",
    "predicted_label",
    "confidence",
    "source",
]


@dataclass(frozen=True)
class SystemScore:
    """One compared system: its table name, its short column name, and its score."""

    name: str
    short_name: str
    score: Score


def score_as_json(score: Score) -> Dict[str, Any]:
    """Flattens a Score into the eval.json fields.

    Args:
        score: the system's score.

    Returns:
        accuracy, macro_f1, per_label_f1 and n_scored.
    """
    return {
        "accuracy": score.accuracy,
        "macro_f1": score.macro_f1,
        "per_label_f1": {label: s.f1 for label, s in score.per_label.items()},
        "n_scored": score.n_scored,
    }


def build_report(
    *,
    model: SystemScore,
    baselines: Dict[str, SystemScore],
    cross_validation: Optional[CrossValidationResult],
    median_parse_ms: float,
    confusion: List[List[int]],
    entities: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Assembles eval.json; it holds numbers only, never buyer messages.

    Args:
        model: the Rasa model's score.
        baselines: baseline scores by JSON key.
        cross_validation: cross-validation result, or None when it was skipped.
        median_parse_ms: the model's median parse time per message.
        confusion: the model's confusion matrix.
        entities: the entity scores (bot.evaluation.entities.entity_report), or
            None when there is no entity test set.

    Returns:
        A JSON-serialisable dict.
    """
    return {
        "model": score_as_json(model.score),
        "baselines": {key: score_as_json(s.score) for key, s in baselines.items()},
        "cross_validation": (
            None
            if cross_validation is None
            else {
                "folds": cross_validation.folds,
                "accuracy": cross_validation.accuracy,
                "macro_f1": cross_validation.macro_f1,
                "report": str(cross_validation.report_path),
            }
        ),
        "median_parse_ms": median_parse_ms,
        "confusion_matrix": {
            "rows": list(SCORED_LABELS),
            "columns": list(CONFUSION_COLUMNS),
            "counts": confusion,
        },
        "entities": entities,
    }


def write_json(path: Path, report: Dict[str, Any]) -> None:
    """Writes the report as readable UTF-8 JSON."""
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")


def write_errors(
    path: Path, rows: Sequence[EvalRow], predictions: ModelPredictions
) -> None:
    """Lists the model's wrong answers on scored rows, for reading, not committing.

    Args:
        path: TSV to write (under the gitignored results directory: it quotes the
            eval messages).
        rows: the eval rows.
        predictions: the model's predictions for the same rows.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(ERRORS_HEADER)
        for row, intent, confidence in zip(
            rows, predictions.intents, predictions.confidences, strict=True
        ):
            predicted_label = to_eval_label(intent, row.label)
            if row.is_scored and predicted_label != row.label:
                writer.writerow(
                    [
                        row.text,
                        row.label,
                        intent,
                        predicted_label,
                        f"{confidence:.3f}",
                        row.source,
                    ]
                )


def format_table(
    systems: Sequence[SystemScore],
    cross_validation: Optional[CrossValidationResult],
    median_parse_ms: float,
) -> str:
    """Renders the comparison printed at the end of a run.

    Args:
        systems: the model first, then the baselines.
        cross_validation: cross-validation result, or None when it was skipped.
        median_parse_ms: the model's median parse time per message.

    Returns:
        The table as text, without a trailing newline.
    """
    lines = [f"{'':<25}{'accuracy':>8}  {'macro-F1':>8}"]
    lines += [
        f"{s.name:<25}{s.score.accuracy:>8.3f}  {s.score.macro_f1:>8.3f}"
        for s in systems
    ]
    if cross_validation is not None:
        cv = cross_validation
        name = f"cross-val ({cv.folds}-fold, ours)"
        lines.append(f"{name:<25}{cv.accuracy:>8.3f}  {cv.macro_f1:>8.3f}")
    lines.append("")
    lines.append(
        f"{'per-label F1':<20}" + "".join(f"{s.short_name:>14}" for s in systems)
    )
    for label in SCORED_LABELS:
        cells = "".join(f"{s.score.per_label[label].f1:>14.3f}" for s in systems)
        support = systems[0].score.per_label[label].support
        lines.append(f"{label:<20}{cells}   (n={support})")
    lines.append("")
    lines.append(
        f"scored rows: {systems[0].score.n_scored}; "
        f"model median parse time: {median_parse_ms:.1f} ms/message"
    )
    return "\n".join(lines)


def format_entity_table(entities: Dict[str, Any]) -> str:
    """Renders the entity scores (the "entities" block of eval.json).

    Args:
        entities: per-type scores, case count and parse times.

    Returns:
        The table as text, without a trailing newline.
    """
    header = ["precision", "recall", "F1", "value acc", "gold", "pred"]
    lines = [f"{'entity':<17}" + "".join(f"{name:>10}" for name in header)]
    for kind, s in entities["per_type"].items():
        if kind == "all":
            lines.append("")
        lines.append(
            f"{kind:<17}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['f1']:>10.3f}"
            f"{s['value_accuracy']:>10.3f}{s['n_gold']:>10}{s['n_predicted']:>10}"
        )
    lines.append("")
    lines.append(
        f"entity cases: {entities['n_cases']}; NLU parse time median "
        f"{entities['median_parse_ms']:.1f} ms, p95 {entities['p95_parse_ms']:.1f} ms"
    )
    return "\n".join(lines)
