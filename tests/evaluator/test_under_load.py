"""Timing-based verdicts hold on a busy machine: no honest candidate is rejected while other
processes keep the cores busy, and a cheat is still caught there.

The verdicts that rest on timing (probes on new inputs, the CPU core count, the re-verification
of implausible speedups) compare a candidate with itself or with the reference under the same
conditions; this runs them while bounded CPU burners keep all cores but one busy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import Language, make_candidate
from kernels.families import load_families
from kernels.problem import Problem, builtin_names, load_problem

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests/adversarial/cases"
MSE = REPO / "benchmarks/inputs/mse_loss.py"
LIMITS = EvalLimits()  # what `crucible` ships: the verdicts users get
BURN_S = 900  # a burner ends by itself even if the test is killed before its teardown
BURNER = f"import time\nend = time.monotonic() + {BURN_S}\nwhile time.monotonic() < end:\n    pass\n"

# The load is this module's own: another test beside it would starve the candidates, not load them.
pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.fixture(scope="module")
def burners() -> Iterator[list[psutil.Process]]:
    """Busy processes on all but one of the cores this test may use (one on a 2-core machine), so
    the candidates meet a machine that is busy but not starved: the load users run on."""
    count = max(1, len(os.sched_getaffinity(0)) - 1)
    procs = [subprocess.Popen([sys.executable, "-c", BURNER]) for _ in range(count)]
    try:
        yield [psutil.Process(p.pid) for p in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def honest_candidates(problem: Problem) -> list[tuple[str, str]]:
    """The reference itself as a candidate, and every family that is timed for real on the CPU."""
    found = [("reference", problem.source.replace("class Model(", "class ModelNew("))]
    found += [(f.name, f.source) for f in load_families(problem) if f.language is not Language.TRITON]
    return found


# One built-in of each kind of work, so the module stays a few minutes on two cores: elementwise,
# a reduction, a norm, softmax, a GEMM with an epilogue, attention and a KernelBench-style block.
# The contract test (tests/kernels) judges every built-in's families, without the load.
UNDER_LOAD = (
    "bias_gelu",
    "row_reduction",
    "layernorm",
    "softmax",
    "matmul_bias_gelu",
    "causal_attention",
    "kb2_gemm_relu_scale",
)


def test_the_problems_under_load_are_built_ins() -> None:
    assert set(UNDER_LOAD) <= set(builtin_names())


def judge_all(root: Path) -> dict[str, EvalResult]:
    problems = [(load_problem(name), None) for name in UNDER_LOAD]
    problems.append((load_problem(MSE, {"batch_size": 64}), None))
    extra = {"softmax": ["honest_torch", "honest_address_workspace", "caches_by_content"]}
    verdicts = {}
    for problem, _ in problems:
        evaluator = Evaluator(problem, "cpu", LIMITS, secret_seed=11, workroot=root / problem.name)
        candidates = honest_candidates(problem)
        candidates += [(case, (CASES / f"{case}.py").read_text()) for case in extra.get(problem.name, [])]
        with LocalExecutor(evaluator, slots=1) as executor:
            futures = {
                f"{problem.name}/{name}": executor.submit(make_candidate(source, family=name))
                for name, source in candidates
            }
            verdicts.update({key: future.result() for key, future in futures.items()})
    return verdicts


@pytest.fixture(scope="module")
def verdicts_under_load(
    burners: list[psutil.Process], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, EvalResult]:
    before = [p.cpu_times().user for p in burners]
    started = time.monotonic()
    verdicts = judge_all(tmp_path_factory.mktemp("under-load"))
    elapsed = time.monotonic() - started
    busy = [(p.cpu_times().user - b) / elapsed for p, b in zip(burners, before, strict=True)]
    # The load was real: the burners took a good share of the cores all along.
    assert sum(busy) > 0.5 * len(burners) * 0.5, f"the burners were hardly running: {busy}"
    return verdicts


def test_no_honest_candidate_is_rejected_under_load(verdicts_under_load: dict[str, EvalResult]) -> None:
    honest = {k: v for k, v in verdicts_under_load.items() if not k.endswith("caches_by_content")}
    assert len(honest) >= 2 * len(UNDER_LOAD)
    wrong = {k: f"{v.status.value}: {v.reason}" for k, v in honest.items() if v.status is not Status.OK}
    assert wrong == {}


def test_a_kernelbench_loss_judged_against_itself_is_ok_under_load(
    verdicts_under_load: dict[str, EvalResult],
) -> None:
    result = verdicts_under_load["mse_loss/reference"]
    assert result.status is Status.OK, result.reason
    assert result.scaled_down


def test_a_cache_by_content_is_still_caught_under_load(verdicts_under_load: dict[str, EvalResult]) -> None:
    result = verdicts_under_load["softmax/caches_by_content"]
    assert result.status is Status.REJECTED, f"{result.status.value}: {result.reason}"
    assert "inputs it had never seen" in result.reason
