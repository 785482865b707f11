"""Alembic environment for the rule base (run by ``bot.rules.db.migrate``).

There is no ``alembic.ini``: ``migrate`` builds the config in code and passes
an open connection in ``config.attributes["connection"]``. Running the
``alembic`` command by hand also works when ``sqlalchemy.url`` is set.
"""

from __future__ import annotations

from alembic import context

from bot.rules.db import engine_for
from bot.rules.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can only change a table by copying it: batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection ``migrate`` gave, or open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    with engine_for(config.get_main_option("sqlalchemy.url")).begin() as connection:
        _configure_and_run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
