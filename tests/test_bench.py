"""The pure parts of ``python -m bot.bench``: percentiles, scripts, the report (no servers)."""

from __future__ import annotations

import json
import os
import re

import numpy
import pytest
import yaml

from bot.bench.__main__ import messages_per_level, parse_args
from bot.bench.machine import machine_info
from bot.bench.report import SystemResult, build_report, ratios, render_markdown, targets
from bot.bench.scripts import BenchScriptError, load_scripts, parse_scripts
from bot.bench.servers import ProcessMemory, peak_rss_bytes, process_name, process_tree
from bot.bench.stats import percentile, summarize
from conftest import PROJECT_ROOT

ORDERS = yaml.safe_load((PROJECT_ROOT / "data" / "demo" / "orders.yml").read_text(encoding="utf-8"))["orders"]


# --- percentiles and levels ---------------------------------------------------------


@pytest.mark.parametrize("pct", [0, 1, 50, 95, 99, 100])
@pytest.mark.parametrize("values", [[7.0], [3.0, 1.0], list(range(1, 101)), [5, 1, 9, 2, 2, 8, 40, 3]])
def test_percentile_matches_numpy_linear(values, pct):
    assert percentile(values, pct) == pytest.approx(numpy.percentile(values, pct))


def test_percentile_of_nothing_is_none_and_bad_pct_is_refused():
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize_counts_errors_apart_from_latencies():
    level = summarize(
        system="ours", kind="e2e", concurrency=8,
        latencies_ms=[10.0, 20.0, 30.0, 40.0], errors={"timeout": 1, "http_500": 2}, wall_s=2.0,
    )
    assert (level.sent, level.answered, level.error_count) == (7, 4, 3)
    assert level.throughput == 2.0  # answered / wall time, failures do not count
    assert level.p50_ms == 25.0 and level.max_ms == 40.0 and level.mean_ms == 25.0
    assert list(level.errors) == ["http_500", "timeout"]


def test_a_level_where_everything_failed_has_no_percentiles():
    level = summarize(system="peer", kind="nlu", concurrency=1, latencies_ms=[], errors={"http_401": 3}, wall_s=0.0)
    assert level.p95_ms is None and level.throughput == 0.0
    assert json.loads(json.dumps(level.as_dict()))["error_count"] == 3


# --- the conversation scripts -------------------------------------------------------


def test_the_bench_conversations_are_valid():
    scripts = load_scripts()
    assert len(scripts["ours"]) >= 3 and len(scripts["peer"]) >= 3
    assert all(len(conversation.turns) >= 2 for system in scripts.values() for conversation in system)
    assert all(conversation.metadata is None for conversation in scripts["peer"])


def test_our_conversations_use_demo_buyers_and_their_own_orders():
    orders = {order["order_id"]: order for order in ORDERS}
    for conversation in load_scripts()["ours"]:
        meta = conversation.metadata
        mine = [o for o in ORDERS if o["buyer_id"] == meta["buyer_id"] and o["shop_id"] == meta["shop_id"]]
        assert mine, f"{conversation.name}: no demo order of {meta}"
        assert all(o["platform"] == meta["platform"] for o in mine), conversation.name
        for number in re.findall(r"\d{9,19}|LZ[A-Z0-9]{12}", " ".join(conversation.turns)):
            assert orders[number]["buyer_id"] == meta["buyer_id"], f"{conversation.name}: {number}"


def test_our_conversations_have_typed_text_for_the_nlu_floor_and_no_handoff_request():
    for conversation in load_scripts()["ours"]:
        assert conversation.texts
        assert not any(word in turn for turn in conversation.turns for word in ("转人工", "投诉", "12315"))


def test_button_payloads_are_left_out_of_the_nlu_texts():
    scripts = parse_scripts({
        "ours": [{"name": "a", "buyer": "b", "shop": "s", "platform": "tmall", "turns": ["退货", '/inform_order{"reason": "no_reason"}']}],
        "peer": [{"name": "p", "turns": ["hi"]}],
    })
    assert scripts["ours"][0].texts == ["退货"]
    assert scripts["ours"][0].metadata == {"buyer_id": "b", "shop_id": "s", "platform": "tmall"}


@pytest.mark.parametrize(
    "raw, message",
    [
        ([], "expected a mapping"),
        ({"ours": [], "peer": [{"name": "p", "turns": ["hi"]}]}, "`ours` needs"),
        ({"ours": [{"name": "a", "turns": ["x"]}], "peer": [{"name": "p", "turns": ["hi"]}]}, "missing buyer, shop, platform"),
        ({"ours": [{"name": "a", "buyer": "b", "shop": "s", "platform": "t", "turns": []}], "peer": [{"name": "p", "turns": ["hi"]}]}, "`turns`"),
        ({"ours": [{"name": "a", "buyer": "b", "shop": "s", "platform": "t", "turns": ["x"]}], "peer": [{"turns": ["hi"]}]}, "needs a `name`"),
    ],
)
def test_malformed_scripts_say_where(raw, message):
    with pytest.raises(BenchScriptError, match=re.escape(message)):
        parse_scripts(raw)


# --- command line -------------------------------------------------------------------


def test_message_budgets_default_scale_and_fixed():
    assert messages_per_level([1, 8, 32], 1.0, None) == {1: 150, 8: 400, 32: 600}
    assert messages_per_level([1, 8, 32], 0.1, None) == {1: 15, 8: 40, 32: 60}
    assert messages_per_level([1, 8], 0.001, None) == {1: 1, 8: 1}
    assert messages_per_level([1, 8, 32], 1.0, 20) == {1: 20, 8: 20, 32: 20}


