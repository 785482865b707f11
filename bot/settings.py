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
DEFAULT_IM_RETRY_BASE_S = 2.0


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
        im_secret: shared secret of the IM webhook (``ANXIN_IM_SECRET``), used to
            check pushes and sign replies; no default: without it the IM
            webhook refuses every push (503).
        im_send_url: the IM platform's send API the replies go to
            (``ANXIN_IM_SEND_URL``); without it replies wait in the outbox.
        im_retry_base_s: first retry delay of a failed IM send, doubled per
            attempt (``ANXIN_IM_RETRY_BASE_S``, seconds).
    """

    api_token: str
    api_token_generated: bool
    host: str
    database_url: str = DEFAULT_DATABASE_URL
    rasa_url: str = DEFAULT_RASA_URL
    im_secret: Optional[str] = dataclasses.field(default=None, repr=False)
    im_send_url: Optional[str] = None
    im_retry_base_s: float = DEFAULT_IM_RETRY_BASE_S


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
        im_secret=env.get("ANXIN_IM_SECRET", "").strip() or None,
        im_send_url=env.get("ANXIN_IM_SEND_URL", "").strip() or None,
        im_retry_base_s=_positive_float(
            env.get("ANXIN_IM_RETRY_BASE_S", ""), DEFAULT_IM_RETRY_BASE_S, "ANXIN_IM_RETRY_BASE_S"
        ),
    )


def _positive_float(raw: str, default: float, name: str) -> float:
    """``raw`` as a positive number; ``default`` when empty; an error naming ``name`` otherwise."""
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be positive, not {raw!r}")
    return value
