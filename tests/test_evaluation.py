"""Tests for bot.evaluation: scoring rules, keyword baseline, TSV loader and CLI.

Expected numbers are worked out by hand in the comments, so a change to the scoring
rules shows up as a failing arithmetic check, not a silently moved headline number.
"""

import json
from pathlib import Path

import pytest

from bot.evaluation.__main__ import main
from bot.evaluation.baselines import KeywordBaseline, TfidfLogRegBaseline, normalise
from bot.evaluation.cross_validation import read_intent_report
from bot.evaluation.eval_set import (
    OTHER,
    SCORED_LABELS,
    EvalRow,
    load_eval_set,
    to_eval_label,
)
from bot.evaluation.rasa_model import ModelPredictions, parse_texts
from bot.evaluation.report import SystemScore, format_table, write_errors
from bot.evaluation.scoring import (
    CONFUSION_COLUMNS,
    confusion_matrix,
    render_confusion_matrix,
    score,
)


def test_to_eval_label_maps_intents_and_allows_ask_policy_only_where_allowed():
    assert to_eval_label("request_refund", "return") == "refund"
    assert to_eval_label("thank", "thanks") == "thanks"
    assert to_eval_label("ask_policy", "refund") == "refund"
    assert to_eval_label("ask_policy", "exchange") == "exchange"
    assert to_eval_label("ask_policy", "logistics") == OTHER
    assert to_eval_label("nlu_fallback", "refund") == OTHER
    assert to_eval_label("inform_order", "greet") == OTHER


def test_score_hand_computed_example():
    gold = ["refund", "refund", "return", "logistics", "logistics", "greet"]
    predicted = [
        "request_refund",  # refund, correct
        "ask_logistics",  # refund row predicted logistics
        "ask_policy",  # allowance: counts as return, correct
        "ask_logistics",  # correct
        "nlu_fallback",  # other: costs logistics recall only
        "greet",  # correct
    ]
    result = score(gold, predicted)

    assert result.n_scored == 6
    assert result.accuracy == pytest.approx(4 / 6)
    # refund: TP 1, predicted 1, support 2 -> P 1, R 0.5, F1 2/3
    assert result.per_label["refund"].precision == pytest.approx(1.0)
    assert result.per_label["refund"].recall == pytest.approx(0.5)
    assert result.per_label["refund"].f1 == pytest.approx(2 / 3)
    # logistics: TP 1, predicted 2 (one from the refund row), support 2 -> F1 0.5
    assert result.per_label["logistics"].precision == pytest.approx(0.5)
    assert result.per_label["logistics"].recall == pytest.approx(0.5)
    assert result.per_label["logistics"].f1 == pytest.approx(0.5)
    assert result.per_label["return"].f1 == pytest.approx(1.0)
    assert result.per_label["greet"].f1 == pytest.approx(1.0)
    # The five labels without rows and predictions score 0, and all nine are averaged.
    assert result.per_label["exchange"].f1 == 0.0
    assert result.macro_f1 == pytest.approx((2 / 3 + 1 + 0.5 + 1) / 9)


def test_unscored_rows_are_skipped_whatever_was_predicted():
    with_unscored = score(
        ["refund", "order_status", "other", "thanks"],
        ["request_refund", "request_refund", "thank", "thank"],
    )
    without = score(["refund", "thanks"], ["request_refund", "thank"])

    assert with_unscored.n_scored == 2
    assert with_unscored.accuracy == 1.0
    # Had the order_status row counted, refund precision would have dropped to 0.5.
    assert with_unscored.per_label["refund"].precision == 1.0
    assert with_unscored == without


def test_other_predictions_hurt_recall_but_no_precision():
    result = score(["refund", "refund"], ["request_refund", "out_of_scope"])

    assert result.accuracy == 0.5
    assert result.per_label["refund"].precision == 1.0
    assert result.per_label["refund"].recall == 0.5
    # No label was predicted wrongly, so every precision stays 0 or 1, never in between.
    assert all(s.precision in (0.0, 1.0) for s in result.per_label.values())


