"""Entity scoring of `python -m bot.evaluation`, on hand-made cases."""

from __future__ import annotations

import pytest

from bot.evaluation.entities import (
    NOT_FOUND,
    EntityCase,
    GoldEntity,
    Span,
    entity_report,
    gold_spans,
    load_entity_test_set,
    match_entities,
    parse_cases,
    percentile,
    predicted_spans,
    score_entities,
    values_equal,
)
from bot.evaluation.report import build_report, format_entity_table


def test_load_entity_test_set_reads_cases(tmp_path) -> None:
    path = tmp_path / "entity_test_set.yml"
    path.write_text(
        "cases:\n"
        "  - text: 上周五收到的，订单287654321098\n"
        "    now: 2026-11-26T10:00:00+08:00\n"  # unquoted: YAML makes it a datetime
        "    entities:\n"
        "      - {entity: days, text: 上周五, value: 6}\n"
        "      - {entity: order_id, text: 287654321098, value: 287654321098}\n"
        "  - text: 你好\n",
        encoding="utf-8",
    )
    first, second = load_entity_test_set(path)
    assert first.now == "2026-11-26T10:00:00+08:00"
    assert first.entities[1] == GoldEntity("order_id", "287654321098", 287654321098)
    assert second == EntityCase("你好", None, ())


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        "cases: 3",
        "cases:\n  - {now: x}",
        "cases:\n  - {text: a, entities: [{value: 1}]}",
    ],
)
def test_load_entity_test_set_rejects_other_shapes(tmp_path, content) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError):
        load_entity_test_set(path)


def test_gold_span_is_the_first_occurrence_in_the_parsed_text() -> None:
    case = EntityCase(
        "衣服破了，裤子也破了，退129元",
        None,
        (
            GoldEntity("reason", "破了", "quality"),
            GoldEntity("amount", "129元", 129),
            GoldEntity("product", "帽子", "帽子"),
        ),
    )
    spans = gold_spans(case, case.text)
    assert spans[0] == Span("reason", 2, 4, "quality")
    assert spans[1] == Span("amount", 12, 16, 129)
    assert spans[2].start == NOT_FOUND


def test_gold_span_found_after_normalisation() -> None:
    case = EntityCase(
        "羽絨服退１２９元",
        None,
        (
            GoldEntity("product", "羽絨服", "羽绒服"),
            GoldEntity("amount", "１２９元", 129),
        ),
    )
    spans = gold_spans(case, "羽绒服退129元")
    assert [(s.start, s.end) for s in spans] == [(0, 3), (4, 8)]


def test_overlap_of_the_same_type_matches_each_entity_once() -> None:
    gold = [Span("reason", 2, 4, "quality"), Span("product", 0, 2, "衣服")]
    predicted = [
        Span("reason", 0, 4, "quality"),  # overlaps the gold reason
        Span("reason", 3, 5, "quality"),  # overlaps it too, but it is taken
        Span("product", 2, 4, "衣服"),  # touches the gold product, no overlap
    ]
    pairs = match_entities(gold, predicted)
    assert pairs == [(gold[0], predicted[0])]


def test_score_hand_computed_example() -> None:
    gold = [
        [Span("order_id", 3, 15, "287654321098"), Span("reason", 16, 18, "quality")],
        [Span("days", 0, 3, 6), Span("amount", 5, 9, 129)],
        [Span("product", NOT_FOUND, NOT_FOUND, "帽子")],
    ]
    predicted = [
        [Span("order_id", 3, 15, "287654321098"), Span("reason", 16, 19, "wrong_item")],
        [
            Span("days", 0, 3, 5),
            Span("amount", 5, 9, 129.0000001),
            Span("amount", 20, 24, 3.0),
        ],
        [Span("product", 0, 2, "帽子")],
    ]
    scores = score_entities(gold, predicted)

    assert (scores["order_id"].precision, scores["order_id"].recall) == (1.0, 1.0)
    assert scores["order_id"].value_accuracy == 1.0
    assert scores["reason"].f1 == 1.0 and scores["reason"].value_accuracy == 0.0
    assert scores["days"].value_accuracy == 0.0
    assert scores["amount"].precision == 0.5 and scores["amount"].recall == 1.0
    assert scores["amount"].f1 == pytest.approx(2 / 3)
    assert scores["amount"].value_accuracy == 1.0
    assert scores["product"].precision == 0.0 and scores["product"].recall == 0.0
    assert scores["tracking_number"].n_gold == 0 and scores["tracking_number"].f1 == 0.0
    everything = scores["all"]
    assert (everything.n_gold, everything.n_predicted, everything.n_matched) == (
        5,
        6,
        4,
    )
    assert everything.value_accuracy == 0.5


