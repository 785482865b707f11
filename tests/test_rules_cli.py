"""``python -m bot.rules``: the commands as a shop's staff and scripts run them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from typing import Dict, List

import pytest
import yaml

from bot.rules import db, model, repository
from bot.settings import PROJECT_ROOT
from utils.rules_db import NOW, copy_data, edit_yaml, order_row

NOW_ARG = NOW.isoformat()


@pytest.fixture
def env(tmp_path) -> Dict[str, str]:
    """The environment of a deployment whose DATABASE_URL is a fresh SQLite file."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'anxin.db'}"}


def run(env: Dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.rules", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def order_count(env: Dict[str, str]) -> int:
    from sqlalchemy import func, select

    from bot.rules.schema import OrderRow

    with db.session_scope(env["DATABASE_URL"]) as session:
        return session.execute(select(func.count()).select_from(OrderRow)).scalar_one()


def shipped_rows() -> Dict[str, int]:
    """How many law, procedure and platform rows the shipped rule files hold."""
    data = PROJECT_ROOT / "data" / "rules"
    law = yaml.safe_load((data / "law.yml").read_text(encoding="utf-8"))["law"]
    procedure = yaml.safe_load((data / "procedure.yml").read_text(encoding="utf-8"))["procedure"]
    platforms = yaml.safe_load((data / "platforms.yml").read_text(encoding="utf-8"))["defaults"]
    return {"law": len(law), "procedure": len(procedure), "platform": len(platforms)}


def shipped_rule_rows() -> int:
    """Rule rows in the shipped files: law, procedure and platform rows."""
    return sum(shipped_rows().values())


def test_load_is_idempotent_and_prints_counts(env) -> None:
    rows = shipped_rule_rows()
    first = run(env, "load", "--now", NOW_ARG)
    assert first.returncode == 0, first.stderr
    assert f"rules: {rows} ({rows} new" in first.stdout
    assert "orders: " in first.stdout and "loaded" in first.stdout

    second = run(env, "load", "--now", NOW_ARG)
    assert second.returncode == 0, second.stderr
    assert f"rules: {rows} (0 new, 0 changed, 0 removed)" in second.stdout
    assert "already up to date" in second.stdout


def test_orders_import_good_files(env, tmp_path) -> None:
    assert run(env, "load", "--now", NOW_ARG).returncode == 0
    rows = [order_row(), order_row(order_id="3398127400000000002", shop_id="brand_new_shop")]
    json_file = tmp_path / "orders.json"
    json_file.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    yaml_file = tmp_path / "orders.yml"
    yaml_file.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")

    first = run(env, "orders", "import", str(json_file), "--now", NOW_ARG)
    assert first.returncode == 0, first.stderr
    assert "2 inserted, 0 updated, 0 unchanged" in first.stdout
    assert "brand_new_shop" in first.stdout

    again = run(env, "orders", "import", str(yaml_file), "--now", NOW_ARG)
    assert again.returncode == 0, again.stderr
    assert "0 inserted, 0 updated, 2 unchanged" in again.stdout


def test_orders_import_bad_file_imports_nothing(env, tmp_path) -> None:
    assert run(env, "load", "--now", NOW_ARG).returncode == 0
    before = order_count(env)
    bad = tmp_path / "bad.yml"
    rows = [order_row(order_id="3398127400000000003"), order_row(status="delivered")]
    bad.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")

    result = run(env, "orders", "import", str(bad))
    assert_one_line_error(result, "bad.yml", "row 2", "'status'", "delivered")
    assert order_count(env) == before


def test_orders_import_unreadable_files(env, tmp_path) -> None:
    assert_one_line_error(run(env, "orders", "import", str(tmp_path / "nope.json")), "no such file")
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    assert_one_line_error(run(env, "orders", "import", str(broken)), "broken.json", "cannot parse")
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("order_id: 1\n", encoding="utf-8")
    assert_one_line_error(run(env, "orders", "import", str(mapping)), "expected a list")


def test_rules_validate_good_and_bad_dirs(env, tmp_path) -> None:
    good = run(env, "rules", "validate")
    assert good.returncode == 0, good.stderr
    rows = shipped_rows()
    assert good.stdout.startswith(
        f"ok: {rows['law']} law rows, {rows['procedure']} procedure rows, {rows['platform']} platform rows"
    )

    data = copy_data(tmp_path)
    edit_yaml(
        data / "rules" / "platforms.yml",
        lambda content: content["defaults"][1].__setitem__("unit", "minutes"),
    )
    bad = run(env, "rules", "validate", "--data", str(data))
    assert_one_line_error(bad, "platforms.yml", "defaults row 2 (TG.NO_REASON_WINDOW)", "'unit'")


def test_rules_export_groups_rows_by_scope(env) -> None:
    assert run(env, "load", "--now", NOW_ARG).returncode == 0
    as_json = run(env, "rules", "export", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    grouped = json.loads(as_json.stdout)
    assert list(grouped)[0] == "law"
    assert set(grouped) == {"law", "procedure", "tmall_global", "tmall", "taobao", "jd_international", "lazada"}
    tmall = {row["key"]: row for row in grouped["tmall"]}
    assert tmall["seller_response"]["value"] == 36 and tmall["seller_response"]["unit"] == "hours"
    assert "七日" in json.dumps(grouped["law"], ensure_ascii=False)

    as_yaml = run(env, "rules", "export")
    assert as_yaml.returncode == 0, as_yaml.stderr
    assert yaml.safe_load(as_yaml.stdout) == grouped
    assert "消费者权益保护法" in as_yaml.stdout  # readable, not \u escapes


def test_decisions_prints_json_lines_oldest_first(env) -> None:
    assert run(env, "load", "--now", NOW_ARG).returncode == 0
    with db.session_scope(env["DATABASE_URL"]) as session:
        for minutes, verdict in ((0, "need_evidence"), (3, "approve")):
            repository.log_decision(
                session,
                conversation_id="buyer-42",
                message="耳机左边没声音",
                intent="complain_quality",
                confidence=0.88,
                request={"platform": "taobao", "request": "quality_complaint", "reason": "quality"},
                order_id="2087465512093348717",
                decision=model.Decision(
                    verdict=verdict,
                    shipping_payer="seller" if verdict == "approve" else "none",
                    rule_ids=("LAW.CRPL.24", "TB.QUALITY_WINDOW"),
                ),
                now=NOW.replace(minute=minutes),
            )
    result = run(env, "decisions", "--conversation", "buyer-42")
    assert result.returncode == 0, result.stderr
    lines: List[dict] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["verdict"] for line in lines] == ["need_evidence", "approve"]
    for key in ("verdict", "shipping_payer", "decline_reason", "handoff_reason", "rule_ids",
                "deadline", "conversation_id", "message", "intent", "confidence", "created_at"):
        assert key in lines[0]
    assert "耳机左边没声音" in result.stdout

    empty = run(env, "decisions", "--conversation", "nobody")
    assert (empty.returncode, empty.stdout) == (0, "")


@pytest.mark.skipif(
    importlib.util.find_spec("bot.rules.contract") is None, reason="bot.rules.contract not written yet"
)
def test_decide_answers_one_line_per_input(env) -> None:
    assert run(env, "load", "--now", NOW_ARG).returncode == 0
    good = {
        "platform": "tmall",
        "request": "return",
        "reason": "no_reason",
        "now": "2026-11-27T10:00:00+08:00",
        "evidence": [],
        "order": {"order_id": "1", "status": "signed", "signed_at": "2026-11-25T15:00:00+08:00"},
    }
    # No "now" (the clock is used) and only a category: the lexicon gives the class.
    flowers = {key: value for key, value in good.items() if key != "now"}
    flowers["order"] = {**good["order"], "category": "鲜花礼盒"}
    lines_in = [good, "not json", {**good, "order": None}, flowers]
    stdin = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines_in)
    result = run(env, "decide", stdin=stdin + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["verdict"] in ("approve", "need_evidence", "decline", "handoff")
    assert "error" in lines[1]
    assert lines[2]["handoff_reason"] == "unknown_order"
    assert lines[3]["decline_reason"] == "statutory_excluded"


def test_errors_are_one_line_without_traceback(env, tmp_path) -> None:
    missing = run(env, "rules", "validate", "--data", str(tmp_path / "nowhere"))
    assert_one_line_error(missing, "sources.yml", "file is missing")
    bad_now = run(env, "load", "--now", "yesterday")
    assert_one_line_error(bad_now, "--now")
