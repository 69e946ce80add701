"""The migrations build exactly the models' schema, idempotently, and SQLite runs in WAL mode."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Index, Integer, MetaData, inspect, text
from sqlalchemy.exc import IntegrityError

import store
from evaluator.types import EvalResult
from kernels.candidate import Candidate
from kernels.problem import Problem
from store import Store
from store.engine import MIGRATIONS_DIR, current_revision, downgrade, head_revision, make_engine, upgrade
from store.models import Base

TABLES = {"problems", "runs", "candidates", "evaluations", "llm_calls", "island_migrations"}


def _diffs(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migration_creates_exactly_the_models(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}
    assert _diffs(store.engine, Base.metadata) == []
    assert current_revision(store.engine) == head_revision() == "0012"


def test_schema_comparison_notices_drift(store: Store) -> None:
    """The check above is only worth something if a model change shows up as a diff."""
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    candidates = drifted.tables["candidates"]
    candidates.append_column(Column("novelty", Integer, nullable=True))
    Index("ix_candidates_family", candidates.c.family)
    kinds = {diff[0] for diff in _diffs(store.engine, drifted) if isinstance(diff, tuple)}
    assert {"add_column", "add_index"} <= kinds


def test_indexes_the_queries_rely_on(store: Store) -> None:
    inspector = inspect(store.engine)
    candidate_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("candidates")}
    assert ("run_id", "status") in candidate_indexes
    assert ("parent_id",) in candidate_indexes
    run_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("runs")}
    assert ("status", "lease_expires_at") in run_indexes
    uniques = {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints("candidates")}
    assert ("run_id", "hash") in uniques


def test_bigint_columns_where_bytes_and_seeds_live(store: Store) -> None:
    inspector = inspect(store.engine)

    def type_of(table: str, column: str) -> str:
        return next(str(c["type"]) for c in inspector.get_columns(table) if c["name"] == column).upper()

    assert type_of("runs", "seed") == "BIGINT"
    assert type_of("candidates", "peak_mem_bytes") == "BIGINT"
    assert type_of("evaluations", "peak_mem_bytes") == "BIGINT"


def test_reopening_is_idempotent_and_keeps_data(db_url: str, problem: Problem) -> None:
    with Store(db_url) as first:
        run_id = first.create_run(problem, device="cpu", proposer="offline", budget=4, seed=7, options={})
    upgrade(db_url)
    with Store(db_url) as second:
        assert second.get_run(run_id).seed == 7
        assert current_revision(second.engine) == head_revision()


def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    upgrade(db_url)
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
        upgrade(engine)
        assert _diffs(engine, Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("back_to", ["0002", "0001"])
def test_the_timing_method_column_arrives_without_losing_a_result(
    back_to: str,
    db_url: str,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    """A store written before 0003 keeps its results; their shapes simply have no timing method.

    Taking it further back, past the candidates' own columns, must not cost the shapes either.
    """
    with Store(db_url) as first:
        run_id = first.create_run(problem, device="cpu", proposer="offline", budget=4, seed=7, options={})
        candidate_id = first.add_candidate(run_id, candidate_factory(1))
        first.record_result(candidate_id, result_factory(speedup=2.0))
    downgrade(db_url, back_to)
    upgrade(db_url)
    with Store(db_url) as reopened:
        back = reopened.get_candidate(candidate_id).result
    assert back is not None and back.speedup == pytest.approx(2.0)
    assert [s.timing_method for s in back.shapes] == [None, None]


def test_the_cpu_cores_column_arrives_and_leaves_without_losing_a_result(
    db_url: str,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    with Store(db_url) as first:
        run_id = first.create_run(problem, device="cpu", proposer="offline", budget=4, seed=7, options={})
        candidate_id = first.add_candidate(run_id, candidate_factory(1))
        first.record_result(candidate_id, result_factory(speedup=2.0))
    downgrade(db_url, "0004")
    upgrade(db_url)
    with Store(db_url) as reopened:
        back = reopened.get_candidate(candidate_id).result
    assert back is not None and back.speedup == pytest.approx(2.0)
    assert [s.cpu_cores for s in back.shapes] == [None, None]


def test_counts_and_fronts_of_runs_stored_before_0010_are_filled_in(
    db_url: str,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    with Store(db_url) as first:
        run_id = first.create_run(problem, device="cpu", proposer="offline", budget=4, seed=7, options={})
        ids = [first.add_candidate(run_id, candidate_factory(n)) for n in range(4)]
        first.record_result(ids[0], result_factory(latency_us=10.0, err=1e-3))
        first.record_result(ids[1], result_factory(latency_us=20.0, err=1e-6))
        first.record_result(ids[2], result_factory(latency_us=30.0, err=1e-3))  # dominated by ids[0]
        front = [r.id for r in first.pareto(run_id)]
    downgrade(db_url, "0009")
    upgrade(db_url)
    with Store(db_url) as reopened:
        run = reopened.get_run(run_id)
        assert (run.candidate_count, run.verdict_count) == (4, 3)
        assert [r.id for r in reopened.pareto(run_id)] == front == ids[:2]


def test_processes_racing_to_migrate_a_fresh_database(db_url: str) -> None:
    """Several workers opening one new database at once must all succeed, migrating it once."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait()
            Store(db_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_run_status_is_checked_by_the_database(store: Store, run_id: int) -> None:
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET status = 'bogus' WHERE id = :id"), {"id": run_id})


def test_sqlite_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dirs" / "crucible.db"
    with Store(f"sqlite:///{path}") as opened:
        assert path.exists()
        with opened.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        with pytest.raises(IntegrityError), opened.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (problem_id, status, device, proposer, budget, seed, options,"
                    " created_at, updated_at) VALUES (999, 'queued', 'cpu', 'offline', 1, 1, '{}',"
                    " '2025-01-01', '2025-01-01')"
                )
            )
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_in_memory_sqlite_is_one_database(problem: Problem) -> None:
    with Store("sqlite://") as opened:
        run_id = opened.create_run(problem, device="cpu", proposer="offline", budget=1, seed=1, options={})
        assert opened.get_run(run_id).id == run_id