def test_score_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError):
        score_entities([[]], [])


@pytest.mark.parametrize(
    ("gold", "predicted", "equal"),
    [
        (129, 129.0, True),
        (129.5, 129.5000001, True),
        (129.5, 129.51, False),
        (3091234567890123456, "3091234567890123456", True),
        (3091234567890123456, 3091234567890123457, False),
        ("quality", "quality", True),
        ("SF1409283746512", "sf1409283746512", False),
        (129.0, "129", True),
        (True, 1, False),
        (None, "x", False),
    ],
)
def test_values_equal(gold, predicted, equal) -> None:
    assert values_equal(gold, predicted) is equal


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([5.0], 0.95) == 5.0
    assert percentile(list(range(1, 21)), 0.95) == 19
    assert percentile(list(range(1, 101)), 0.95) == 95


def test_report_and_table() -> None:
    scores = score_entities([[Span("days", 0, 2, 3)]], [[Span("days", 0, 2, 3)]])
    report = entity_report(scores, [1.0, 2.0, 30.0], n_cases=1)
    assert report["per_type"]["days"]["f1"] == 1.0
    assert report["median_parse_ms"] == 2.0 and report["p95_parse_ms"] == 30.0
    table = format_entity_table(report)
    assert "days" in table and "p95 30.0 ms" in table
    assert all(
        kind in table
        for kind in (
            "order_id",
            "tracking_number",
            "amount",
            "product",
            "reason",
            "all",
        )
    )


def test_build_report_carries_entities() -> None:
    from bot.evaluation.report import SystemScore
    from bot.evaluation.scoring import score

    system = SystemScore("anxin", "anxin", score(["greet"], ["greet"]))
    built = build_report(
        model=system,
        baselines={},
        cross_validation=None,
        median_parse_ms=1.0,
        confusion=[],
        entities={"n_cases": 0},
    )
    assert built["entities"] == {"n_cases": 0}


def test_predicted_spans_from_a_parse_result() -> None:
    parsed = {
        "entities": [
            {
                "entity": "amount",
                "start": 1,
                "end": 5,
                "value": 129.0,
                "confidence": 1.0,
            }
        ]
    }
    assert predicted_spans(parsed) == [Span("amount", 1, 5, 129.0)]
    assert predicted_spans({"entities": None}) == []


class _FakeProcessor:
    """Answers like MessageProcessor.parse_message and records the metadata."""

    def __init__(self) -> None:
        self.metadata = []

    async def parse_message(self, message):
        self.metadata.append(message.metadata)
        return {"text": message.text, "entities": []}


class _FakeAgent:
    def __init__(self) -> None:
        self.processor = _FakeProcessor()


async def test_parse_cases_passes_the_case_time_as_metadata() -> None:
    agent = _FakeAgent()
    cases = [
        EntityCase("上周五收到的", "2026-11-26T10:00:00+08:00", ()),
        EntityCase("你好", None, ()),
    ]
    parsed, durations = await parse_cases(agent, cases)
    assert agent.processor.metadata == [{"now": "2026-11-26T10:00:00+08:00"}, None]
    assert [p["text"] for p in parsed] == ["上周五收到的", "你好"]
    assert len(durations) == 2 and all(d >= 0 for d in durations)
