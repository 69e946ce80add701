"""Throwaway databases for the store benchmarks: a fresh PostgreSQL database on this machine's
server (made and dropped around the benchmark), or a SQLite file in a temporary folder."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG = "postgresql+psycopg://{user}@127.0.0.1:5432/{name}"


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A URL of an empty database of ``backend`` (``postgresql`` or ``sqlite``), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    import psycopg
    from psycopg import sql

    name = f"crucible_bench_{uuid.uuid4().hex[:10]}"
    user = next((u for u in ("postgres", "root") if _reachable(u)), None)
    if user is None:
        raise SystemExit("no PostgreSQL on 127.0.0.1:5432 (start it, or pass --backends sqlite)")
    with psycopg.connect(host="127.0.0.1", user=user, dbname="test", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PG.format(user=user, name=name)
    finally:
        with psycopg.connect(host="127.0.0.1", user=user, dbname="test", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _reachable(user: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", user=user, dbname="test", connect_timeout=3):
            return True
    except psycopg.Error:
        return False
