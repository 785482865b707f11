"""Helpers for rule-base tests: a real SQLite database per test, data copies, snapshots."""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
import zoneinfo
from typing import Any, Callable, Dict, List, Sequence

import pytest
import yaml
from sqlalchemy import MetaData, select

from bot.conversation.desk import AfterSalesDesk
from bot.rules import db, loader, repository
from bot.settings import PROJECT_ROOT, load_settings

DATA_DIR = PROJECT_ROOT / "data"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A fixed "now" so relative demo times and windows are reproducible.
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


def use_database(tmp_path: pathlib.Path, monkeypatch: Any) -> str:
    """Point DATABASE_URL at a fresh SQLite file (as a deployment would) and migrate it.

    Returns:
        The URL, read back through ``bot.settings`` like the application does.
    """
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'anxin.db'}")
    url = load_settings().database_url
    db.migrate(url)
    return url


def copy_data(tmp_path: pathlib.Path) -> pathlib.Path:
    """A writable copy of the project's rule files and demo orders."""
    target = tmp_path / "data"
    for folder in ("rules", "demo"):
        shutil.copytree(DATA_DIR / folder, target / folder)
    return target


def edit_yaml(path: pathlib.Path, change: Callable[[Dict[str, Any]], None]) -> None:
    """Load a YAML file, let ``change`` mutate it, write it back (comments are lost)."""
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(content)
    path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")


def snapshot(url: str) -> Dict[str, List[tuple]]:
    """Every row of every table, sorted: equal snapshots mean nothing was written."""
    engine = db.engine_for(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for name, table in metadata.tables.items()
        }


def order_row(**fields: Any) -> Dict[str, Any]:
    """A valid tmall order row for imports; ``fields`` override the defaults."""
    row = {
        "order_id": "3398127400000000001",
        "buyer_id": "buyer_test",
        "shop_id": "demo_tmall",
        "platform": "tmall",
        "status": "signed",
        "signed_at": {"days_ago": 3, "at": "15:00"},
        "category": "连衣裙",
        "amount": 199.0,
    }
    row.update(fields)
    return row


def load_demo_database(directory: pathlib.Path, extra_orders: Sequence[dict] = ()) -> pathlib.Path:
    """A migrated SQLite file in ``directory`` with the rule base and demo orders at NOW.

    Build it once per session and hand each test a ``private_copy``: loading takes
    a second, copying a millisecond.
    """
    path = directory / "anxin.db"
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as session:
        loader.load_all(session, DATA_DIR, now=NOW)
        if extra_orders:
            repository.import_orders(session, rows=list(extra_orders), now=NOW, source="test")
    return path


def private_copy(loaded: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: Any) -> str:
    """A copy of a loaded database for one test; DATABASE_URL points at it too."""
    target = tmp_path / "anxin.db"
    shutil.copy(loaded, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def demo_desk(tmp_path_factory: Any) -> AfterSalesDesk:
    """An after-sales desk on the demo rule base and orders, loaded at the fixed ``NOW``."""
    tmp = tmp_path_factory.mktemp("demo-desk")
    with pytest.MonkeyPatch.context() as patch:
        url = use_database(tmp, patch)
    with db.session_scope(url) as session:
        loader.load_all(session, DATA_DIR, now=NOW)
    return AfterSalesDesk(url, clock=lambda: NOW)
