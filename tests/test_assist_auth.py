"""The panel's credentials: signed session cookies, bearer tokens, and what is refused."""

from __future__ import annotations

import pytest

from bot.assist import auth
from bot.settings import load_settings

TOKEN = "a-panel-token-for-tests-0123456789"
NOW = 1_800_000_000.0


def who(**kwargs) -> str:
    request = {"query": {}, "cookies": {}, "authorization": None, **kwargs}
    return auth.authenticate(TOKEN, **request)


def test_a_cookie_names_its_agent_until_it_expires() -> None:
    cookie = auth.session_cookie(TOKEN, "小王", now=NOW)
    assert auth.agent_from_cookie(TOKEN, cookie, now=NOW + 60) == "小王"
    assert auth.agent_from_cookie(TOKEN, cookie, now=NOW + auth.SESSION_S + 1) is None
    assert TOKEN not in cookie


def test_a_cookie_signed_with_another_token_or_altered_is_refused() -> None:
    cookie = auth.session_cookie(TOKEN, "小王", now=NOW)
    assert auth.agent_from_cookie("another-token-0000000000", cookie, now=NOW) is None
    name, expires, signature = cookie.split(".")
    later = f"{name}.{int(expires) + 10**6}.{signature}"
    assert auth.agent_from_cookie(TOKEN, later, now=NOW) is None
    for garbage in ("", "x", "a.b", "a.b.c.d", "%%%.1.2", cookie + "0"):
        assert auth.agent_from_cookie(TOKEN, garbage, now=NOW) is None


def test_bearer_token_with_a_percent_encoded_agent_name() -> None:
    assert who(authorization=f"Bearer {TOKEN}", agent_header="%E5%B0%8F%E7%8E%8B") == "小王"
    assert who(authorization=f"Bearer {TOKEN}") == auth.API_AGENT
    assert who(authorization=f"bearer {TOKEN}", agent_header="<b>") == auth.API_AGENT


@pytest.mark.parametrize(
    "request_parts",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": f"Basic {TOKEN}"},
        {"authorization": TOKEN},
        {"cookies": {auth.COOKIE_NAME: "forged.1.2"}},
        {"query": {"token": TOKEN}},
        {"query": {"access_token": TOKEN}, "authorization": f"Bearer {TOKEN}"},
    ],
)
def test_everything_else_is_not_authenticated(request_parts) -> None:
    with pytest.raises(auth.NotAuthenticated) as refused:
        who(**request_parts)
    assert str(refused.value)


def test_agent_names_are_short_and_plain() -> None:
    assert auth.valid_agent_name("  Amy Li ") == "Amy Li"
    for bad in ("", " ", "x" * 33, "<script>", "a\nb", "王;drop"):
        assert auth.valid_agent_name(bad) is None


def test_the_panel_token_comes_from_the_environment_and_must_be_long() -> None:
    fixed = load_settings({"ANXIN_PANEL_TOKEN": TOKEN})
    assert fixed.panel_token == TOKEN and not fixed.panel_token_generated
    generated = load_settings({})
    assert generated.panel_token_generated and len(generated.panel_token) >= 16
    assert generated.panel_token != load_settings({}).panel_token
    with pytest.raises(ValueError, match="ANXIN_PANEL_TOKEN must be at least 16"):
        load_settings({"ANXIN_PANEL_TOKEN": "short"})
    assert TOKEN not in repr(fixed)
