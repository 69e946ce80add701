"""Every cheating or broken candidate gets the status its header promises; honest ones pass.

Each file in cases/ starts with ``# expect: <status>``. They all run through the real
evaluator: a real reference process, one fresh sandboxed process per candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from evaluator.evaluate import Evaluator
from evaluator.executor import LocalExecutor
from evaluator.limits import EvalLimits
from evaluator.types import EvalResult, Status
from kernels.candidate import make_candidate
from kernels.problem import load_problem

pytestmark = pytest.mark.slow  # every adversarial case through the real evaluator

ExpectedStatus = Callable[[Path], Status]

CASES = Path(__file__).parent / "cases"
FAST_LIMITS = EvalLimits(
    load_timeout_s=25.0,
    correctness_timeout_s=12.0,
    timing_timeout_s=20.0,
    memory_limit_bytes=6 * 1024**3,
    warmup_ms=5.0,
    timing_budget_ms=20.0,
    min_samples=3,
    max_samples=50,
)


CASE_FILES = sorted(CASES.glob("*.py"))


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, EvalResult]:
    """Evaluate every case once, two at a time, against one softmax reference."""
    evaluator = Evaluator(
        load_problem("softmax"),
        "cpu",
        FAST_LIMITS,
        secret_seed=20261122,
        workroot=tmp_path_factory.mktemp("adversarial"),
    )
    with LocalExecutor(evaluator, slots=2) as executor:
        futures = {p.stem: executor.submit(make_candidate(p.read_text())) for p in CASE_FILES}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: p.stem)
def test_case_gets_expected_status(
    case: Path, verdicts: dict[str, EvalResult], expected_status: ExpectedStatus
) -> None:
    result = verdicts[case.stem]
    assert result.status is expected_status(case), f"{case.stem}: {result.status.value}: {result.reason}"
    assert result.reason


def test_every_protocol_item_has_a_case() -> None:
    headers = " ".join(p.read_text() for p in CASE_FILES)
    for item in ("Protocol 1", "Protocol 2", "Protocol 3", "Protocol 4", "Protocol 5", "Protocol 7"):
        assert item in headers


def test_failures_never_carry_a_speedup(verdicts: dict[str, EvalResult]) -> None:
    for name, result in verdicts.items():
        if result.status is not Status.OK:
            assert result.speedup is None and not result.shapes, name


def test_honest_triton_is_checked_but_never_ranked(verdicts: dict[str, EvalResult]) -> None:
    result = verdicts["honest_triton"]
    assert result.interpreted
    assert result.speedup is None
    assert all(s.interpreted and s.max_abs_err is not None and s.max_abs_err < 1e-5 for s in result.shapes)


def test_honest_torch_is_timed(verdicts: dict[str, EvalResult]) -> None:
    result = verdicts["honest_torch"]
    assert not result.interpreted
    assert result.speedup is not None and result.speedup > 0
    assert all(s.samples >= FAST_LIMITS.min_samples and s.ref_median_us for s in result.shapes)


def test_hang_is_stopped_within_its_limit(verdicts: dict[str, EvalResult]) -> None:
    result = verdicts["hang_forever"]
    assert "correctness" in result.reason
    # limit, plus process start and reaping; far below the evaluator's total budget
    assert result.duration_s < FAST_LIMITS.correctness_timeout_s + FAST_LIMITS.load_timeout_s


def test_expected_outputs_are_out_of_reach_without_the_os_sandbox(tmp_path: Path) -> None:
    """Protocol item 2 holds where Landlock is missing: no expected output is left on disk for a
    candidate to find, beside its inputs or anywhere else under the evaluator's folder."""
    evaluator = Evaluator(
        load_problem("softmax"), "cpu", FAST_LIMITS.changed(sandbox=False), secret_seed=7, workroot=tmp_path
    )
    evaluator.reference()
    assert list(tmp_path.rglob("inputs_*.pt")), (
        "the reference wrote no inputs: the search below proves nothing"
    )
    assert not list(tmp_path.rglob("expected_*")), "expected outputs were left on disk"
    thief = make_candidate((CASES / "steals_expected_beside_inputs.py").read_text())
    result = evaluator.evaluate(thief)
    assert result.status is Status.WRONG_OUTPUT, result.reason
    honest = evaluator.evaluate(make_candidate((CASES / "honest_torch.py").read_text()))
    assert honest.status is Status.OK, honest.reason
