"""Which models a run may call, how much each is trusted up front, and what each costs.

``CRUCIBLE_MODELS`` lists models with optional prior weights, ``model-a:0.7,model-b:0.3``.
Model names often contain ``/`` and ``:`` themselves (``qwen/qwen2.5-coder:32b``), so the
weight is the text after the *last* colon only when it parses as a number; otherwise the
whole entry is the name and the weight is 1. A name whose last ``:`` part is itself a
number (``llama3:8``) therefore needs an explicit weight: ``llama3:8:1``.

Prices are USD per million tokens, prompt and completion separately, in the form
``gpt-4o=2.5/10,default=0/0``. A model without an entry costs what ``default`` says; with no
``default`` entry the default is free, which suits a local endpoint (vLLM, Ollama).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEFAULT_KEY = "default"


@dataclass(frozen=True)
class ModelWeight:
    """One configured model and its prior weight (relative; need not sum to 1)."""

    name: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a model name is empty")
        if not math.isfinite(self.weight) or self.weight <= 0:
            raise ValueError(f"model {self.name!r}: weight must be a positive number, got {self.weight}")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_models(spec: str) -> list[ModelWeight]:
    """Parse a ``CRUCIBLE_MODELS`` string into models with weights, in the order given."""
    entries = [part.strip() for part in spec.split(",")]
    if not any(entries):
        raise ValueError("no models given: expected a list like 'model-a:0.7,model-b:0.3'")
    models: list[ModelWeight] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise ValueError(f"model list {spec!r}: entry {position} is empty (a stray comma?)")
        name, weight = entry, 1.0
        head, sep, tail = entry.rpartition(":")
        number = _number(tail) if sep else None
        if number is not None:
            name, weight = head.strip(), number
        if not name:
            raise ValueError(f"model list {spec!r}: entry {entry!r} has a weight but no model name")
        if not math.isfinite(weight) or weight <= 0:
            raise ValueError(
                f"model list {spec!r}: weight of {name!r} must be a positive number, got {tail!r}"
            )
        if name in seen:
            raise ValueError(f"model list {spec!r}: {name!r} appears twice")
        seen.add(name)
        models.append(ModelWeight(name, weight))
    return models


@dataclass(frozen=True)
class ModelPrice:
    """USD per million prompt tokens and per million completion tokens."""

    prompt_usd_per_mtok: float = 0.0
    completion_usd_per_mtok: float = 0.0

    def __post_init__(self) -> None:
        for value in (self.prompt_usd_per_mtok, self.completion_usd_per_mtok):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"a price must be a non-negative number, got {value}")

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.prompt_usd_per_mtok + completion_tokens * self.completion_usd_per_mtok
        ) / 1e6


@dataclass(frozen=True)
class PriceTable:
    """Prices per model, with a fallback for models not listed."""

    prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    default: ModelPrice = ModelPrice()

    def __post_init__(self) -> None:
        # A private read-only copy: the table cannot change behind a caller's back.
        object.__setattr__(self, "prices", MappingProxyType(dict(self.prices)))

    def price(self, model: str) -> ModelPrice:
        return self.prices.get(model, self.default)

    def cost_usd(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        if prompt_tokens < 0 or completion_tokens < 0:
            raise ValueError(f"token counts must be non-negative, got {prompt_tokens}/{completion_tokens}")
        return self.price(model).cost_usd(prompt_tokens, completion_tokens)


def _parse_price(spec: str, entry: str, text: str) -> ModelPrice:
    prompt, sep, completion = text.partition("/")
    numbers = (_number(prompt.strip()), _number(completion.strip()))
    if not sep or numbers[0] is None or numbers[1] is None:
        raise ValueError(
            f"price table {spec!r}: entry {entry!r} needs 'PROMPT/COMPLETION' in USD per 1M tokens, "
            "e.g. '2.5/10'"
        )
    try:
        return ModelPrice(numbers[0], numbers[1])
    except ValueError as exc:
        raise ValueError(f"price table {spec!r}: entry {entry!r}: {exc}") from None


def parse_prices(spec: str) -> PriceTable:
    """Parse ``model=prompt/completion,...`` (USD per 1M tokens); empty means everything is free."""
    prices: dict[str, ModelPrice] = {}
    default = ModelPrice()
    seen: set[str] = set()
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        name, sep, text = entry.rpartition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"price table {spec!r}: entry {entry!r} should look like 'model=2.5/10'")
        if name in seen:
            raise ValueError(f"price table {spec!r}: {name!r} appears twice")
        seen.add(name)
        price = _parse_price(spec, entry, text)
        if name == DEFAULT_KEY:
            default = price
        else:
            prices[name] = price
    return PriceTable(prices, default)