def test_migrations_ship_inside_the_package() -> None:
    package_dir = Path(store.__file__).resolve().parent
    assert package_dir / "migrations" == MIGRATIONS_DIR
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (package_dir / "alembic.ini").is_file()


def test_import_connects_to_nothing_and_stays_in_its_lane(tmp_path: Path) -> None:
    """Importing the store creates no file and pulls in no evaluator runtime, agent or service."""
    probe = (
        "import sys, store, store.repository, store.queries, store.engine\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'agent', 'service', 'torch'}"
        " or (m.startswith('evaluator.') and m != 'evaluator.types'))\n"
        "print(','.join(bad))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""
    assert list(tmp_path.iterdir()) == []


def test_phase_seconds_survive_the_store_and_a_migration_round_trip(
    db_url: str,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    """Stored phases come back as they went in; a store taken back to 0003 and up again keeps the
    result, with no phases."""
    phases = {"start": 4.1, "correctness": 17.1, "timing": 12.7, "comparison": 3.0}
    with Store(db_url) as first:
        run_id = first.create_run(problem, device="cpu", proposer="offline", budget=4, seed=7, options={})
        candidate_id = first.add_candidate(run_id, candidate_factory(1))
        first.record_result(candidate_id, replace(result_factory(speedup=2.0), phase_seconds=phases))
        stored = first.get_candidate(candidate_id).result
    assert stored is not None and stored.phase_seconds == phases
    downgrade(db_url, "0003")
    upgrade(db_url)
    with Store(db_url) as reopened:
        back = reopened.get_candidate(candidate_id).result
    assert back is not None and back.speedup == pytest.approx(2.0) and back.phase_seconds is None


def test_the_run_limits_column_arrives_and_leaves_without_losing_a_run(
    db_url: str,
    problem: Problem,
    candidate_factory: Callable[..., Candidate],
    result_factory: Callable[..., EvalResult],
) -> None:
    with Store(db_url) as first:
        run_id = first.create_run(
            problem, device="cpu", proposer="offline", budget=4, seed=7, limits={"trials": 3}
        )
        candidate_id = first.add_candidate(run_id, candidate_factory(1))
        first.record_result(candidate_id, result_factory(speedup=2.0))
    downgrade(db_url, "0005")
    upgrade(db_url)
    with Store(db_url) as reopened:
        assert reopened.get_run(run_id).limits is None
        back = reopened.get_candidate(candidate_id).result
    assert back is not None and back.speedup == pytest.approx(2.0)