def test_ask_policy_is_wrong_outside_refund_return_exchange():
    result = score(["logistics", "return"], ["ask_policy", "ask_policy"])

    assert result.accuracy == 0.5
    assert result.per_label["logistics"].recall == 0.0
    assert result.per_label["return"].f1 == 1.0


def test_score_rejects_misaligned_inputs():
    with pytest.raises(ValueError):
        score(["refund", "return"], ["request_refund"])


def test_confusion_matrix_counts_scored_rows_with_other_column():
    gold = ["refund", "refund", "return", "order_status", "escalation"]
    predicted = [
        "request_refund",
        "nlu_fallback",
        "ask_policy",
        "greet",
        "request_human",
    ]
    matrix = confusion_matrix(gold, predicted)

    assert len(matrix) == 9 and all(len(row) == 10 for row in matrix)
    assert CONFUSION_COLUMNS[-1] == OTHER
    assert sum(map(sum, matrix)) == 4  # the order_status row is not counted
    assert matrix[0][0] == 1  # refund -> refund
    assert matrix[0][9] == 1  # refund -> other
    assert matrix[1][1] == 1  # return -> return through the ask_policy allowance
    assert matrix[5][6] == 1  # escalation -> human_handoff


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("再不处理我就打12315投诉你们", "threaten_escalation"),
        ("帮我换个真人客服", "request_human"),  # 换个 is also an exchange keyword
        ("鞋子小了想换一个大码", "request_exchange"),
        ("质量太差了，想退货", "request_return"),  # the request beats the defect report
        ("钱什么时候到账", "request_refund"),
        ("  快递到哪了？  ", "ask_logistics"),
        ("杯子收到就裂了", "complain_quality"),
        ("麻烦你了，多谢", "thank"),
        ("你好在吗", "greet"),
        ("THANK you", "thank"),  # matched after lowercasing
        ("这款有蓝色吗", "out_of_scope"),
    ],
)
def test_keyword_baseline_first_matching_rule_wins(text, intent):
    assert KeywordBaseline.from_yaml().predict_one(text) == intent


def test_keyword_rules_name_only_known_intents():
    known = {
        "request_refund", "request_return", "request_exchange", "complain_quality",
        "ask_logistics", "ask_policy", "threaten_escalation", "request_human",
        "inform_order", "greet", "goodbye", "thank", "affirm", "deny", "out_of_scope",
    }  # fmt: skip
    baseline = KeywordBaseline.from_yaml()

    assert {rule.intent for rule in baseline.rules} <= known
    assert baseline.default_intent in known
    assert len({rule.rule_id for rule in baseline.rules}) == len(baseline.rules)


def test_normalise_strips_and_lowercases():
    assert normalise("  Refund退款 \n") == "refund退款"


def test_tfidf_baseline_learns_toy_intents():
    texts = ["我要退款", "退钱给我", "快递到哪了", "物流怎么不动", "谢谢", "多谢亲"]
    intents = ["request_refund"] * 2 + ["ask_logistics"] * 2 + ["thank"] * 2
    baseline = TfidfLogRegBaseline().fit(texts, intents)

    assert baseline.predict(["退款", "快递呢", "谢谢你"]) == [
        "request_refund",
        "ask_logistics",
        "thank",
    ]


def _write_tsv(path: Path, lines: list) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_eval_set_reads_rows_and_keeps_unscored(tmp_path):
    path = _write_tsv(
        tmp_path / "eval.tsv",
        [
            "text\tintent\tsource",
            "我想退款\trefund\tmade_up:1",
            "订单状态怎么样\torder_status\tmade_up:2",
            "",
            "有发票吗\tother\tmade_up:3",
        ],
    )
    rows = load_eval_set(path)

    assert rows == [
        EvalRow("我想退款", "refund", "made_up:1"),
        EvalRow("订单状态怎么样", "order_status", "made_up:2"),
        EvalRow("有发票吗", "other", "made_up:3"),
    ]
    assert [row.is_scored for row in rows] == [True, False, False]


