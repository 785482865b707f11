"""Alembic migrations: an empty database gets every table; upgrading twice is a no-op."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.rules import db
from bot.rules.schema import Base
from utils.rules_db import snapshot, use_database

TABLES = {
    "platforms",
    "handoffs",
    "rules",
    "categories",
    "shops",
    "shop_promises",
    "buyers",
    "orders",
    "decisions",
    "im_messages",
    "agent_replies",
    "im_outbox",
}


def head(url: str) -> str:
    return ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()


def current(url: str) -> str:
    with db.engine_for(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_on_an_empty_database_creates_every_table(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)  # migrates
    assert (tmp_path / "var" / "anxin.db").is_file()  # the folder was created too
    names = set(inspect(db.engine_for(url)).get_table_names())
    assert TABLES | {"alembic_version"} == names
    assert current(url) == head(url)


def test_upgrading_twice_is_a_no_op(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    with db.engine_for(url).begin() as connection:
        connection.execute(text("INSERT INTO platforms VALUES ('tmall', '天猫')"))
    schema_before = _schema(url)
    data_before = snapshot(url)
    db.migrate(url)
    assert _schema(url) == schema_before
    assert snapshot(url) == data_before
    assert current(url) == head(url)


def test_the_migration_matches_the_orm_tables(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    with db.engine_for(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_again(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    command.downgrade(db.alembic_config(url), "base")
    assert set(inspect(db.engine_for(url)).get_table_names()) <= {"alembic_version"}
    db.migrate(url)
    assert TABLES <= set(inspect(db.engine_for(url)).get_table_names())


def test_sqlite_foreign_keys_are_enforced(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    with db.engine_for(url).connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _schema(url: str) -> list:
    with db.engine_for(url).connect() as connection:
        return sorted(connection.execute(text("SELECT type, name, sql FROM sqlite_master")))
