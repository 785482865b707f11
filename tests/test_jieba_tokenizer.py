"""The jieba tokenizer: no blank tokens, e-commerce words kept whole."""

from __future__ import annotations

import pathlib

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.jieba_tokenizer import CleanJiebaTokenizer

DICTIONARY = pathlib.Path(__file__).resolve().parent.parent / "data" / "jieba"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> CleanJiebaTokenizer:
    config = {**CleanJiebaTokenizer.get_default_config(), "dictionary_path": str(DICTIONARY)}
    return CleanJiebaTokenizer.create(
        config,
        LocalModelStorage(tmp_path_factory.mktemp("storage")),
        Resource("tokenizer"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )


def words(tokenizer: CleanJiebaTokenizer, text: str) -> list:
    return [token.text for token in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_mixed_script_text_has_no_blank_tokens(tokenizer) -> None:
    tokens = words(tokenizer, "refund 129 rmb 谢谢  size 不对 iPhone 15")
    assert tokens and all(token.strip() for token in tokens)
    assert "refund" in tokens and "size" in tokens


@pytest.mark.parametrize("term", ["七天无理由", "运费险", "仅退款", "保税仓", "平台介入", "转人工"])
def test_e_commerce_terms_stay_one_token(tokenizer, term: str) -> None:
    assert term in words(tokenizer, f"请问{term}怎么处理")


def test_token_offsets_point_into_the_text(tokenizer) -> None:
    text = "亲 订单 3091102086046928447 没收到"
    for token in tokenizer.tokenize(Message(data={"text": text}), "text"):
        assert text[token.start:token.end] == token.text


def test_whitespace_only_text_gives_no_tokens(tokenizer) -> None:
    assert words(tokenizer, "   \t ") == []
