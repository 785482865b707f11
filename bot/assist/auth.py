"""Who may use the agent panel: the panel token, a signed session cookie, nothing else.

An agent logs in once with ``ANXIN_PANEL_TOKEN`` and a display name; the panel
answers with an HttpOnly, SameSite=Strict cookie holding the name and an expiry,
signed with a key derived from the token (so changing the token logs everyone
out, and two Rasa servers with the same token accept each other's cookies).
Scripts may send ``Authorization: Bearer <token>`` instead.

A token in the query string is refused even when it is right: URLs end up in
server logs, browser history and Referer headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Mapping, Optional
from urllib.parse import unquote

COOKIE_NAME = "anxin_agent"
SESSION_S = 12 * 3600
AGENT_NAME = re.compile(r"^[\w\u4e00-\u9fff .·-]{1,32}$")
API_AGENT = "api"
QUERY_TOKEN_KEYS = ("token", "access_token", "panel_token", "auth_token")


class NotAuthenticated(Exception):
    """No valid credential; ``str(error)`` says what to do."""


def valid_agent_name(name: str) -> Optional[str]:
    """The trimmed name when it is 1-32 letters, digits, spaces or ``.·-``; else None."""
    name = (name or "").strip()
    return name if AGENT_NAME.match(name) else None


def token_matches(token: str, given: Optional[str]) -> bool:
    """Constant-time comparison of the configured token with what was sent."""
    return bool(given) and hmac.compare_digest(token.encode("utf-8"), given.encode("utf-8"))


def _key(token: str) -> bytes:
    return hashlib.sha256(b"anxin-panel-session\x00" + token.encode("utf-8")).digest()


def _signature(token: str, payload: str) -> str:
    return hmac.new(_key(token), payload.encode("ascii"), hashlib.sha256).hexdigest()


def session_cookie(token: str, agent: str, now: Optional[float] = None) -> str:
    """The cookie value for ``agent``: ``<name, base64>.<expiry>.<signature>``."""
    expires = int((time.time() if now is None else now) + SESSION_S)
    name = base64.urlsafe_b64encode(agent.encode("utf-8")).decode("ascii")
    payload = f"{name}.{expires}"
    return f"{payload}.{_signature(token, payload)}"


def agent_from_cookie(token: str, value: Optional[str], now: Optional[float] = None) -> Optional[str]:
    """The agent a cookie was issued to, or None when it is forged, garbled or expired."""
    if not value or value.count(".") != 2:
        return None
    name, expires, signature = value.split(".")
    if not hmac.compare_digest(_signature(token, f"{name}.{expires}"), signature):
        return None
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return None
    try:
        return valid_agent_name(base64.urlsafe_b64decode(name.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def authenticate(
    token: str,
    *,
    query: Mapping[str, object],
    cookies: Mapping[str, str],
    authorization: Optional[str],
    agent_header: Optional[str] = None,
) -> str:
    """The agent making a request, or ``NotAuthenticated`` saying why not.

    Args:
        token: the panel token from the settings.
        query: the request's query arguments.
        cookies: the request's cookies.
        authorization: the ``Authorization`` header, if any.
        agent_header: ``X-Anxin-Agent``, the name a bearer-token script acts as,
            percent-encoded UTF-8 (HTTP headers are Latin-1).
    """
    if any(key in query for key in QUERY_TOKEN_KEYS):
        raise NotAuthenticated(
            "a token in the URL is not accepted (URLs end up in logs and browser history); "
            "log in, or send it as 'Authorization: Bearer <token>'"
        )
    if authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token_matches(token, given.strip()):
            raise NotAuthenticated("the bearer token is not the panel token")
        return valid_agent_name(unquote(agent_header or "")) or API_AGENT
    agent = agent_from_cookie(token, cookies.get(COOKIE_NAME))
    if agent is None:
        raise NotAuthenticated("not logged in, or the session expired: log in with the panel token")
    return agent
