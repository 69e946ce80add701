"""Leaderboard, best candidate, Pareto front and lineage over a run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate
from kernels.problem import Problem
from store import CandidateNotFound, RunNotFound, Store

CandidateFactory = Callable[..., Candidate]
ResultFactory = Callable[..., EvalResult]


@pytest.fixture
def judged(
    store: Store, run_id: int, candidate_factory: CandidateFactory
) -> Callable[[int, EvalResult | None], int]:
    """Add candidate ``n`` to the run and record ``result`` for it (None leaves it pending)."""

    def add(n: int, result: EvalResult | None) -> int:
        candidate_id = store.add_candidate(run_id, candidate_factory(n))
        if result is not None:
            store.record_result(candidate_id, result)
        return candidate_id

    return add


def test_leaderboard_ranks_real_timings_only(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    slow = judged(1, result_factory(speedup=1.5))
    fastest = judged(2, result_factory(speedup=3.0))
    middle = judged(3, result_factory(speedup=2.0))
    judged(4, result_factory(speedup=40.0, interpreted=True))
    judged(5, result_factory(Status.WRONG_OUTPUT, speedup=80.0))
    judged(6, result_factory(Status.REJECTED, speedup=99.0))
    judged(7, None)

    board = store.leaderboard(run_id)
    assert [record.id for record in board] == [fastest, middle, slow]
    assert [record.result.speedup for record in board if record.result] == pytest.approx([3.0, 2.0, 1.5])
    assert [record.id for record in store.leaderboard(run_id, limit=2)] == [fastest, middle]


def test_leaderboard_is_per_run(
    store: Store,
    run_id: int,
    judged: Callable[[int, EvalResult | None], int],
    candidate_factory: CandidateFactory,
    result_factory: ResultFactory,
) -> None:
    mine = judged(1, result_factory(speedup=2.0))
    problem = store.get_run(run_id)
    other_run = store.create_run(
        Problem(problem.problem_name, problem.problem_path, problem.problem_source, (), {}),
        device="cuda:0",
        proposer="offline",
        budget=1,
        seed=9,
        options={},
    )
    store.record_result(store.add_candidate(other_run, candidate_factory(2)), result_factory(speedup=5.0))
    assert [record.id for record in store.leaderboard(run_id)] == [mine]
    with pytest.raises(RunNotFound):
        store.leaderboard(other_run + 1)


def test_best_candidate_prefers_speed(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    judged(1, result_factory(speedup=1.2, err=0.0))
    fast = judged(2, result_factory(speedup=2.2, err=1e-4))
    best = store.best_candidate(run_id)
    assert best is not None and best.id == fast


def test_best_candidate_falls_back_to_accuracy_when_nothing_is_timed(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    """A CPU run of Triton candidates is interpreted only: pick the most accurate ok one."""
    judged(1, result_factory(interpreted=True, err=1e-3))
    precise = judged(2, result_factory(interpreted=True, err=1e-7))
    judged(3, result_factory(interpreted=True, err=1e-5))
    judged(4, result_factory(Status.WRONG_OUTPUT, err=0.0))
    best = store.best_candidate(run_id)
    assert best is not None and best.id == precise


def test_best_candidate_is_none_without_an_ok_candidate(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    assert store.best_candidate(run_id) is None
    judged(1, result_factory(Status.RUNTIME_ERROR))
    judged(2, None)
    assert store.best_candidate(run_id) is None
    with pytest.raises(RunNotFound):
        store.best_candidate(run_id + 1)


def test_pareto_front_over_latency_error_and_memory(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    fast_rough = judged(1, result_factory(latency_us=10.0, err=1e-3, mem=4096))
    slow_precise = judged(2, result_factory(latency_us=30.0, err=1e-7, mem=4096))
    lean = judged(3, result_factory(latency_us=50.0, err=1e-3, mem=1024))
    judged(4, result_factory(latency_us=20.0, err=1e-3, mem=4096))  # dominated by fast_rough
    judged(5, result_factory(latency_us=1.0, err=0.0, mem=1, interpreted=True))  # not timed
    judged(6, result_factory(Status.WRONG_OUTPUT, latency_us=1.0, err=0.0, mem=1))
    judged(7, None)

    front = store.pareto(run_id)
    assert [record.id for record in front] == [fast_rough, slow_precise, lean]


def test_a_cached_front_moves_when_a_new_verdict_lands(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    first = judged(1, result_factory(latency_us=10.0, err=1e-3, mem=4096))
    assert [r.id for r in store.pareto(run_id)] == [first]
    assert [r.id for r in store.pareto(run_id)] == [first]  # from the cache
    pending = judged(2, None)
    assert [r.id for r in store.pareto(run_id)] == [first]
    store.record_result(pending, result_factory(latency_us=5.0, err=1e-4, mem=1024))  # dominates
    assert [r.id for r in store.pareto(run_id)] == [pending]


def test_candidate_pages_and_run_progress(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    ids = [judged(n, result_factory() if n % 3 else result_factory(Status.WRONG_OUTPUT)) for n in range(1, 8)]
    judged(8, None)
    page, total = store.candidates_page(run_id, limit=3, offset=2)
    assert total == 8 and [r.id for r in page] == ids[2:5]
    assert store.candidates_page(run_id, limit=3, offset=8) == ([], 8)
    progress = store.run_progress(run_id)
    assert progress.evaluated == 7 and progress.llm_ok == 0 and progress.run.id == run_id
    assert progress.best is not None and progress.best.id == store.best_candidate(run_id).id
    with pytest.raises(RunNotFound):
        store.candidates_page(run_id + 1, limit=3)


def test_the_kept_front_is_the_brute_force_front_and_the_counters_the_counts(
    store: Store, run_id: int, judged: Callable[[int, EvalResult | None], int], result_factory: ResultFactory
) -> None:
    import random

    from kernels.pareto import dominates

    rng = random.Random(5)
    points: dict[int, tuple[float, float, float]] = {}
    for n in range(60):
        # Few distinct values, so dominance and exact ties are common.
        values = (float(rng.randrange(1, 6)), rng.choice([1e-6, 1e-5, 1e-4]), rng.choice([1024, 2048, 4096]))
        status = Status.OK if n % 7 else Status.WRONG_OUTPUT
        cid = judged(n, result_factory(status, latency_us=values[0], err=values[1], mem=values[2]))
        if status is Status.OK:
            points[cid] = values
        if n % 10 == 9:  # the front after each batch of verdicts, not only at the end
            order = list(points)  # judged order: of equal points the first judged stays
            expected = [
                cid
                for i, cid in enumerate(order)
                if not any(dominates(points[o], points[cid]) for o in order)
                and not any(points[o] == points[cid] for o in order[:i])
            ]
            expected.sort(key=lambda c: points[c])
            assert [r.id for r in store.pareto(run_id)] == expected
    judged(99, None)
    run = store.get_run(run_id)
    assert (run.candidate_count, run.verdict_count) == (61, 60) == (len(store.candidates(run_id)), 60)
    assert store.count_evaluated(run_id) == 60


def test_pareto_of_an_empty_run(store: Store, run_id: int) -> None:
    assert store.pareto(run_id) == []
    with pytest.raises(RunNotFound):
        store.pareto(run_id + 1)


def test_lineage_walks_parents_root_first(
    store: Store, run_id: int, candidate_factory: CandidateFactory
) -> None:
    root = store.add_candidate(run_id, candidate_factory(1))
    child = store.add_candidate(run_id, candidate_factory(2), parent_id=root)
    grandchild = store.add_candidate(run_id, candidate_factory(3), parent_id=child)
    sibling = store.add_candidate(run_id, candidate_factory(4), parent_id=root)
    leaf = store.add_candidate(run_id, candidate_factory(5), parent_id=grandchild)

    assert [record.id for record in store.lineage(leaf)] == [root, child, grandchild]
    assert [record.id for record in store.lineage(sibling)] == [root]
    assert store.lineage(root) == []
    with pytest.raises(CandidateNotFound):
        store.lineage(leaf + 100)
