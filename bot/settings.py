"""Every environment variable Anxin reads, in one place.

Nothing else in the project touches ``os.environ``: a reader finds here what can
be configured and what each default is.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import secrets
from typing import Mapping, Optional

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'anxin.db'}"
DEFAULT_RASA_URL = "http://localhost:5005"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Runtime settings of the servers.

    Attributes:
        api_token: token for Rasa's HTTP API (``ANXIN_API_TOKEN``); when unset a
            random one is made for this run and printed, so nothing secret has to
            be committed and a fresh clone still starts.
        api_token_generated: whether ``api_token`` was generated for this run.
        host: interface the servers bind to (``ANXIN_HOST``).
        database_url: SQLAlchemy URL of the rule base, orders and decision log
            (``DATABASE_URL``); by default a SQLite file in ``var/`` so a fresh
            clone works without a database server.
        rasa_url: where tools reach the Rasa server's HTTP API (``ANXIN_RASA_URL``),
            e.g. to hand a conversation back to the bot.
    """

    api_token: str
    api_token_generated: bool
    host: str
    database_url: str = DEFAULT_DATABASE_URL
    rasa_url: str = DEFAULT_RASA_URL


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Read the settings from the environment (or from ``environ`` in tests)."""
    env = os.environ if environ is None else environ
    token = env.get("ANXIN_API_TOKEN", "").strip()
    return Settings(
        api_token=token or secrets.token_urlsafe(24),
        api_token_generated=not token,
        host=env.get("ANXIN_HOST", "localhost").strip() or "localhost",
        database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        rasa_url=(env.get("ANXIN_RASA_URL", "").strip() or DEFAULT_RASA_URL).rstrip("/"),
    )
