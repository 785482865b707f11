"""Every environment variable Anxin reads, in one place.

Nothing else in the project touches ``os.environ``: a reader finds here what can
be configured and what each default is.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import secrets
from typing import Dict, Mapping, Optional

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'anxin.db'}"
DEFAULT_RASA_URL = "http://localhost:5005"
DEFAULT_IM_RETRY_BASE_S = 2.0
MIN_SECRET_LENGTH = 16


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
        panel_token: what the shop's agents log in to the assist panel with
            (``ANXIN_PANEL_TOKEN``); a different secret from ``api_token``, which
            opens the whole Rasa API. When unset one is generated for the run
            and printed, like ``api_token``.
        panel_token_generated: whether ``panel_token`` was generated for this run.
    """

    api_token: str
    api_token_generated: bool
    host: str
    database_url: str = DEFAULT_DATABASE_URL
    rasa_url: str = DEFAULT_RASA_URL
    im_secret: Optional[str] = dataclasses.field(default=None, repr=False)
    im_send_url: Optional[str] = None
    im_retry_base_s: float = DEFAULT_IM_RETRY_BASE_S
    panel_token: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    panel_token_generated: bool = True


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Read the settings from the environment (or from ``environ`` in tests)."""
    env = os.environ if environ is None else environ
    token = env.get("ANXIN_API_TOKEN", "").strip()
    panel_token = env.get("ANXIN_PANEL_TOKEN", "").strip()
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
        panel_token=_strong_secret(panel_token, "ANXIN_PANEL_TOKEN") or secrets.token_urlsafe(24),
        panel_token_generated=not panel_token,
    )


def child_environment(settings: Settings) -> Dict[str, str]:
    """This process's environment plus the tokens generated for this run.

    The launcher starts the servers as child processes; a token it generated
    must reach them, or the panel would check logins against another token.
    """
    env = dict(os.environ)
    env["ANXIN_API_TOKEN"] = settings.api_token
    env["ANXIN_PANEL_TOKEN"] = settings.panel_token
    return env


def _strong_secret(raw: str, name: str) -> str:
    """``raw`` when empty or at least 16 characters; a guessable login token is refused."""
    if raw and len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"{name} must be at least {MIN_SECRET_LENGTH} characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return raw


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
