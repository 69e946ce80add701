"""Checks in the child around each call: inputs untouched, memory of its own, no stray threads."""

from __future__ import annotations

import threading

import torch

from evaluator.call_guards import LeftoverCheck, StrayThreads, mutated_inputs, reused_output_memory


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


def test_a_thread_running_after_a_timed_call_is_named_even_once_it_has_ended() -> None:
    offered: list[int] = []
    strays = StrayThreads(lambda sample, _: offered.append(sample), since=LeftoverCheck())
    strays.after_sample(0, None)
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="finisher")
    worker.start()
    strays.after_sample(1, None)  # the call returned with the thread still running
    release.set()
    worker.join()
    strays.after_sample(2, None)
    assert offered == [0, 1, 2]
    found = strays.leftovers()
    assert found is not None and "finisher" in found


def test_a_thread_that_ends_within_the_call_is_no_stray() -> None:
    strays = StrayThreads(lambda sample, _: None, since=LeftoverCheck())
    worker = threading.Thread(target=lambda: None)
    worker.start()
    worker.join()
    strays.after_sample(0, None)
    assert strays.leftovers() is None


def test_a_worker_started_before_the_timed_calls_is_a_stray_too() -> None:
    since = LeftoverCheck()  # as the harness takes it, before the candidate's module is loaded
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="idle-worker")
    worker.start()  # as at the candidate's import
    try:
        strays = StrayThreads(lambda sample, _: None, since=since)
        strays.after_sample(0, None)
        found = strays.leftovers()
        assert found is not None and "idle-worker" in found
    finally:
        release.set()
        worker.join()