def test_command_line_options():
    args = parse_args([])
    assert (args.levels, args.train, args.peer) == ([1, 8, 32], True, True)
    args = parse_args(["--levels", "1,8", "--no-train", "--no-peer", "--messages", "20"])
    assert (args.levels, args.train, args.peer, args.messages) == ([1, 8], False, False, 20)
    with pytest.raises(SystemExit):
        parse_args(["--levels", "one"])


# --- process memory -----------------------------------------------------------------


def test_peak_memory_of_this_process_is_read_from_proc():
    assert peak_rss_bytes(os.getpid()) > 10 * 2**20
    assert process_tree(os.getpid())[0] == os.getpid()
    assert peak_rss_bytes(2**22 + 12345) is None  # no such process


@pytest.mark.parametrize(
    "cmdline, name",
    [
        ("python -m bot.serve --model m", "launcher (bot.serve)"),
        ("python -m rasa run actions --actions actions --port 1", "action server (rasa run actions)"),
        ("python -m bot.rasa_server run --model m", "Rasa server (rasa run)"),
        ("/venv/bin/python -m rasa run --enable-api", "Rasa server (rasa run)"),
    ],
)
def test_processes_are_named_by_what_they_are(cmdline, name):
    assert process_name(cmdline) == name


# --- report -------------------------------------------------------------------------


def _level(system, kind, concurrency, p50, p95, throughput, errors=None):
    return summarize(
        system=system, kind=kind, concurrency=concurrency,
        latencies_ms=[p50] * 90 + [p95] * 10, errors=errors or {}, wall_s=100 / throughput,
    )


def _report(ours_p95_at_8=100.0, ours_rate=40.0):
    ours = SystemResult(
        "ours",
        e2e=[_level("ours", "e2e", 1, 60, 80, 15), _level("ours", "e2e", 8, 90, ours_p95_at_8, ours_rate)],
        nlu=[_level("ours", "nlu", 1, 20, 30, 50)],
        training_s=95.0, training_peak_rss_bytes=2 * 2**30, model_bytes=30 * 2**20,
        memory=[ProcessMemory("Rasa server (rasa run)", 10, 1200 * 2**20)],
    )
    peer = SystemResult(
        "peer",
        e2e=[_level("peer", "e2e", 1, 30, 40, 30), _level("peer", "e2e", 8, 50, 80, 60, {"timeout": 1})],
        nlu=[_level("peer", "nlu", 1, 10, 15, 90)],
        training_s=60.0, model_bytes=25 * 2**20,
    )
    return build_report(
        machine=machine_info(), settings={"levels": [1, 8]}, ours=ours, peer=peer, notes=["a note"]
    )


def test_ratios_are_ours_over_peer_per_level():
    report = _report()
    at_8 = next(row for row in report["ratios"]["e2e"] if row["concurrency"] == 8)
    assert at_8["p95"] == pytest.approx(100 / 80, abs=0.01)
    assert at_8["throughput"] == pytest.approx(40 / 60, abs=0.01)
    assert ratios([{"concurrency": 32, "p50_ms": 1, "p95_ms": 1, "throughput": 1}], []) == []


def test_targets_met_and_not_met():
    met = {t["name"]: t["met"] for t in _report()["targets"]}
    assert list(met.values()) == [True, True, True]
    missed = _report(ours_p95_at_8=200.0, ours_rate=20.0)["targets"]
    assert [t["met"] for t in missed] == [False, False, False]
    assert "at concurrency 1" in missed[1]["measured"] or "at concurrency 8" in missed[1]["measured"]
    assert [t["met"] for t in targets([], [])] == [None, None, None]


def test_the_json_has_machine_systems_ratios_targets_and_notes():
    report = json.loads(json.dumps(_report(), ensure_ascii=False))
    assert set(report) == {"machine", "settings", "systems", "ratios", "targets", "notes"}
    assert {"cores", "cpu_model", "python", "rasa", "date"} <= set(report["machine"])
    for system in ("ours", "peer"):
        assert {"e2e", "nlu", "training_s", "model_bytes", "processes"} <= set(report["systems"][system])
        level = report["systems"][system]["e2e"][0]
        assert {"concurrency", "answered", "errors", "p50_ms", "p95_ms", "p99_ms", "throughput"} <= set(level)


def test_the_table_shows_every_level_the_ratios_memory_and_targets():
    table = render_markdown(_report())
    assert table.count("| Anxin | REST, multi-turn |") == 2
    assert "| starter bot (rasa init) | NLU only (/model/parse) | 1 |" in table
    assert "1 (timeout 1)" in table
    assert "| Rasa server (rasa run) |  | 1200 MB |" in table
    assert "### Targets" in table and "| met |" in table
    assert "- a note" in table
    header_cells = [line.count("|") for line in table.splitlines() if line.startswith("| system | what | concurrency")]
    assert header_cells == [10]


def test_the_table_without_a_peer_has_no_ratios():
    ours = SystemResult("ours", e2e=[_level("ours", "e2e", 8, 90, 100, 40)])
    report = build_report(machine=machine_info(), settings={}, ours=ours, peer=None, notes=[])
    table = render_markdown(report)
    assert "starter bot" not in table and "### Anxin / starter bot" not in table
    assert report["targets"][2]["met"] is None
