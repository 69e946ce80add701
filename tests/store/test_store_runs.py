"""Runs: creation, the shared problem row, the status lifecycle and the run list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from evaluator.types import EvalResult, Status
from kernels.candidate import Candidate
from kernels.errors import CrucibleError
from kernels.problem import Problem
from store import RunNotFound, RunStatus, Store


def _problem_rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM problems")).scalar_one())


def test_create_and_get_run(store: Store, problem_factory: Callable[..., Problem], tmp_path: Path) -> None:
    problem = problem_factory(tmp_path / "softmax.py", overrides={"N": 64})
    seed = 2**62 + 12345  # needs BIGINT
    run_id = store.create_run(
        problem, device="cuda:0", proposer="llm", budget=32, seed=seed, options={"models": ["a", "b"], "k": 3}
    )
    run = store.get_run(run_id)
    assert run.id == run_id
    assert run.problem_name == "softmax"
    assert run.problem_path == tmp_path / "softmax.py"
    assert run.problem_source == problem.source
    assert run.overrides == {"N": 64}
    assert (run.device, run.proposer, run.budget, run.seed) == ("cuda:0", "llm", 32, seed)
    assert run.status is RunStatus.QUEUED
    assert run.options == {"models": ["a", "b"], "k": 3}
    assert run.error is None
    assert run.started_at is None and run.finished_at is None
    assert run.created_at.tzinfo is not None and run.created_at.utcoffset() == timedelta(0)
    assert run.updated_at >= run.created_at
    assert len(run.problem_sha256) == 64


def test_runs_of_one_problem_share_its_row(
    store: Store, problem_factory: Callable[..., Problem], tmp_path: Path
) -> None:
    first = problem_factory(tmp_path / "a" / "softmax.py")
    store.create_run(first, device="cpu", proposer="offline", budget=1, seed=1, options={})
    moved = problem_factory(tmp_path / "b" / "softmax.py")
    latest = store.create_run(moved, device="cpu", proposer="offline", budget=1, seed=2, options={})
    assert _problem_rows(store) == 1
    assert store.get_run(latest).problem_path == tmp_path / "b" / "softmax.py"

    store.create_run(
        problem_factory(tmp_path / "softmax.py", overrides={"N": 8}),
        device="cpu",
        proposer="offline",
        budget=1,
        seed=3,
        options={},
    )
    store.create_run(
        problem_factory(tmp_path / "softmax.py", source="# edited\n"),
        device="cpu",
        proposer="offline",
        budget=1,
        seed=4,
        options={},
    )
    assert _problem_rows(store) == 3


def test_status_lifecycle_stamps_times(store: Store, run_id: int) -> None:
    store.set_run_status(run_id, RunStatus.RUNNING)
    running = store.get_run(run_id)
    assert running.status is RunStatus.RUNNING
    assert running.started_at is not None and running.finished_at is None

    store.set_run_status(run_id, RunStatus.INTERRUPTED, error="worker lost")
    interrupted = store.get_run(run_id)
    assert interrupted.status is RunStatus.INTERRUPTED
    assert interrupted.error == "worker lost"
    assert interrupted.finished_at is not None and interrupted.finished_at >= running.started_at

    store.set_run_status(run_id, "queued")  # a plain string works too
    requeued = store.get_run(run_id)
    assert requeued.status is RunStatus.QUEUED
    assert requeued.finished_at is None and requeued.error is None

    store.set_run_status(run_id, RunStatus.RUNNING)
    resumed = store.get_run(run_id)
    assert resumed.started_at == running.started_at  # the first start is kept

    store.set_run_status(run_id, RunStatus.COMPLETED)
    done = store.get_run(run_id)
    assert done.status is RunStatus.COMPLETED
    assert done.finished_at is not None and done.finished_at.tzinfo == timezone.utc
    assert done.updated_at >= resumed.updated_at >= running.updated_at


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.CANCELLED])
def test_terminal_statuses_finish_the_run(store: Store, run_id: int, status: RunStatus) -> None:
    store.set_run_status(run_id, status, error="stopped")
    run = store.get_run(run_id)
    assert run.status is status and run.status.terminal
    assert run.finished_at is not None
    assert run.error == "stopped"


def test_unknown_status_is_refused(store: Store, run_id: int) -> None:
    with pytest.raises(ValueError):
        store.set_run_status(run_id, "paused")
    assert store.get_run(run_id).status is RunStatus.QUEUED


def test_unknown_run_raises_run_not_found(store: Store) -> None:
    with pytest.raises(RunNotFound, match="run 999 does not exist") as caught:
        store.get_run(999)
    assert isinstance(caught.value, CrucibleError)
    assert caught.value.run_id == 999
    with pytest.raises(RunNotFound):
        store.set_run_status(999, RunStatus.RUNNING)


def test_bad_run_arguments_are_refused(store: Store, problem: Problem) -> None:
    with pytest.raises(ValueError, match="seed"):
        store.create_run(problem, device="cpu", proposer="offline", budget=1, seed=2**64 - 1, options={})
    with pytest.raises(ValueError, match="JSON"):
        store.create_run(problem, device="cpu", proposer="offline", budget=1, seed=1, options={"x": object()})
    assert store.list_runs() == []


def test_list_runs_newest_first_with_progress(
    store: Store,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    older = store.create_run(problem, device="cpu", proposer="offline", budget=8, seed=1, options={})
    newer = store.create_run(problem, device="cuda:0", proposer="llm", budget=4, seed=2, options={})
    verdicts = [
        result_factory(speedup=1.5),
        result_factory(speedup=2.5),
        result_factory(speedup=9.0, interpreted=True),  # not a real timing
        result_factory(Status.WRONG_OUTPUT),
    ]
    for n, verdict in enumerate(verdicts):
        store.record_result(store.add_candidate(older, candidate_factory(n)), verdict)
    store.add_candidate(older, candidate_factory(99))  # pending

    summaries = store.list_runs()
    assert [s.id for s in summaries] == [newer, older]
    latest, first = summaries
    assert (latest.evaluated, latest.ok, latest.best_speedup) == (0, 0, None)
    assert (latest.device, latest.proposer, latest.budget) == ("cuda:0", "llm", 4)
    assert (first.evaluated, first.ok) == (4, 3)
    assert first.best_speedup == pytest.approx(2.5)
    assert first.problem_name == "softmax" and first.status is RunStatus.QUEUED
    assert [s.id for s in store.list_runs(limit=1)] == [newer]


def test_a_run_keeps_the_limits_it_was_started_with(store: Store, problem: Problem) -> None:
    limits = {"timing_budget_ms": 123.0, "trials": 4, "timing_method": "events", "sandbox": False}
    kept = store.create_run(problem, device="cpu", proposer="offline", budget=3, seed=5, limits=limits)
    older = store.create_run(problem, device="cpu", proposer="offline", budget=3, seed=6)
    assert store.get_run(kept).limits == limits
    assert store.get_run(older).limits is None
    with pytest.raises(ValueError, match="limits must be JSON-serializable"):
        store.create_run(problem, device="cpu", proposer="offline", budget=3, seed=7, limits={"x": object()})
