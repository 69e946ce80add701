"""Pre-flight: device-independent failures are found on the CPU, before a GPU slot is taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import MultiDeviceExecutor
from evaluator.limits import EvalLimits
from evaluator.preflight import run_preflight
from evaluator.types import Stage, Status
from kernels.candidate import make_candidate
from kernels.problem import Problem

LIMITS = EvalLimits(load_timeout_s=20, warmup_ms=1, timing_budget_ms=5, min_samples=2, max_samples=5)
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x.abs()\n"
)


@pytest.mark.parametrize(
    ("source", "status", "words"),
    [
        ("def broken(:\n    pass\n" + HONEST, Status.COMPILE_ERROR, "syntax error at line 1"),
        ("import crucible_has_no_such_module\n" + HONEST, Status.COMPILE_ERROR, "ModuleNotFoundError"),
        ("from torch import no_such_name\n" + HONEST, Status.COMPILE_ERROR, "cannot import name"),
        ("import torch\n\n\nclass Model(torch.nn.Module):\n    pass\n", Status.REJECTED, "ModelNew"),
    ],
    ids=["syntax", "missing_module", "missing_name", "no_model_new"],
)
def test_device_independent_failures_get_their_verdict(
    tmp_path: Path, source: str, status: Status, words: str
) -> None:
    found = run_preflight(make_candidate(source), LIMITS, tmp_path)
    assert found is not None
    assert found[0] is status and words in found[1] and "before a GPU was used" in found[1]


def test_an_honest_candidate_and_a_device_dependent_failure_go_on(tmp_path: Path) -> None:
    assert run_preflight(make_candidate(HONEST), LIMITS, tmp_path) is None
    needs_cuda = "import torch\n\nCAPABILITY = torch.cuda.get_device_capability()\n" + HONEST
    assert run_preflight(make_candidate(needs_cuda), LIMITS, tmp_path) is None, "the GPU run decides"
    gpu_only_import = "raise ImportError('libcuda.so.1: cannot open shared object file')\n" + HONEST
    assert run_preflight(make_candidate(gpu_only_import), LIMITS, tmp_path) is None
    assert not list(tmp_path.iterdir()), "pre-flight work directories are removed"


def test_an_import_that_hangs_times_out(tmp_path: Path) -> None:
    hangs = "import time\n\nwhile True:\n    time.sleep(0.1)\n" + HONEST
    found = run_preflight(make_candidate(hangs), EvalLimits(load_timeout_s=3), tmp_path)
    assert found is not None and found[0] is Status.TIMEOUT and "load limit of 3s" in found[1]


def test_the_executor_answers_from_the_pre_flight_without_a_device(
    tmp_path: Path, abs_problem: Problem
) -> None:
    evaluator = Evaluator(abs_problem, "cpu", LIMITS, 3, workroot=tmp_path / "work")
    used: list[str] = []
    evaluate = evaluator.evaluate
    evaluator.evaluate = lambda c: used.append(c.hash) or evaluate(c)  # type: ignore[method-assign]
    with MultiDeviceExecutor([evaluator]) as executor:
        broken = make_candidate("import crucible_has_no_such_module\n" + HONEST)
        honest = make_candidate(HONEST)
        results = {c.hash: executor.submit(c) for c in (broken, honest)}
        verdicts = {h: f.result() for h, f in results.items()}
    assert verdicts[broken.hash].status is Status.COMPILE_ERROR
    assert verdicts[broken.hash].stage is Stage.LOAD
    assert verdicts[honest.hash].status is Status.OK, verdicts[honest.hash].reason
    assert used == [honest.hash], "only the candidate that passed the pre-flight reached a device slot"
