"""Engine, sessions and migrations of the rule-base database.

The engine is created once per URL and reused (creating one per request leaks
connection pools); a session is opened per unit of work and committed only when
the work succeeded, so a failed load or import leaves the database as it was.
Schema changes run through Alembic, built in code so no ``alembic.ini`` has to
sit at the project root.
"""

from __future__ import annotations

import contextlib
import functools
import json
import pathlib
from typing import Any, Iterator, Optional

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from bot.settings import load_settings

MIGRATIONS_DIR = pathlib.Path(__file__).resolve().parent / "migrations"


def _json_dumps(value: Any) -> str:
    """JSON with Chinese kept readable in the database (no ``\\u`` escapes)."""
    return json.dumps(value, ensure_ascii=False)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless every connection switches them on."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def database_url(url: Optional[str] = None) -> str:
    """The URL to use: ``url`` if given, else ``DATABASE_URL`` from the settings."""
    return url or load_settings().database_url


@functools.lru_cache(maxsize=None)
def engine_for(url: str) -> Engine:
    """The one engine for ``url`` (created on first use, then cached).

    For SQLite the folder of the file is created and foreign keys are enabled.
    Pooled connections are checked before use (``pool_pre_ping``), so after a
    PostgreSQL restart the next session works instead of failing once on a
    dead connection.

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:////tmp/anxin.db``.

    Returns:
        A 2.0-style (``future=True``) engine.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            pathlib.Path(parsed.database).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
    engine = create_engine(url, future=True, json_serializer=_json_dumps, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


@contextlib.contextmanager
def session_scope(url: Optional[str] = None) -> Iterator[Session]:
    """A session for one unit of work: committed on success, rolled back on error.

    Args:
        url: database URL; ``DATABASE_URL`` from the settings when omitted.

    Returns:
        A context manager yielding the session.
    """
    session = Session(engine_for(database_url(url)), future=True)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` pointing at ``bot/rules/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is ConfigParser-based: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: Optional[str] = None) -> None:
    """Upgrade the database to the newest schema (``alembic upgrade head``).

    Cheap when the database is already up to date: Alembic only reads its
    version table. Creates the SQLite file (and its folder) when missing.

    Args:
        url: database URL; ``DATABASE_URL`` from the settings when omitted.
    """
    url = database_url(url)
    config = alembic_config(url)
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
