"""Settings: the one place that reads the environment, covering every evaluator limit."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from evaluator.limits import EvalLimits
from service.settings import Settings


def test_every_evaluator_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = EvalLimits()
    expected = {}
    for field in dataclasses.fields(EvalLimits):
        value = getattr(defaults, field.name)
        if field.name == "gpu_memory_fraction":
            changed = value / 2  # a share of the GPU: at most 1
        elif field.name == "timing_method":
            changed = "cuda_graph"
        else:
            changed = (not value) if isinstance(value, bool) else value + 1
        env = (
            "CRUCIBLE_MEMORY_LIMIT_BYTES"
            if field.name == "memory_bytes"
            else f"CRUCIBLE_{field.name.upper()}"
        )
        monkeypatch.setenv(env, str(changed))
        expected[field.name] = changed
    limits = Settings().eval_limits()
    for name, value in expected.items():
        assert getattr(limits, name) == value, f"{name} is not configurable from the environment"


def test_lists_and_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCIBLE_MODELS", "model-a, model-b")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = Settings()
    assert settings.models == ["model-a", "model-b"]
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCIBLE_TRIALS", "1")
    with pytest.raises(ValidationError):
        Settings()
