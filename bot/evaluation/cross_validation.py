"""5-fold stratified cross-validation of the NLU pipeline on our own training data.

It tells how well the pipeline fits data like ours; set next to the real-buyer score,
the gap shows how far our examples are from how buyers actually write. We shell out to
`rasa test nlu` so the numbers are exactly what a Rasa user would reproduce.
"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Tuple

# Keys of sklearn's classification report that are summaries, not intents.
SUMMARY_KEYS = frozenset({"accuracy", "micro avg", "macro avg", "weighted avg"})


@dataclass(frozen=True)
class CrossValidationResult:
    """Cross-validated intent scores pooled over all folds."""

    folds: int
    accuracy: float
    macro_f1: float
    report_path: Path


def read_intent_report(report_path: Path) -> Tuple[float, float]:
    """Reads accuracy and macro-F1 from Rasa's intent_report.json.

    Macro-F1 is averaged over intents that occur in the training data (support > 0):
    Rasa's own "macro avg" also averages in labels that were only ever predicted,
    such as nlu_fallback, which would make it incomparable with the eval-set score,
    where such predictions only cost recall.

    Args:
        report_path: the intent_report.json that `rasa test nlu` wrote.

    Returns:
        (accuracy, macro_f1).
    """
    report = json.loads(report_path.read_text(encoding="utf-8"))
    # sklearn writes "micro avg" instead of "accuracy" when labels are a subset.
    accuracy = report.get("accuracy", report.get("micro avg", {}).get("f1-score"))
    f1_scores = [
        scores["f1-score"]
        for label, scores in report.items()
        if label not in SUMMARY_KEYS and scores.get("support", 0) > 0
    ]
    return float(accuracy), sum(f1_scores) / len(f1_scores)


def run_cross_validation(
    project_root: Path, out_dir: Path, folds: int = 5
) -> CrossValidationResult:
    """Runs `rasa test nlu --cross-validation` and reads the pooled intent report.

    Takes about ten minutes on two cores, as it trains one model per fold.

    Args:
        project_root: directory holding config.yml and data/nlu.
        out_dir: where Rasa writes its reports (e.g. results/cross_validation).
        folds: number of stratified folds.

    Returns:
        The pooled scores.

    Raises:
        subprocess.CalledProcessError: if `rasa test nlu` fails.
    """
    # The rasa next to the running interpreter is the venv's, whatever PATH says.
    rasa = Path(sys.executable).with_name("rasa")
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "cross_validation.log"
    print(f"{folds}-fold cross-validation (about 10 minutes); log: {log_path}", flush=True)
    with log_path.open("w", encoding="utf-8") as log:
        subprocess.run(
            [
                str(rasa),
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--config",
                "config.yml",
                "--cross-validation",
                "--folds",
                str(folds),
                "--out",
                str(out_dir.resolve()),
            ],
            cwd=project_root,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    report_path = out_dir / "intent_report.json"
    accuracy, macro_f1 = read_intent_report(report_path)
    return CrossValidationResult(
        folds=folds, accuracy=accuracy, macro_f1=macro_f1, report_path=report_path
    )