@pytest.mark.parametrize(
    "lines",
    [
        ["text\tlabel\tsource", "我想退款\trefund\tx"],  # wrong header
        ["text\tintent\tsource", "我想退款\trefund"],  # missing column
        ["text\tintent\tsource", "我想退款\trefnud\tx"],  # label typo
    ],
)
def test_load_eval_set_rejects_malformed_files(tmp_path, lines):
    with pytest.raises(ValueError):
        load_eval_set(_write_tsv(tmp_path / "bad.tsv", lines))


def test_read_intent_report_averages_f1_over_trained_intents_only(tmp_path):
    report = {
        "request_refund": {
            "precision": 1,
            "recall": 0.5,
            "f1-score": 0.6,
            "support": 4,
        },
        "greet": {"precision": 1, "recall": 1, "f1-score": 1.0, "support": 2},
        "nlu_fallback": {"precision": 0, "recall": 0, "f1-score": 0.0, "support": 0},
        "accuracy": 0.75,
        "macro avg": {"precision": 0.6, "recall": 0.5, "f1-score": 0.53, "support": 6},
        "weighted avg": {"precision": 1, "recall": 0.6, "f1-score": 0.7, "support": 6},
    }
    path = tmp_path / "intent_report.json"
    path.write_text(json.dumps(report), encoding="utf-8")

    assert read_intent_report(path) == (0.75, pytest.approx(0.8))


def test_cli_fails_clearly_when_model_is_missing(tmp_path, capsys):
    code = main(["--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)])

    assert code == 1
    assert "model archive not found" in capsys.readouterr().err
    assert not (tmp_path / "eval.json").exists()


def test_cli_fails_clearly_when_eval_file_is_missing(tmp_path, capsys):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    code = main(["--model", str(model), "--eval-file", str(tmp_path / "no.tsv")])

    assert code == 1
    assert "eval file not found" in capsys.readouterr().err


def test_render_confusion_matrix_writes_a_png(tmp_path):
    path = tmp_path / "cm.png"
    matrix = confusion_matrix(["refund", "greet"], ["request_refund", "nlu_fallback"])
    render_confusion_matrix(matrix, path, "test")

    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_write_errors_lists_only_wrong_scored_rows(tmp_path):
    rows = [
        EvalRow("我想退款", "refund", "made_up:1"),
        EvalRow("怎么退货", "return", "made_up:2"),
        EvalRow("快递呢", "logistics", "made_up:3"),
        EvalRow("改个地址", "order_status", "made_up:4"),
    ]
    predictions = ModelPredictions(
        intents=["request_refund", "ask_policy", "nlu_fallback", "greet"],
        confidences=[0.9, 0.8, 0.4, 0.7],
        median_parse_ms=1.0,
    )
    path = tmp_path / "errors.tsv"
    write_errors(path, rows, predictions)

    assert path.read_text(encoding="utf-8").splitlines() == [
        "text\tgold\tpredicted_intent\tpredicted_label\tconfidence\tsource",
        "快递呢\tlogistics\tnlu_fallback\tother\t0.400\tmade_up:3",
    ]


def test_format_table_lists_every_system_and_label():
    system = SystemScore("baseline: keywords", "keywords", score(["greet"], ["greet"]))
    table = format_table([system], None, 12.34)

    assert "baseline: keywords          1.000     0.111" in table  # 1/9 macro-F1
    assert all(label in table for label in SCORED_LABELS)
    assert "12.3 ms" in table


class _FakeAgent:
    """Answers like Agent.parse_message, without a model."""

    async def parse_message(self, text):
        if text == "没有意图":
            return {"text": text, "intent": None}
        return {"text": text, "intent": {"name": "greet", "confidence": 0.75}}


async def test_parse_texts_collects_intents_confidences_and_timing():
    predictions = await parse_texts(_FakeAgent(), ["你好", "没有意图"])

    assert predictions.intents == ["greet", ""]
    assert predictions.confidences == [0.75, 0.0]
    assert predictions.median_parse_ms >= 0.0
