"""The REST channel's reading of a body: what is a message, and what gets a clear 400."""

from __future__ import annotations

import pytest

from bot.channels.rest import BadMessage, parse_message


def test_a_message_with_metadata() -> None:
    parsed = parse_message({"sender": "b1", "message": "我要退货", "metadata": {"buyer_id": "x"}})
    assert parsed == {"sender": "b1", "text": "我要退货", "metadata": {"buyer_id": "x"}}


def test_numbers_as_sender_and_missing_or_null_text_are_accepted() -> None:
    assert parse_message({"sender": 42})["sender"] == "42"
    assert parse_message({"sender": "b", "message": None})["text"] == ""
    assert parse_message({"sender": "b", "metadata": "not a dict"})["metadata"] is None


@pytest.mark.parametrize(
    "body",
    [{}, {"sender": ""}, {"sender": "   "}, {"sender": None}, {"sender": True}, {"sender": ["a"]},
     {"sender": "x" * 257}, {"sender": "b", "message": 7}, {"sender": "b", "message": ["hi"]},
     {"sender": "b", "message": {"text": "hi"}}],
)
def test_bad_bodies_name_the_field(body) -> None:
    with pytest.raises(BadMessage) as bad:
        parse_message(body)
    assert "sender" in str(bad.value) or "message" in str(bad.value)
