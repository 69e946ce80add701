"""SQLAlchemy 2.0 models: problems, runs, candidates and their per-shape evaluations.

These classes are the schema, and ``migrations/versions`` must create exactly them (a test
compares the two). They never leave the store: callers get the frozen records of
``store.records``.

Choices worth knowing:

* Statuses are plain strings validated by the Python enums (``RunStatus``, ``evaluator.types.Status``),
  so a new evaluator status needs no migration. ``runs.status`` alone has a CHECK constraint, since
  the store owns that enum.
* Timestamps are timezone-aware UTC on every backend (``UTCDateTime``); SQLite stores no offset.
* A candidate's verdict lives on its row (NULL ``status`` = pending) so that leaderboards are one
  indexed query; the per-shape measurements live in ``evaluations``, one row per shape.
* SQLite cannot store NaN in a REAL column and turns it into NULL; infinities are kept.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

from store.status import RunStatus

# Explicit constraint names, so migrations can refer to them and both backends agree.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUS_VALUES = tuple(s.value for s in RunStatus)


def utcnow() -> datetime:
    """The current time, timezone-aware, so stored times compare across backends."""
    return datetime.now(timezone.utc)


def json_type(*, none_as_null: bool = False) -> TypeEngine[Any]:
    """JSON everywhere, JSONB on PostgreSQL (compact, and comparable in SQL)."""
    return JSON(none_as_null=none_as_null).with_variant(JSONB(none_as_null=none_as_null), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back timezone-aware in UTC, even from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps timezone-aware UTC times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class ProblemRow(Base):
    """A problem's exact source and size overrides; shared by every run of that problem."""

    __tablename__ = "problems"
    __table_args__ = (UniqueConstraint("name", "source_sha256", "overrides_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    overrides: Mapped[dict[str, int]] = mapped_column(json_type())
    # Canonical JSON of ``overrides``: a JSON column cannot be part of a unique key everywhere.
    overrides_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunRow(Base):
    """One optimization run: the job, its settings, its secret seed and its lease."""

    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUS_VALUES!r}", name="status"),
        Index(None, "problem_id"),
        # Workers look for running runs whose lease expired, and for the oldest queued run.
        Index(None, "status", "lease_expires_at"),
        Index(None, "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.QUEUED.value)
    device: Mapped[str] = mapped_column(String(64))
    proposer: Mapped[str] = mapped_column(String(64))
    budget: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    options: Mapped[dict[str, Any]] = mapped_column(json_type())
    # The evaluator limits the run was started with, so whoever resumes it judges by them.
    limits: Mapped[dict[str, Any] | None] = mapped_column(json_type(none_as_null=True))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Claims in a row that ended in the same failure (``error``); the queue gives up at a limit.
    failure_streak: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Kept by the writes that add a candidate and record a verdict, so a large run's progress is
    # one row, not a count over its candidates. A verdict is never undone: the count only grows.
    candidate_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    verdict_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    problem: Mapped[ProblemRow] = relationship(lazy="raise")


class CandidateRow(Base):
    """A candidate of a run; the verdict columns stay NULL until it is evaluated."""

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("run_id", "hash"),
        Index(None, "run_id", "status"),
        Index(None, "parent_id"),
        # Pages of a large run, its fastest candidate and its front, without reading every row.
        Index(None, "run_id", "id"),
        Index(None, "run_id", "speedup"),
        Index(None, "run_id", "on_front"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    hash: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    # As the proposer gave it; the parent may live in another run or nowhere.
    parent_hash: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    config: Mapped[dict[str, Any]] = mapped_column(json_type())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    status: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    speedup: Mapped[float | None] = mapped_column(Float)
    latency_us: Mapped[float | None] = mapped_column(Float)
    max_abs_err: Mapped[float | None] = mapped_column(Float)
    peak_mem_bytes: Mapped[int | None] = mapped_column(BigInteger)
    interpreted: Mapped[bool | None] = mapped_column(Boolean)
    scaled_down: Mapped[bool | None] = mapped_column(Boolean)
    device_key: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[dict[str, Any] | None] = mapped_column(json_type(none_as_null=True))
    duration_s: Mapped[float | None] = mapped_column(Float)
    evaluated_at: Mapped[datetime | None] = mapped_column()
    suspect: Mapped[bool | None] = mapped_column(Boolean)
    verification: Mapped[str | None] = mapped_column(Text)
    profile: Mapped[dict[str, Any] | None] = mapped_column(json_type(none_as_null=True))
    phase_seconds: Mapped[dict[str, float] | None] = mapped_column(json_type(none_as_null=True))
    # On the run's Pareto front now (``store.fronts``): set when its verdict lands, cleared when
    # a later verdict dominates it.
    on_front: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Its MAP-Elites bins (``agent.descriptors``), name -> value, as the recorder stored them.
    descriptor: Mapped[dict[str, str] | None] = mapped_column(json_type(none_as_null=True))

    evaluations: Mapped[list[EvaluationRow]] = relationship(
        lazy="raise", order_by="EvaluationRow.position", passive_deletes=True
    )


class EvaluationRow(Base):
    """The measurements of one candidate on one shape (every field of ``ShapeMetrics``)."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("candidate_id", "shape"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    # The shape's place in ``EvalResult.shapes``, so the tuple is rebuilt in order.
    position: Mapped[int] = mapped_column(Integer)
    shape: Mapped[str] = mapped_column(String(200))
    median_us: Mapped[float | None] = mapped_column(Float)
    iqr_us: Mapped[float | None] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    max_abs_err: Mapped[float | None] = mapped_column(Float)
    max_rel_err: Mapped[float | None] = mapped_column(Float)
    peak_mem_bytes: Mapped[int | None] = mapped_column(BigInteger)
    ref_median_us: Mapped[float | None] = mapped_column(Float)
    ref_iqr_us: Mapped[float | None] = mapped_column(Float)
    speedup: Mapped[float | None] = mapped_column(Float)
    achieved_gbps: Mapped[float | None] = mapped_column(Float)
    achieved_tflops: Mapped[float | None] = mapped_column(Float)
    peak_fraction: Mapped[float | None] = mapped_column(Float)
    interpreted: Mapped[bool] = mapped_column(Boolean)
    timing_method: Mapped[str | None] = mapped_column(String(64))
    cpu_cores: Mapped[float | None] = mapped_column(Float)
    compiled_median_us: Mapped[float | None] = mapped_column(Float)
    speedup_vs_compiled: Mapped[float | None] = mapped_column(Float)


class LLMCallRow(Base):
    """One LLM call of a run: what it cost, how it ended, and the answer (``kernels.provenance``).

    The candidate a call wrote is found by ``(run_id, candidate_hash)``, the candidates' own
    unique key, so a call is stored before its candidate is and the two never need updating.
    """

    __tablename__ = "llm_calls"
    __table_args__ = (Index(None, "run_id", "id"), Index(None, "prompt_hash"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean)
    cost_usd: Mapped[float] = mapped_column(Float)
    latency_s: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer)
    cached: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    candidate_hash: Mapped[str | None] = mapped_column(String(64))
    parent_hash: Mapped[str | None] = mapped_column(String(64))
    island: Mapped[int | None] = mapped_column(Integer)
    tips: Mapped[str] = mapped_column(Text, default="")  # comma-separated tip ids
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IslandMigrationRow(Base):
    """An elite of a run's LLM search copied from one island to another (``agent.islands``)."""

    __tablename__ = "island_migrations"
    __table_args__ = (Index(None, "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    candidate_hash: Mapped[str] = mapped_column(String(64))
    source_island: Mapped[int] = mapped_column(Integer)
    target_island: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
