"""The reference's ``torch.compile`` baseline: timed beside the eager reference where a run asks
for it, compared by the same method, and never a reason for a reference or a verdict to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.limits import EvalLimits
from evaluator.reference import ReferenceData
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

# Elementwise work the compiler fuses: a fair baseline that is quick to compile on the CPU.
CHAIN_PROBLEM = """import torch


class Model(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x * 2.0 + 1.0) - 0.5


def get_inputs():
    return [torch.randn(256, 256)]


def get_init_inputs():
    return []
"""

# Its compiler cannot build (no C++ compiler for inductor): the eager reference still stands, and
# the baseline says why it has none.
UNCOMPILABLE_PROBLEM = CHAIN_PROBLEM.replace(
    "import torch\n",
    "import torch\nimport torch._inductor.config\n\ntorch._inductor.config.cpp.cxx = ('/nonexistent-cxx',)\n",
    1,
)

# Kills its process while being compiled, after every eager figure was sent.
DYING_PROBLEM = CHAIN_PROBLEM.replace(
    "    def forward(self, x):\n",
    "    def forward(self, x):\n"
    "        if torch.compiler.is_compiling():\n"
    "            import os\n\n"
    "            os._exit(3)\n",
)

CANDIDATE = """import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x * 2.0 + 1.0) - 0.5
"""

LIMITS = EvalLimits(compile_baseline="default", profile=False, min_samples=5, timing_budget_ms=100.0)


def _evaluate(tmp_path: Path, source: str) -> tuple[ReferenceData, EvalResult]:
    path = tmp_path / "chain.py"
    path.write_text(source)
    evaluator = Evaluator(load_problem(path), "cpu", LIMITS, 7, workroot=tmp_path / "work")
    try:
        result = evaluator.evaluate(make_candidate(CANDIDATE))
        return evaluator.reference(), result
    finally:
        evaluator.close()


def test_auto_compiles_the_reference_on_cuda_only() -> None:
    assert EvalLimits().compile_mode("cuda:0") == "default"
    assert EvalLimits().compile_mode("cpu") is None
    assert EvalLimits(compile_baseline="max-autotune").compile_mode("cpu") == "max-autotune"
    assert EvalLimits(compile_baseline="off").compile_mode("cuda:1") is None


def test_speedup_against_the_compiled_reference_is_reported_per_shape(tmp_path: Path) -> None:
    reference, result = _evaluate(tmp_path, CHAIN_PROBLEM)
    assert result.status is Status.OK, result.reason
    assert reference.compile_mode == "default"
    assert reference.compile_errors == {}
    for shape in result.shapes:
        assert shape.compiled_median_us is not None and shape.compiled_median_us > 0
        assert shape.median_us is not None
        assert shape.speedup_vs_compiled == pytest.approx(shape.compiled_median_us / shape.median_us)
        assert reference.compiled[shape.shape][0].method == shape.timing_method
    assert result.speedup_vs_compiled == pytest.approx(result.shapes[0].speedup_vs_compiled)


def test_a_reference_the_compiler_rejects_keeps_its_eager_verdicts(tmp_path: Path) -> None:
    reference, result = _evaluate(tmp_path, UNCOMPILABLE_PROBLEM)
    assert result.status is Status.OK, result.reason
    assert result.speedup is not None and result.speedup_vs_compiled is None
    assert all(s.compiled_median_us is None for s in result.shapes)
    assert set(reference.compile_errors) == {s.shape for s in result.shapes}
    assert all("InvalidCxxCompiler" in why for why in reference.compile_errors.values())


def test_a_process_lost_to_the_compiler_still_gives_the_reference(tmp_path: Path) -> None:
    reference, result = _evaluate(tmp_path, DYING_PROBLEM)
    assert result.status is Status.OK, result.reason
    assert result.speedup is not None and result.speedup_vs_compiled is None
    assert all("exited with code 3 during torch.compile" in why for why in reference.compile_errors.values())
