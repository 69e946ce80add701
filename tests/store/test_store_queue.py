"""The runs table as the job queue: atomic claims, leases and their expiry, failures counted,
cancellation, and paged listings; on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time

from kernels.problem import Problem
from store.queue import LOST_WORKER
from store.repository import Store
from store.runs import RunFilter
from store.status import RunStatus


def queue(store: Store, problem: Problem, count: int, **fields: object) -> list[int]:
    options = {"device": "cpu", "proposer": "offline", "budget": 4, "seed": 1, "options": {}}
    options.update(fields)
    return [store.create_run(problem, **options) for _ in range(count)]  # type: ignore[arg-type]


def test_claims_take_the_oldest_queued_run_once(store: Store, problem: Problem) -> None:
    first, second = queue(store, problem, 2)
    lease = store.claim_run("w1", 60)
    assert lease is not None and lease.run_id == first and lease.held
    run = store.get_run(first)
    assert run.status is RunStatus.RUNNING and run.claimed_by == "w1" and run.claims == 1
    assert run.lease_expires_at is not None and run.started_at is not None
    assert store.claim_run("w2", 60).run_id == second  # type: ignore[union-attr]
    assert store.claim_run("w3", 60) is None
    assert store.queue_depth() == 0


def test_racing_workers_never_claim_the_same_run(db_url: str, problem: Problem) -> None:
    with Store(db_url) as setup:
        ids = queue(setup, problem, 40)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with Store(db_url) as own:  # one engine per worker, as separate processes have
                mine = claimed.setdefault(name, [])
                while (lease := own.claim_run(name, 60)) is not None:
                    mine.append(lease.run_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    everything = [run_id for runs in claimed.values() for run_id in runs]
    assert sorted(everything) == ids, "every run claimed exactly once"


def test_a_dead_workers_run_is_reclaimed_once_its_lease_expires(store: Store, problem: Problem) -> None:
    (run_id,) = queue(store, problem, 1)
    store.claim_run("dead", 0.2)
    assert store.claim_run("alive", 60) is None, "the lease still holds"
    time.sleep(0.4)
    lease = store.claim_run("alive", 60)
    assert lease is not None and lease.run_id == run_id
    run = store.get_run(run_id)
    assert run.claimed_by == "alive" and run.claims == 2 and run.failure_streak == 1
    assert run.error == LOST_WORKER
    stale = store.renew_lease(run_id, "dead", 60)
    assert not stale.held, "the old worker learns it lost the run"
    assert store.renew_lease(run_id, "alive", 60).held


def test_a_run_that_keeps_losing_its_worker_is_failed_not_retried_forever(
    store: Store, problem: Problem
) -> None:
    (run_id,) = queue(store, problem, 1)
    for attempt in range(3):
        assert store.claim_run(f"w{attempt}", 0.05) is not None
        time.sleep(0.1)
    assert store.claim_run("w-last", 60) is None
    run = store.get_run(run_id)
    assert run.status is RunStatus.FAILED and run.finished_at is not None
    assert "3 claims in a row" in (run.error or "") and LOST_WORKER in (run.error or "")


def test_the_same_failure_three_times_fails_the_run_and_a_new_failure_starts_over(
    store: Store, problem: Problem
) -> None:
    (run_id,) = queue(store, problem, 1)
    outcomes = []
    for reason in ("boom", "boom", "other", "other", "other"):
        assert store.claim_run("w", 60) is not None
        outcomes.append(store.hand_back_run(run_id, "w", reason))
    assert outcomes == [RunStatus.QUEUED] * 4 + [RunStatus.FAILED]
    run = store.get_run(run_id)
    assert run.status is RunStatus.FAILED and "other" in (run.error or "")
    assert store.hand_back_run(run_id, "someone-else", "x") is None


def test_a_drained_run_goes_back_to_the_queue_uncounted(store: Store, problem: Problem) -> None:
    (run_id,) = queue(store, problem, 1)
    store.claim_run("w", 60)
    assert store.hand_back_run(run_id, "w") is RunStatus.QUEUED
    run = store.get_run(run_id)
    assert run.status is RunStatus.QUEUED and run.claimed_by is None and run.failure_streak == 0
    assert store.queue_depth() == 1


def test_cancel_stops_a_queued_run_at_once_and_asks_a_running_one(store: Store, problem: Problem) -> None:
    queued, running = queue(store, problem, 2)
    store.claim_run("w", 60)  # takes `queued`, the oldest
    assert store.request_cancel(running) is RunStatus.CANCELLED
    assert store.get_run(running).finished_at is not None
    assert store.request_cancel(queued) is RunStatus.RUNNING, "a running run is asked, not killed"
    assert store.renew_lease(queued, "w", 60).cancel_requested
    assert store.cancel_requested(queued)
    assert store.hand_back_run(queued, "w") is RunStatus.CANCELLED, "handed back while cancelling: done"
    assert store.request_cancel(queued) is RunStatus.CANCELLED  # a finished run keeps its status


def test_release_clears_the_lease_of_a_finished_run(store: Store, problem: Problem) -> None:
    (run_id,) = queue(store, problem, 1)
    store.claim_run("w", 60)
    store.set_run_status(run_id, RunStatus.COMPLETED)
    assert not store.release_run(run_id, "other")
    assert store.release_run(run_id, "w")
    run = store.get_run(run_id)
    assert run.claimed_by is None and run.lease_expires_at is None and run.status is RunStatus.COMPLETED


def test_runs_are_listed_a_page_at_a_time_with_filters(store: Store, problem: Problem) -> None:
    cpu = queue(store, problem, 5)
    other = queue(store, problem, 2, device="cuda:0")
    store.request_cancel(cpu[0])
    page, total = store.runs_page(limit=3)
    assert total == 7 and [r.id for r in page] == sorted(cpu + other, reverse=True)[:3]
    rest, _ = store.runs_page(limit=3, offset=6)
    assert [r.id for r in rest] == [cpu[0]]
    on_gpu, gpu_total = store.runs_page(RunFilter(device="cuda:0"))
    assert gpu_total == 2 and {r.id for r in on_gpu} == set(other)
    cancelled, _ = store.runs_page(RunFilter(status=RunStatus.CANCELLED))
    assert [r.id for r in cancelled] == [cpu[0]]
    assert store.runs_page(RunFilter(problem="no-such-problem")) == ([], 0)
