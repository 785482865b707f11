"""`python -m bot.evaluation`: scores the model and two baselines on buyer messages.

Run from the project root, e.g.
    .venv/bin/python -m bot.evaluation --model models/anxin.tar.gz --no-cv
Writes results/eval.json, results/eval_errors.tsv and results/confusion_matrix.png, and
prints the comparison table. If the entity test set (tests/data/entity_test_set.yml)
exists, the entities are scored too (eval.json "entities", a second table).
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from bot.evaluation.baselines import (
    KeywordBaseline,
    TfidfLogRegBaseline,
    load_training_examples,
)
from bot.evaluation.cross_validation import run_cross_validation
from bot.evaluation.entities import evaluate_entities
from bot.evaluation.eval_set import EvalRow, load_eval_set
from bot.evaluation.rasa_model import ModelPredictions, predict_with_model
from bot.evaluation.report import (
    SystemScore,
    build_report,
    format_entity_table,
    format_table,
    write_errors,
    write_json,
)
from bot.evaluation.scoring import confusion_matrix, render_confusion_matrix, score

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "anxin.tar.gz"
DEFAULT_EVAL_FILE = (PROJECT_ROOT / "../shared/eval/real_buyer_messages.tsv").resolve()
DEFAULT_OUT = PROJECT_ROOT / "results"
NLU_DATA = PROJECT_ROOT / "data" / "nlu"
DEFAULT_ENTITY_TEST_SET = PROJECT_ROOT / "tests" / "data" / "entity_test_set.yml"


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Reads the command line; relative paths are taken from the current directory."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.evaluation",
        description="Score the Anxin NLU model and two baselines on buyer messages.",
    )
    parser.add_argument(
        "--model", type=Path, default=DEFAULT_MODEL, help="trained Rasa model archive"
    )
    parser.add_argument(
        "--eval-file",
        type=Path,
        default=DEFAULT_EVAL_FILE,
        help="labelled TSV (text, intent, source)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for eval.json, eval_errors.tsv and the PNG",
    )
    parser.add_argument(
        "--entity-test-set",
        type=Path,
        default=DEFAULT_ENTITY_TEST_SET,
        help="labelled entity cases (YAML); skipped when the file does not exist",
    )
    parser.add_argument(
        "--no-cv",
        action="store_true",
        help="skip the ~10 minute 5-fold cross-validation",
    )
    return parser.parse_args(argv)


def missing_input(args: argparse.Namespace) -> Optional[str]:
    """Says what is missing before anything slow starts, or None if all is there."""
    if not args.model.is_file():
        return (
            f"model archive not found: {args.model}. Train one with "
            "`rasa train --out models --fixed-model-name anxin` or pass --model."
        )
    if not args.eval_file.is_file():
        return f"eval file not found: {args.eval_file}. Pass --eval-file."
    if not NLU_DATA.is_dir():
        return f"training data not found: {NLU_DATA} (the baselines are trained on it)."
    return None


def score_systems(
    rows: Sequence[EvalRow], model_path: Path
) -> Tuple[List[SystemScore], ModelPredictions]:
    """Predicts every row with the model and both baselines and scores them.

    Args:
        rows: the eval rows.
        model_path: the trained Rasa model archive.

    Returns:
        The scores (model first, then keywords, then TF-IDF) and the model's raw
        predictions, which the error list and the confusion matrix need.
    """
    texts = [row.text for row in rows]
    gold = [row.label for row in rows]
    train_texts, train_intents = load_training_examples(NLU_DATA)
    keyword_intents = KeywordBaseline.from_yaml().predict(texts)
    tfidf_intents = TfidfLogRegBaseline().fit(train_texts, train_intents).predict(texts)
    predictions = predict_with_model(model_path, texts)
    systems = [
        SystemScore("anxin (DIET pipeline)", "anxin", score(gold, predictions.intents)),
        SystemScore("baseline: keywords", "keywords", score(gold, keyword_intents)),
        SystemScore(
            "baseline: tfidf+logreg", "tfidf+logreg", score(gold, tfidf_intents)
        ),
    ]
    return systems, predictions


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the evaluation.

    Args:
        argv: command-line arguments; None reads sys.argv.

    Returns:
        0 on success, 1 if an input file is missing.
    """
    args = parse_args(argv)
    problem = missing_input(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1

    rows = load_eval_set(args.eval_file)
    systems, predictions = score_systems(rows, args.model)
    cv = None
    if not args.no_cv:
        cv = run_cross_validation(PROJECT_ROOT, args.out / "cross_validation")
    confusion = confusion_matrix([row.label for row in rows], predictions.intents)
    entities = None
    if args.entity_test_set.is_file():
        entities = evaluate_entities(args.model, args.entity_test_set)

    args.out.mkdir(parents=True, exist_ok=True)
    model, keywords, tfidf = systems
    report = build_report(
        model=model,
        baselines={"keywords": keywords, "tfidf_logreg": tfidf},
        cross_validation=cv,
        median_parse_ms=predictions.median_parse_ms,
        confusion=confusion,
        entities=entities,
    )
    write_json(args.out / "eval.json", report)
    write_errors(args.out / "eval_errors.tsv", rows, predictions)
    render_confusion_matrix(
        confusion, args.out / "confusion_matrix.png", "anxin on real buyer messages"
    )
    print(format_table(systems, cv, predictions.median_parse_ms))
    if entities is not None:
        print()
        print(format_entity_table(entities))
    return 0


if __name__ == "__main__":
    sys.exit(main())
