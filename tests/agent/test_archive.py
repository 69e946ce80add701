"""The archive: bests per family and overall, the untimed fallback, the Pareto front, select."""

from __future__ import annotations

import random

import pytest

from agent.archive import Archive
from evaluator.types import EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate


def cand(family: str, n: int) -> Candidate:
    return Candidate(source=f"class ModelNew:\n    k = {n}\n", family=family)


@pytest.fixture
def archive() -> Archive:
    return Archive()


def test_empty_archive_has_no_best_front_or_parent(archive: Archive) -> None:
    assert archive.best() is None
    assert archive.best_by_family() == {}
    assert archive.pareto() == []
    assert archive.select(random.Random(0)) is None
    assert archive.status_counts() == {}


def test_best_is_lowest_latency_among_ok_timed_results(archive: Archive, ok_result, failed_result) -> None:
    archive.update(1, cand("a", 1), ok_result(30.0))
    archive.update(2, cand("a", 2), ok_result(12.0))
    archive.update(3, cand("a", 3), failed_result(Status.WRONG_OUTPUT))
    archive.update(4, cand("a", 4), ok_result(1.0, interpreted=True))  # untimed: never beats a timed one
    archive.update(5, cand("b", 1), ok_result(20.0))
    archive.update(6, cand("b", 2), ok_result(25.0))
    bests = archive.best_by_family()
    assert {f: e.candidate_id for f, e in bests.items()} == {"a": 2, "b": 5}
    best = archive.best()
    assert best is not None and best.candidate_id == 2
    assert archive.best_in("b") is bests["b"]
    assert archive.best_in("missing") is None


def test_wrong_output_with_timings_is_never_best(archive: Archive) -> None:
    fast_but_wrong = EvalResult(
        Status.WRONG_OUTPUT, Stage.CORRECTNESS, "mismatch", shapes=(ShapeMetrics("s", median_us=0.1),)
    )
    archive.update(1, cand("a", 1), fast_but_wrong)
    assert archive.best() is None
    assert archive.pareto() == []


def test_family_with_only_untimed_results_falls_back_to_lowest_error(archive: Archive, ok_result) -> None:
    archive.update(1, cand("t", 1), ok_result(5.0, error=1e-3, interpreted=True))
    archive.update(2, cand("t", 2), ok_result(9.0, error=1e-6, interpreted=True))
    archive.update(3, cand("t", 3), ok_result(1.0, error=1e-4, interpreted=True))
    best_t = archive.best_in("t")
    assert best_t is not None and best_t.candidate_id == 2
    overall = archive.best()
    assert overall is not None and overall.candidate_id == 2
    archive.update(4, cand("p", 1), ok_result(500.0, error=1e-2))  # a slow but timed result wins overall
    overall = archive.best()
    assert overall is not None and overall.candidate_id == 4
    archive.update(5, cand("t", 4), ok_result(80.0, error=1e-2))  # and within its own family
    best_t = archive.best_in("t")
    assert best_t is not None and best_t.candidate_id == 5


def test_ties_go_to_lower_error_then_earlier_id(archive: Archive, ok_result) -> None:
    archive.update(7, cand("a", 1), ok_result(10.0, error=1e-3))
    archive.update(8, cand("a", 2), ok_result(10.0, error=1e-5))
    archive.update(9, cand("a", 3), ok_result(10.0, error=1e-5))
    best = archive.best()
    assert best is not None and best.candidate_id == 8


def test_a_new_result_for_the_same_id_replaces_the_old(archive: Archive, ok_result, failed_result) -> None:
    archive.update(1, cand("a", 1), ok_result(5.0))
    archive.update(2, cand("a", 2), ok_result(8.0))
    archive.update(1, cand("a", 1), failed_result(Status.TIMEOUT))
    best = archive.best()
    assert best is not None and best.candidate_id == 2
    assert len(archive) == 2
    assert archive.status_counts() == {Status.OK: 1, Status.TIMEOUT: 1}


def test_pareto_front_over_latency_error_memory(archive: Archive, ok_result, failed_result) -> None:
    archive.update(1, cand("a", 1), ok_result(10.0, error=1e-3, mem=100))  # fastest
    archive.update(2, cand("a", 2), ok_result(20.0, error=1e-6, mem=100))  # most accurate
    archive.update(3, cand("a", 3), ok_result(30.0, error=1e-3, mem=100))  # dominated by 1
    archive.update(4, cand("b", 1), ok_result(40.0, error=1e-6, mem=10))  # least memory
    archive.update(5, cand("b", 2), ok_result(1.0, error=0.0, mem=1, interpreted=True))  # untimed: out
    archive.update(6, cand("b", 3), failed_result(Status.RUNTIME_ERROR))  # failed: out
    archive.update(7, cand("b", 4), ok_result(20.0, error=1e-6, mem=100))  # same point as 2: first kept
    assert [e.candidate_id for e in archive.pareto()] == [1, 2, 4]


def test_select_draws_parents_from_front_and_family_bests(archive: Archive, ok_result) -> None:
    archive.update(1, cand("a", 1), ok_result(10.0, error=1e-3))
    archive.update(2, cand("a", 2), ok_result(20.0, error=1e-6))
    archive.update(3, cand("a", 3), ok_result(30.0, error=1e-2))  # dominated, not a best: never drawn
    archive.update(4, cand("t", 1), ok_result(1.0, interpreted=True))  # best of an untimed family
    drawn = [archive.select(random.Random(seed)) for seed in range(200)]
    assert {e.candidate_id for e in drawn if e is not None} == {1, 2, 4}
    rng_a, rng_b = random.Random(5), random.Random(5)
    assert [archive.select(rng_a) for _ in range(20)] == [archive.select(rng_b) for _ in range(20)]


def test_status_counts(archive: Archive, ok_result, failed_result) -> None:
    archive.update(1, cand("a", 1), ok_result(1.0))
    archive.update(2, cand("a", 2), failed_result(Status.COMPILE_ERROR))
    archive.update(3, cand("a", 3), failed_result(Status.COMPILE_ERROR))
    archive.update(4, cand("a", 4), failed_result(Status.CRASHED))
    assert archive.status_counts() == {Status.OK: 1, Status.COMPILE_ERROR: 2, Status.CRASHED: 1}
    assert [e.candidate_id for e in archive.entries] == [1, 2, 3, 4]
