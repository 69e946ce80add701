"""Where a run's device is checked: on this machine for the local executors, by the cluster for Ray."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from evaluator.errors import EvaluatorError
from evaluator.limits import EvalLimits
from kernels.problem import load_problem
from service.runner import create_run
from service.settings import Settings
from store.repository import Store

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'crucible.db'}") as opened:
        yield opened


def queue(store: Store, settings: Settings, device: str) -> int:
    return create_run(
        store,
        load_problem("softmax"),
        device=device,
        budget=2,
        proposer="offline",
        limits=EvalLimits(),
        settings=settings,
    )


def test_a_cuda_run_is_refused_on_a_machine_without_a_gpu(store: Store, tmp_path: Path) -> None:
    with pytest.raises(EvaluatorError, match="this machine has 0 CUDA device"):
        queue(store, Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"), "cuda:0")


def test_with_ray_a_driver_without_a_gpu_queues_a_cuda_run(store: Store, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", executor="ray")
    run_id = queue(store, settings, "cuda")
    assert store.get_run(run_id).device == "cuda:0"
    with pytest.raises(EvaluatorError, match="unknown device"):
        queue(store, settings, "tpu:0")
