"""The built-in contract (``builtin_contract``) over the matmul and attention problems."""

from __future__ import annotations

import pytest

from tests.kernels.builtin_contract import (
    KINDS,
    Verdicts,
    case_id,
    cases,
    check_interpreted_or_timed,
    check_passes,
    judge,
)

pytestmark = pytest.mark.slow  # every family of these built-in problems
NAMES = KINDS["matmul_attention"]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Verdicts:
    return judge(NAMES, tmp_path_factory)


@pytest.mark.parametrize("key", cases(NAMES), ids=case_id)
def test_passes_the_evaluator(key: tuple[str, str], verdicts: Verdicts) -> None:
    check_passes(key, verdicts)


def test_triton_families_are_interpreted_and_pytorch_ones_timed(verdicts: Verdicts) -> None:
    check_interpreted_or_timed(verdicts)
