"""Fixtures for the store tests: a fresh database per test, on SQLite and on real PostgreSQL.

Every test that takes ``db_url`` (or ``store``) runs twice: once on a SQLite file in ``tmp_path``
and once on a new PostgreSQL database created for it and dropped afterwards. The PostgreSQL
half is marked ``postgres`` and skips with the reason when no server answers on 127.0.0.1:5432.

The builders are fixtures returning functions, so test modules need no shared helper module.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Origin
from kernels.config import Config
from kernels.problem import Problem, Shape
from store import Store

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_ADMIN_DB = "test"
PG_USERS = ("postgres", "root")

CPU = DeviceInfo(
    key="cpu", kind="cpu", name="x86_64", driver=None, torch_version="2.4.0", triton_version="3.0.0"
)


@functools.cache
def _postgres_user() -> tuple[str | None, str]:
    """The user that can reach the test server, or None and why not (probed once per session)."""
    try:
        import psycopg
    except ImportError:
        return None, "psycopg is not installed"
    failures = []
    for user in PG_USERS:
        try:
            with psycopg.connect(
                host=PG_HOST, port=PG_PORT, user=user, dbname=PG_ADMIN_DB, connect_timeout=3
            ):
                return user, ""
        except psycopg.Error as exc:
            failures.append(f"{user}: {str(exc).strip()}")
    return None, f"PostgreSQL on {PG_HOST}:{PG_PORT}/{PG_ADMIN_DB} is not reachable ({'; '.join(failures)})"


def _admin(statement: str, name: str, user: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=user, dbname=PG_ADMIN_DB, autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database that exists only for this test."""
    if request.param == "sqlite":
        # A missing parent directory on purpose: the store must create it.
        yield f"sqlite:///{tmp_path / 'data' / 'crucible.db'}"
        return
    with postgres_database("crucible_test") as url:
        yield url


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards; skips without a server."""
    user, reason = _postgres_user()
    if user is None:
        pytest.skip(reason)
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    _admin("CREATE DATABASE {}", name, user)
    try:
        yield f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name, user)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open, migrated store on the fresh database."""
    opened = Store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def problem(tmp_path: Path) -> Problem:
    return make_problem(tmp_path / "softmax.py")


def make_problem(path: Path, source: str | None = None, overrides: dict[str, int] | None = None) -> Problem:
    text = (
        source
        or "import torch\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
    )
    return Problem(
        name="softmax",
        path=path,
        source=text,
        shapes=(Shape("small"), Shape("large")),
        tolerances={},
        overrides=overrides or {},
    )


@pytest.fixture
def problem_factory() -> Callable[..., Problem]:
    return make_problem


@pytest.fixture
def run_id(store: Store, problem: Problem) -> int:
    return store.create_run(problem, device="cpu", proposer="offline", budget=16, seed=1234, options={})


def make_candidate(
    n: int = 0,
    *,
    triton: bool = False,
    config: dict[str, Any] | None = None,
    parent_hash: str | None = None,
    family: str = "scale",
) -> Candidate:
    """A distinct candidate per ``n``; ``triton`` makes it define a @triton.jit kernel."""
    kernel = "@triton.jit\ndef kernel(x_ptr):\n    pass\n\n" if triton else ""
    source = (
        f"import torch\nimport triton\n\n{kernel}"
        f"class ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x * {n}\n"
    )
    return Candidate(
        source=source,
        config=Config.of(config or {}),
        family=family,
        origin=Origin.OFFLINE,
        parent_hash=parent_hash,
    )


@pytest.fixture
def candidate_factory() -> Callable[..., Candidate]:
    return make_candidate


def make_result(
    status: Status = Status.OK,
    *,
    speedup: float = 2.0,
    latency_us: float | None = None,
    err: float = 1e-6,
    mem: int | None = 4096,
    interpreted: bool = False,
    shapes: tuple[str, ...] = ("small", "large"),
    device: DeviceInfo | None = CPU,
) -> EvalResult:
    """A verdict whose per-shape metrics all share one speedup, latency, error and memory."""
    median = latency_us if latency_us is not None else 100.0 / speedup
    metrics = tuple(
        ShapeMetrics(
            shape=name,
            median_us=median,
            iqr_us=median / 20,
            samples=50,
            max_abs_err=err,
            max_rel_err=err * 10,
            peak_mem_bytes=mem,
            ref_median_us=median * speedup,
            ref_iqr_us=median * speedup / 20,
            speedup=speedup,
            interpreted=interpreted,
        )
        for name in shapes
    )
    stage = Stage.DONE if status is Status.OK else Stage.CORRECTNESS
    return EvalResult(
        status=status,
        stage=stage,
        reason="ok" if status is Status.OK else f"{status.value} on shape {shapes[0]}",
        shapes=metrics,
        device=device,
        interpreted=interpreted,
        duration_s=1.25,
    )


@pytest.fixture
def result_factory() -> Callable[..., EvalResult]:
    return make_result
