"""Contract: every built-in problem's reference passes its own check, and every variant family's
default config passes the real evaluator (Triton families under the CPU interpreter)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import Language, make_candidate
from kernels.families import load_families
from kernels.problem import builtin_names, load_problem

pytestmark = pytest.mark.slow  # every family of every built-in problem

# Enough timed samples that the never-seen-input probes compare against a steady baseline on a
# busy machine (the suite runs two files at once); interpreted Triton is sampled once.
LIMITS = EvalLimits(
    warmup_ms=2.0, timing_budget_ms=20.0, min_samples=5, max_samples=20, interpreted_samples=1
)


def reference_as_candidate(source: str) -> str:
    return source + "\n\nclass ModelNew(Model):\n    pass\n"


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], EvalResult]:
    results = {}
    for name in builtin_names():
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


def cases() -> list[tuple[str, str]]:
    keys = []
    for name in builtin_names():
        problem = load_problem(name)
        keys.append(("reference", name))
        keys += [(f.name, name) for f in load_families(problem)]
    return keys


@pytest.mark.parametrize("key", cases(), ids=lambda k: f"{k[1]}-{k[0]}")
def test_passes_the_evaluator(key: tuple[str, str], verdicts: dict[tuple[str, str], EvalResult]) -> None:
    result = verdicts[key]
    assert result.status is Status.OK, f"{key}: {result.status.value}: {result.reason}"
    assert all(s.max_abs_err is not None for s in result.shapes)


def test_triton_families_are_interpreted_and_pytorch_ones_timed(
    verdicts: dict[tuple[str, str], EvalResult],
) -> None:
    for (family, problem_name), result in verdicts.items():
        if family == "reference":
            assert result.speedup is not None
            continue
        source = Path(load_problem(problem_name).variants_dir / f"{family}.py").read_text()
        is_triton = make_candidate(source).language is Language.TRITON
        assert result.interpreted is is_triton, (family, problem_name)
