"""Workers over the queue, in real subprocesses: a queued run is claimed and finished; a worker
killed with SIGKILL mid-run loses nothing (another reclaims the run once the lease expires and
evaluates every budgeted candidate exactly once); SIGTERM drains; a cancel stops a running run;
a run that fails the same way three times is failed, not retried forever."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.settings import Settings
from service.worker import Worker
from store.repository import Store
from store.status import RunStatus
from tests.store.conftest import postgres_database

pytestmark = pytest.mark.slow  # whole optimizations in subprocesses

BUDGET = 6
LEASE_S = "3"


def start_worker(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def evaluated(store: Store, run_id: int) -> int:
    return store.count_evaluated(run_id)


@pytest.fixture
def worker_env(crucible_env: dict[str, str]) -> dict[str, str]:
    return {**crucible_env, "CRUCIBLE_WORKER_LEASE_S": LEASE_S, "CRUCIBLE_WORKER_POLL_S": "0.2"}


@pytest.fixture
def store(crucible_env: dict[str, str]):  # type: ignore[no-untyped-def]
    with Store(crucible_env["CRUCIBLE_DATABASE_URL"]) as opened:
        yield opened


def queue_run(crucible, problem_file: Path) -> int:  # type: ignore[no-untyped-def]
    queued = crucible("optimize", str(problem_file), "--budget", str(BUDGET), "--queue", "--json")
    assert queued.code == 0, queued.stderr
    document = queued.json()
    assert document["status"] == "queued"
    return int(document["run_id"])


def test_a_worker_killed_mid_run_loses_nothing_and_repeats_nothing(
    crucible, crucible_env, worker_env, store: Store, problem_file: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    run_id = queue_run(crucible, problem_file)
    first = start_worker(worker_env, tmp_path)
    try:
        wait_for(lambda: evaluated(store, run_id) >= 2, 240, "two evaluations by the first worker")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert store.get_run(run_id).status is RunStatus.RUNNING, "a dead worker's run stays claimed"
    # Started at once, while the dead worker's lease still runs: it waits for the lease to lapse.
    second = start_worker(worker_env, tmp_path, "--until-idle")
    output, _ = second.communicate(timeout=600)
    assert second.returncode == 0, output
    run = store.get_run(run_id)
    assert run.status is RunStatus.COMPLETED, (run.status, run.error, output)
    assert run.claims == 2 and run.claimed_by is None
    candidates = store.candidates(run_id)
    assert len([c for c in candidates if c.result is not None]) == BUDGET
    assert len({c.hash for c in candidates}) == len(candidates), "no candidate stored twice"
    assert f"run {run_id}: completed" in output
    crucible_env["COLUMNS"] = "120"  # a table wide enough that no status wraps
    watched = crucible("runs", "--watch", timeout=60)  # every run has finished: one table, then done
    assert watched.code == 0 and "completed" in watched.stdout


def test_sigterm_drains_the_run_back_to_the_queue(
    crucible, worker_env, store: Store, problem_file: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    run_id = queue_run(crucible, problem_file)
    worker = start_worker(worker_env, tmp_path)
    wait_for(lambda: evaluated(store, run_id) >= 1, 240, "a first evaluation")
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=120)
    assert worker.returncode == 0, output
    assert "drained" in output and time.monotonic() - started < 60
    run = store.get_run(run_id)
    assert run.status is RunStatus.QUEUED and run.claimed_by is None and run.failure_streak == 0
    kept = evaluated(store, run_id)
    assert 1 <= kept < BUDGET


def test_a_cancel_stops_a_running_run_within_seconds(
    crucible, worker_env, store: Store, problem_file: Path, tmp_path: Path
):  # type: ignore[no-untyped-def]
    run_id = queue_run(crucible, problem_file)
    worker = start_worker(worker_env, tmp_path)
    try:
        wait_for(lambda: evaluated(store, run_id) >= 1, 240, "a first evaluation")
        assert store.request_cancel(run_id) is RunStatus.RUNNING
        wait_for(lambda: store.get_run(run_id).status is RunStatus.CANCELLED, 60, "the run to be cancelled")
        assert store.get_run(run_id).claimed_by is None or evaluated(store, run_id) < BUDGET
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=120)


def test_a_run_that_fails_the_same_way_three_times_is_failed(
    crucible, crucible_env, store: Store, problem_file: Path
):  # type: ignore[no-untyped-def]
    run_id = queue_run(crucible, problem_file)
    problem_file.write_text(problem_file.read_text() + "\n# edited after the run was queued\n")
    settings = Settings(database_url=crucible_env["CRUCIBLE_DATABASE_URL"], worker_lease_s=5)
    ends = []
    Worker(settings, store, name="in-process").run(until_idle=True, on_end=ends.append)
    assert [e.status for e in ends] == [RunStatus.QUEUED, RunStatus.QUEUED, RunStatus.FAILED]
    run = store.get_run(run_id)
    assert run.status is RunStatus.FAILED and run.claims == 3
    assert "3 claims in a row" in (run.error or "") and "changed since run" in (run.error or "")


def test_optimize_queue_refuses_what_a_foreground_run_refuses(crucible, problem_file: Path):  # type: ignore[no-untyped-def]
    bad = crucible("optimize", str(problem_file), "--budget", "0", "--queue")
    assert bad.code == 2 and "--budget must be at least 1" in bad.stderr
    both = crucible("optimize", "--resume", "1", "--queue")
    assert both.code == 2 and "--queue starts a new run" in both.stderr


def test_the_worker_command_has_help() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        timeout=60,
    )
    assert shown.returncode == 0 and "--until-idle" in shown.stdout


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    with postgres_database("crucible_worker") as url:
        yield url


def restart_postgres() -> None:
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    if not clusters or shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        pytest.skip("restarting PostgreSQL needs pg_ctlcluster and root")
    version = clusters[-1].parent.name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.postgres
@pytest.mark.serial  # the restart cuts every connection to the server, other tests' too
def test_a_database_restart_mid_run_loses_nothing_and_repeats_nothing(
    crucible, crucible_env, problem_file: Path, tmp_path: Path, postgres_url: str
):  # type: ignore[no-untyped-def]
    crucible_env["CRUCIBLE_DATABASE_URL"] = postgres_url
    env = {**crucible_env, "CRUCIBLE_WORKER_LEASE_S": LEASE_S, "CRUCIBLE_WORKER_POLL_S": "0.2"}
    run_id = queue_run(crucible, problem_file)
    with Store(postgres_url) as store:
        worker = start_worker(env, tmp_path)
        try:
            wait_for(lambda: evaluated(store, run_id) >= 2, 240, "two evaluations")
            restart_postgres()
            wait_for(
                lambda: _status(store, run_id) is RunStatus.COMPLETED,
                600,
                "the run to complete after the restart",
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=120)
        candidates = store.candidates(run_id)
        assert len([c for c in candidates if c.result is not None]) == BUDGET, output
        assert len({c.hash for c in candidates}) == len(candidates), "no candidate stored twice"


def _status(store: Store, run_id: int) -> RunStatus | None:
    """The run's status, or None while the database is still coming back."""
    try:
        return store.get_run(run_id).status
    except Exception:
        return None
