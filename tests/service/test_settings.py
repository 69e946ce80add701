"""Settings: the one place that reads the environment, covering every evaluator limit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from evaluator.limits import EvalLimits
from service.settings import Settings


def test_every_evaluator_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = EvalLimits()
    expected = {}
    for name in EvalLimits.field_names():
        value = getattr(defaults, name)
        if name == "gpu_memory_fraction":
            changed = value / 2  # a share of the GPU: at most 1
        elif name == "timing_method":
            changed = "cuda_graph"
        elif name == "compile_baseline":
            changed = "max-autotune"
        else:
            changed = (not value) if isinstance(value, bool) else value + 1
        monkeypatch.setenv(f"CRUCIBLE_{name.upper()}", str(changed))
        expected[name] = changed
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


def test_the_settings_defaults_are_the_evaluators(monkeypatch: pytest.MonkeyPatch) -> None:
    """One definition: the CLI ships the limits the benchmarks and tests measure."""
    for name in EvalLimits.field_names():
        monkeypatch.delenv(f"CRUCIBLE_{name.upper()}", raising=False)
    assert Settings().eval_limits() == EvalLimits()
    assert EvalLimits().timing_method == "auto"


def test_a_changed_copy_is_validated_like_the_original() -> None:
    limits = EvalLimits().changed(min_samples=30)
    assert limits.min_samples == 30 and limits.max_samples == EvalLimits().max_samples
    with pytest.raises(ValidationError):
        EvalLimits().changed(trials=1)
    with pytest.raises(ValidationError):
        EvalLimits().changed(no_such_limit=1)
