"""Timed outputs checked at positions drawn after the call (``evaluator.checks.spot_checks``)."""

from __future__ import annotations

import torch

from evaluator.checks.correctness import reference_scale
from evaluator.checks.spot_checks import SPOT_POSITIONS, compare_spots, draw_positions, gather_spots
from kernels.problem import Tolerance

TOLERANCES = {"float32": Tolerance(1e-5, 1e-4), "int64": Tolerance(0.0, 0.0)}


def check(expected: list[torch.Tensor], outputs: list[torch.Tensor], seed: int = 0):  # type: ignore[no-untyped-def]
    positions = draw_positions(expected, torch.Generator().manual_seed(seed))
    spots = gather_spots(outputs, positions)
    return compare_spots(expected, spots, positions, TOLERANCES, [reference_scale(t) for t in expected])


def test_small_outputs_are_checked_in_full_and_large_ones_at_sorted_positions() -> None:
    small, large = torch.zeros(SPOT_POSITIONS), torch.zeros(3 * SPOT_POSITIONS + 5)
    few, many = draw_positions([small, large], torch.Generator().manual_seed(1))
    assert torch.equal(few, torch.arange(SPOT_POSITIONS))
    assert many.numel() == SPOT_POSITIONS
    assert bool((many[1:] >= many[:-1]).all()) and int(many[0]) >= 0 and int(many[-1]) < large.numel()
    again = draw_positions([large], torch.Generator().manual_seed(2))[0]
    assert not torch.equal(many, again)


def test_an_honest_output_passes_and_one_wrong_on_one_percent_fails() -> None:
    ref = torch.softmax(torch.randn(300, 1000), dim=-1)
    assert check([ref], [ref + 1e-9]).ok
    skipped = ref.clone()
    skipped[-3:] = 0.0  # the last 1% of rows never written
    result = check([ref], [skipped])
    assert not result.ok
    assert f"at {SPOT_POSITIONS} positions drawn after the call" in result.reason


def test_a_stale_answer_and_a_wrong_layout_are_named() -> None:
    ref = torch.randn(400, 400)
    assert "elements outside" in check([ref], [torch.randn(400, 400)]).reason
    assert "has shape (400, 399)" in check([ref], [torch.randn(400, 399)]).reason
    assert "has dtype float64" in check([ref], [ref.double()]).reason
    assert "returned 2 output(s), expected 1" in check([ref], [ref, ref]).reason
    ints = torch.arange(10)
    assert check([ref, ints], [ref.clone(), ints.clone()]).ok
    assert "integer elements differ" in check([ref, ints], [ref.clone(), ints + 1]).reason


def test_a_file_that_is_not_values_and_shapes_is_refused() -> None:
    ref = torch.randn(10)
    positions = draw_positions([ref], torch.Generator())
    for junk in ([ref], [[ref]], [["x", [10]]]):
        result = compare_spots([ref], junk, positions, TOLERANCES, [1.0])
        assert not result.ok, junk


def test_atol_scales_with_the_whole_reference_not_the_sample() -> None:
    ref = torch.ones(1000)
    ref[-10:] = 1e4  # rms about 1000: atol is 1000x wider than for unit outputs
    noisy = ref + 1e-2
    positions = [torch.arange(16)]  # none of the large values: the sample alone has rms 1
    spots = gather_spots([noisy], positions)
    assert compare_spots([ref], spots, positions, TOLERANCES, [reference_scale(ref)]).ok
    assert not compare_spots([ref], spots, positions, TOLERANCES, [1.0]).ok
