"""Contract: every built-in problem's reference passes its own check, and every variant family's
default config passes the real evaluator (Triton families under the CPU interpreter).

The problems are judged in two test modules (``test_contract_*.py``), so the suite's two workers
share the interpreted GEMM and attention families with the rest; ``KINDS`` says which holds
which, and a test checks that together they hold every built-in.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import Language, make_candidate
from kernels.families import load_families
from kernels.problem import load_problem

# Enough timed samples that the never-seen-input probes compare against a steady baseline on a
# busy machine (the suite runs two files at once); interpreted Triton is sampled once.
LIMITS = EvalLimits(
    warmup_ms=2.0, timing_budget_ms=20.0, min_samples=5, max_samples=20, interpreted_samples=1
)

KINDS = {
    "memory_bound": (
        "bias_gelu",
        "swiglu",
        "residual_layernorm",
        "row_reduction",
        "softmax",
        "cross_entropy",
        "layernorm",
        "rmsnorm",
    ),
    "matmul_attention": (
        "matmul",
        "matmul_bias_gelu",
        "kb2_gemm_relu_scale",
        "kb2_matmul_sigmoid_sum",
        "causal_attention",
    ),
}

Verdicts = dict[tuple[str, str], EvalResult]


def reference_as_candidate(source: str) -> str:
    return source + "\n\nclass ModelNew(Model):\n    pass\n"


def judge(names: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory) -> Verdicts:
    """Every problem's reference and families, each problem under one evaluator with two slots."""
    results = {}
    for name in names:
        problem = load_problem(name)
        evaluator = Evaluator(problem, "cpu", LIMITS, secret_seed=7, workroot=tmp_path_factory.mktemp(name))
        with LocalExecutor(evaluator, slots=2) as executor:
            futures = {
                ("reference", name): executor.submit(make_candidate(reference_as_candidate(problem.source)))
            }
            for family in load_families(problem):
                futures[(family.name, name)] = executor.submit(
                    make_candidate(family.source, family=family.name)
                )
            results.update({key: future.result() for key, future in futures.items()})
    return results


def cases(names: tuple[str, ...]) -> list[tuple[str, str]]:
    keys = []
    for name in names:
        keys.append(("reference", name))
        keys += [(f.name, name) for f in load_families(load_problem(name))]
    return keys


def case_id(key: tuple[str, str]) -> str:
    return f"{key[1]}-{key[0]}"


def check_passes(key: tuple[str, str], verdicts: Verdicts) -> None:
    result = verdicts[key]
    assert result.status is Status.OK, f"{key}: {result.status.value}: {result.reason}"
    assert all(s.max_abs_err is not None for s in result.shapes)


def check_interpreted_or_timed(verdicts: Verdicts) -> None:
    """Triton families are interpreted on the CPU (never ranked); PyTorch ones are timed."""
    for (family, problem_name), result in verdicts.items():
        if family == "reference":
            assert result.speedup is not None
            continue
        source = Path(load_problem(problem_name).variants_dir / f"{family}.py").read_text()
        is_triton = make_candidate(source).language is Language.TRITON
        assert result.interpreted is is_triton, (family, problem_name)
