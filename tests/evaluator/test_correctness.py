"""Output comparison, run outside the candidate's process."""

from __future__ import annotations

import pytest
import torch

from evaluator.checks import correctness
from evaluator.checks.correctness import compare_outputs, compare_tensor
from kernels.problem import Tolerance

TOL = Tolerance(1e-4, 1e-4)


def test_identical_and_within_tolerance_pass() -> None:
    ref = torch.randn(32, 64)
    assert compare_tensor(ref, ref.clone(), TOL).ok
    result = compare_tensor(ref, ref + 1e-6, TOL)
    assert result.ok and result.max_abs_err == pytest.approx(1e-6, rel=0.1)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r: r[:, :-1], "shape"),
        (lambda r: r.double(), "dtype"),
        (
            lambda r: r.masked_fill(
                torch.zeros_like(r, dtype=torch.bool).index_fill_(0, torch.tensor([0]), True), float("nan")
            ),
            "non-finite",
        ),
        (lambda r: torch.zeros_like(r), "constant"),
        (lambda r: r + 1e-2, "outside atol"),
    ],
)
def test_each_kind_of_wrong_output_is_named(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    ref = torch.randn(16, 16)
    result = compare_tensor(ref, mutate(ref), TOL)
    assert not result.ok
    assert reason in result.reason


def test_atol_scales_with_large_outputs() -> None:
    ref = torch.randn(64, 64) * 1e4
    noisy = ref + torch.randn_like(ref) * 0.05  # reduction-order noise at this magnitude
    assert compare_tensor(ref, noisy, TOL).ok
    assert not compare_tensor(ref, ref + 50.0, TOL).ok


def test_nonfinite_reference_positions_are_not_compared() -> None:
    ref = torch.tensor([1.0, float("inf"), 3.0])
    assert compare_tensor(ref, torch.tensor([1.0, 5.0, 3.0]), TOL).ok


def test_integer_outputs_must_match_exactly() -> None:
    ref = torch.arange(10)
    assert compare_tensor(ref, ref.clone(), TOL).ok
    assert not compare_tensor(ref, ref + (ref == 3).long(), TOL).ok


def test_output_count_must_match() -> None:
    ref = torch.randn(4)
    tol = {"float32": TOL}
    assert not compare_outputs([ref], [ref, ref], tol).ok
    assert compare_outputs([ref, ref], [ref, ref], tol).ok


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r.clone(),
        lambda r: r + 1e-6,
        lambda r: r.index_fill(0, torch.tensor([40]), float("nan")),
        lambda r: r.index_fill(0, torch.tensor([57]), 3.0),
        lambda r: torch.full_like(r, 0.5),
        lambda r: r * 1.01,
    ],
    ids=["same", "noise", "late_nan", "late_wrong", "constant", "scaled"],
)
def test_chunked_comparison_agrees_with_a_single_chunk(mutate, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Many chunks (7 elements each) reach the same verdict, reason and errors as one chunk does."""
    ref = torch.randn(64)
    ref[5] = float("inf")  # a position the comparison skips, in the first chunk
    out = mutate(ref)
    whole = compare_tensor(ref, out, TOL)
    monkeypatch.setattr(correctness, "CHUNK", 7)
    chunked = compare_tensor(ref, out, TOL)
    assert chunked == whole


def test_the_worst_element_is_named_wherever_it_lies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(correctness, "CHUNK", 5)
    ref = torch.linspace(1.0, 2.0, 50)
    out = ref.clone()
    out[3] += 0.01
    out[47] += 0.5
    result = compare_tensor(ref, out, TOL)
    assert not result.ok
    assert "2 of 50 elements" in result.reason
    assert f"expected {float(ref[47]):.6g}" in result.reason


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_every_float_width_is_compared(dtype: torch.dtype) -> None:
    ref = torch.randn(300, dtype=dtype)
    assert compare_tensor(ref, ref.clone(), Tolerance(1e-2, 1e-2)).ok
    wrong = ref.clone()
    wrong[123] += 1.0
    result = compare_tensor(ref, wrong, Tolerance(1e-2, 1e-2))
    assert not result.ok and "1 of 300 elements" in result.reason


def test_complex_outputs_compare_both_parts() -> None:
    ref = torch.randn(50, dtype=torch.complex64)
    assert compare_tensor(ref, ref.clone(), TOL).ok
    assert not compare_tensor(ref, ref + 0.5j, TOL).ok


def test_a_nonfinite_output_in_a_late_chunk_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(correctness, "CHUNK", 8)
    ref = torch.randn(64)
    out = ref.clone()
    out[61] = float("-inf")
    result = compare_tensor(ref, out, TOL)
    assert not result.ok and "1 non-finite value(s)" in result.reason


def test_sparse_and_meta_outputs_fail_by_name() -> None:
    ref = torch.randn(4, 4)
    assert "sparse_coo" in compare_tensor(ref, ref.to_sparse(), TOL).reason
    assert "on meta" in compare_tensor(ref, ref.to("meta"), TOL).reason
