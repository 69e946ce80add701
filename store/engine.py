"""Engines, sessions and schema upgrades for SQLite (embedded default) and PostgreSQL (scale-out).

SQLite gets WAL (readers never block the writer), foreign keys, a busy timeout, and explicit
``BEGIN``: read sessions begin DEFERRED, write sessions begin IMMEDIATE so that a
read-then-write transaction takes the write lock up front and waits for it, instead of failing
with "database is locked" when another process wrote in between.

``upgrade()`` runs the Alembic migrations shipped inside this package, so an installed wheel can
create and migrate its own database without an ``alembic.ini`` in the working directory.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option that makes a connection's transactions BEGIN IMMEDIATE on SQLite.
WRITE_OPTION = "crucible_write"
# Any constant works; it only has to be the same for every process migrating one database.
_PG_MIGRATION_LOCK = 0x43525543  # "CRUC"


def normalize_url(url: str | URL) -> URL:
    """Parse a URL; bare ``postgresql://`` means psycopg 3, the driver Crucible depends on."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; for SQLite also creates the file's parent directory and sets pragmas."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    if _is_memory(parsed):
        # One shared connection, or every session would see its own empty database.
        kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
    else:
        Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN, instead of pysqlite's implicit, late one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (it stays so), retrying while another connection holds it.

    Changing the journal mode reports "database is locked" at once, without waiting on the
    busy timeout, when several processes open a brand-new file together; so wait here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode not in ("wal", "memory"):
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def _sqlite_on_begin(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def writer(engine: Engine) -> Engine:
    """The same engine (pool, events) whose transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose loaded values stay readable after commit (records are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config, built in code with the packaged scripts; ``connection`` is used if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str | URL | Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision``; idempotent, and safe when processes race to do it.

    The whole upgrade runs in one transaction that first takes a lock (SQLite's write lock,
    or a PostgreSQL advisory lock), so a second process waits and then finds nothing to do.
    """
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with writer(engine).connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(connection), revision)
    finally:
        if engine is not url:
            engine.dispose()


def downgrade(url: str | URL | Engine, revision: str) -> None:
    """Migrate down to ``revision`` (``"base"`` drops every table); for tests and operators."""
    engine = url if isinstance(url, Engine) else make_engine(url)
    try:
        with writer(engine).connect() as connection, connection.begin():
            command.downgrade(alembic_config(connection), revision)
    finally:
        if engine is not url:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
