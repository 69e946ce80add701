"""On a GPU: every adversarial case (the CPU ones and the GPU-only ones) gets its status.

Marked ``gpu``: skipped cleanly on machines without CUDA. The caches-by-pointer case may pass
or fail depending on address reuse, so it only has to not be ranked when it is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.sandbox.isolation import detect_isolation
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

ExpectedStatus = Callable[[Path], Status]

HERE = Path(__file__).parent
CASES = sorted((HERE / "cases").glob("*.py")) + sorted((HERE / "gpu_cases").glob("*.py"))
# Verdicts do not depend on having the GPU alone, so several cases share it to keep the suite short;
# each may then use only its share of the GPU's memory, so one case's hoarding cannot starve another.
VERDICT_SLOTS = 4
LIMITS = EvalLimits(
    load_timeout_s=60,
    correctness_timeout_s=60,
    timing_timeout_s=60,
    warmup_ms=5,
    timing_budget_ms=30,
    min_samples=5,
    max_samples=200,
    gpu_memory_fraction=1 / VERDICT_SLOTS,
)
pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EvalResult]:
    evaluator = Evaluator(
        load_problem("softmax"),
        "cuda:0",
        LIMITS,
        secret_seed=99,
        workroot=tmp_path_factory.mktemp("gpu_adversarial"),
    )
    with LocalExecutor(evaluator, slots=VERDICT_SLOTS) as executor:
        futures = {p.stem: executor.submit(make_candidate(p.read_text())) for p in CASES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_gpu_case(case: Path, verdicts: dict[str, EvalResult], expected_status: ExpectedStatus) -> None:
    result = verdicts[case.stem]
    want = expected_status(case)
    if case.stem == "memory_hog" and not detect_isolation().cgroups:
        pytest.skip("host memory is capped by the cgroup on CUDA, and there is none here")
    if case.stem == "honest_triton":
        want = Status.OK  # on a GPU it runs compiled, not interpreted
    assert result.status is want, f"{case.stem}: {result.status.value}: {result.reason}"


def test_triton_on_gpu_is_timed_and_ranked(verdicts: dict[str, EvalResult]) -> None:
    result = verdicts["honest_triton"]
    assert not result.interpreted and result.speedup is not None
    assert result.device is not None and result.device.kind == "cuda" and result.device.driver
