"""Checks in the child around each call: inputs untouched, and memory of its own."""

from __future__ import annotations

import torch

from evaluator.child.call_guards import mutated_inputs, reused_output_memory


def test_untouched_inputs_pass_even_with_nans() -> None:
    x = torch.randn(100)
    x[7] = float("nan")
    y = torch.arange(5)
    assert mutated_inputs([x.clone(), y.clone(), 3], [x, y, 3]) == []


def test_a_changed_value_a_new_nan_and_a_removed_nan_are_each_found() -> None:
    base = torch.randn(100)
    base[3] = float("nan")
    changed, new_nan, removed_nan = base.clone(), base.clone(), base.clone()
    changed[50] += 1.0
    new_nan[60] = float("nan")
    removed_nan[3] = 0.0
    after = [base.clone(), changed, new_nan, removed_nan]
    assert mutated_inputs([base] * 4, after) == [1, 2, 3]


def test_an_output_in_memory_an_earlier_call_returned_is_found() -> None:
    buffer = torch.zeros(8)
    earlier = [torch.ones(3), buffer]
    assert reused_output_memory([torch.zeros(8)], earlier) is None
    assert reused_output_memory([torch.zeros(2), buffer[2:]], earlier) == 1  # a view of it counts too
    assert reused_output_memory([torch.empty(0)], [torch.empty(0)]) is None
