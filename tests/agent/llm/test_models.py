"""Parsing the model list and the price table, and what a call costs."""

from __future__ import annotations

import pytest

from agent.llm.models import ModelPrice, ModelWeight, PriceTable, parse_models, parse_prices


def test_models_with_and_without_weights() -> None:
    assert parse_models("model-a:0.7, model-b:0.3") == [
        ModelWeight("model-a", 0.7),
        ModelWeight("model-b", 0.3),
    ]
    assert parse_models("gpt-4o") == [ModelWeight("gpt-4o", 1.0)]


def test_names_keep_slashes_and_colons_unless_the_last_part_is_a_number() -> None:
    assert parse_models("qwen/qwen2.5-coder:32b:0.5,qwen/qwen2.5-coder:7b") == [
        ModelWeight("qwen/qwen2.5-coder:32b", 0.5),
        ModelWeight("qwen/qwen2.5-coder:7b", 1.0),
    ]
    assert parse_models("llama3:8:2") == [ModelWeight("llama3:8", 2.0)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no models given"),
        (" , ", "no models given"),
        ("a,,b", "entry 2 is empty"),
        (":0.5", "no model name"),
        ("a:0", "positive"),
        ("a:-1", "positive"),
        ("a:nan", "positive"),
        ("a:inf", "positive"),
        ("a,b:2,a:3", "'a' appears twice"),
    ],
)
def test_bad_model_lists_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_models(spec)


def test_prices_parse_with_default_and_slashes_in_names() -> None:
    table = parse_prices("gpt-4o=2.5/10, qwen/qwen2.5-coder:32b=0.2/0.6, default=1/2")
    assert table.price("gpt-4o") == ModelPrice(2.5, 10)
    assert table.price("qwen/qwen2.5-coder:32b") == ModelPrice(0.2, 0.6)
    assert table.price("unknown") == ModelPrice(1, 2)


def test_cost_is_per_million_tokens() -> None:
    table = parse_prices("gpt-4o=2.5/10")
    assert table.cost_usd("gpt-4o", 1_000_000, 0) == pytest.approx(2.5)
    assert table.cost_usd("gpt-4o", 2000, 500) == pytest.approx((2000 * 2.5 + 500 * 10) / 1e6)
    assert table.cost_usd("local-model", 10_000, 10_000) == 0.0  # no default entry: free
    with pytest.raises(ValueError, match="non-negative"):
        table.cost_usd("gpt-4o", -1, 0)


def test_empty_price_spec_is_a_free_table() -> None:
    assert parse_prices("") == PriceTable()
    assert parse_prices(" ").cost_usd("anything", 100, 100) == 0.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-4o", "should look like"),
        ("=1/2", "should look like"),
        ("gpt-4o=2.5", "PROMPT/COMPLETION"),
        ("gpt-4o=a/b", "PROMPT/COMPLETION"),
        ("gpt-4o=-1/2", "non-negative"),
        ("a=1/1,a=2/2", "'a' appears twice"),
    ],
)
def test_bad_price_tables_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_prices(spec)


def test_price_table_is_frozen_and_owns_its_prices() -> None:
    prices = {"a": ModelPrice(1, 1)}
    table = PriceTable(prices)
    prices["a"] = ModelPrice(100, 100)
    assert table.price("a") == ModelPrice(1, 1)
    with pytest.raises(TypeError):
        table.prices["b"] = ModelPrice()  # type: ignore[index]
