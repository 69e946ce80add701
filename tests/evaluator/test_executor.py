"""Executors: the gate runs before a slot is taken, and every device slot works in parallel."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import MultiDeviceExecutor
from evaluator.limits import EvalLimits
from evaluator.types import Stage, Status
from kernels.candidate import make_candidate
from kernels.problem import Problem

LIMITS = EvalLimits(warmup_ms=1, timing_budget_ms=5, min_samples=2, max_samples=5)
GOOD = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return x.abs(){}\n"
)


def evaluators(tmp_path: Path, problem: Problem, devices: list[str]) -> list[Evaluator]:
    return [
        Evaluator(problem, d, LIMITS, secret_seed=2, workroot=tmp_path / f"w{i}")
        for i, d in enumerate(devices)
    ]


@pytest.mark.slow
def test_gate_verdicts_never_take_a_slot_and_slots_run_in_parallel(
    tmp_path: Path, abs_problem: Problem
) -> None:
    with MultiDeviceExecutor(evaluators(tmp_path, abs_problem, ["cpu", "cpu"])) as executor:
        assert executor.slots == 3, "two device slots, and one candidate in its CPU pre-flight"
        rejected = executor.submit(make_candidate("import subprocess\n" + GOOD.format("")))
        assert rejected.done(), "the static gate answers at submission, on the CPU"
        assert rejected.result().stage is Stage.STATIC_GATE
        futures = [executor.submit(make_candidate(GOOD.format(f" + 0 * {i}"))) for i in range(4)]
        results = [f.result() for f in futures]
    assert all(r.status is Status.OK for r in results), [r.reason for r in results]


@pytest.mark.gpu
def test_every_gpu_gets_a_slot(tmp_path: Path, abs_problem: Problem) -> None:
    import torch

    devices = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    with MultiDeviceExecutor(evaluators(tmp_path, abs_problem, devices)) as executor:
        results = [
            executor.submit(make_candidate(GOOD.format(f" + 0 * {i}"))).result()
            for i in range(len(devices) * 2)
        ]
    assert all(r.status is Status.OK for r in results)
    assert {r.device.key for r in results if r.device} <= set(devices)
