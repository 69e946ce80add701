"""A run is judged by the evaluator limits it was started with, whoever resumes it (``service.runner``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.limits import EvalLimits
from kernels.problem import load_problem
from service.runner import create_run, run_limits
from service.settings import Settings
from store.repository import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(f"sqlite:///{tmp_path / 'crucible.db'}") as opened:
        yield opened


def test_a_resumed_run_keeps_its_limits_whatever_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_with = EvalLimits(timing_budget_ms=150.0, min_samples=12, trials=4)
    run_id = create_run(
        store, load_problem("softmax"), device="cpu", budget=2, proposer="offline", limits=started_with
    )
    monkeypatch.setenv("CRUCIBLE_TIMING_BUDGET_MS", "5")
    monkeypatch.setenv("CRUCIBLE_TRIALS", "2")
    resumer = Settings()
    assert resumer.eval_limits().timing_budget_ms == 5.0
    assert run_limits(store.get_run(run_id), resumer) == started_with


def test_a_run_stored_without_limits_is_judged_by_the_current_settings(store: Store) -> None:
    run_id = store.create_run(load_problem("softmax"), device="cpu", proposer="offline", budget=2, seed=3)
    settings = Settings(timing_budget_ms=77.0)
    assert run_limits(store.get_run(run_id), settings).timing_budget_ms == 77.0


def test_a_limit_this_version_no_longer_has_is_dropped(store: Store) -> None:
    stored = EvalLimits(min_samples=20).model_dump() | {"retired_limit": 3}
    run_id = store.create_run(
        load_problem("softmax"), device="cpu", proposer="offline", budget=2, seed=3, limits=stored
    )
    assert run_limits(store.get_run(run_id), Settings()) == EvalLimits(min_samples=20)
