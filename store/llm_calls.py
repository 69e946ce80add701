"""The LLM calls of a run: stored as they happen, read back for the run's account and the cache."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernels.provenance import CallRecord, CallResult, IslandMigration
from store.models import IslandMigrationRow, LLMCallRow
from store.runs import require_run

_FIELDS = (
    "model",
    "role",
    "prompt_hash",
    "prompt",
    "outcome",
    "prompt_tokens",
    "completion_tokens",
    "tokens_estimated",
    "cost_usd",
    "latency_s",
    "attempts",
    "cached",
    "reason",
    "response",
    "candidate_hash",
    "parent_hash",
    "island",
)


def insert_call(session: Session, run_id: int, call: CallRecord) -> int:
    require_run(session, run_id)
    row = LLMCallRow(
        run_id=run_id, tips=",".join(call.tips), **{name: getattr(call, name) for name in _FIELDS}
    )
    session.add(row)
    session.flush()
    return row.id


def call_record(row: LLMCallRow) -> CallRecord:
    tips = tuple(row.tips.split(",")) if row.tips else ()
    fields = {name: getattr(row, name) for name in _FIELDS}
    return CallRecord(**fields, tips=tips, created_at=row.created_at, id=row.id)


def run_calls(session: Session, run_id: int) -> list[CallRecord]:
    rows = session.scalars(select(LLMCallRow).where(LLMCallRow.run_id == run_id).order_by(LLMCallRow.id))
    return [call_record(row) for row in rows]


def writer_of(session: Session, run_id: int, candidate_hash: str) -> CallRecord | None:
    """The call of the run whose answer became this candidate, if an LLM wrote it."""
    row = session.scalars(
        select(LLMCallRow)
        .where(LLMCallRow.run_id == run_id, LLMCallRow.candidate_hash == candidate_hash)
        .order_by(LLMCallRow.id)
        .limit(1)
    ).first()
    return call_record(row) if row is not None else None


def answered(session: Session, prompt_hash: str) -> CallRecord | None:
    """The newest call with this prompt that was answered (whatever its answer held), in any run."""
    row = session.scalars(
        select(LLMCallRow)
        .where(LLMCallRow.prompt_hash == prompt_hash, LLMCallRow.response != "")
        .order_by(LLMCallRow.id.desc())
        .limit(1)
    ).first()
    return call_record(row) if row is not None else None


def call_counts(session: Session, run_id: int) -> tuple[int, int, int, int, float]:
    """(calls, failed calls, prompt tokens, completion tokens, cost) of a run, in one query."""
    ok = CallResult.OK.value
    row = session.execute(
        select(
            func.count(LLMCallRow.id),
            func.count(LLMCallRow.id).filter(LLMCallRow.outcome != ok),
            func.coalesce(func.sum(LLMCallRow.prompt_tokens), 0),
            func.coalesce(func.sum(LLMCallRow.completion_tokens), 0),
            func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0),
        ).where(LLMCallRow.run_id == run_id)
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4])


def insert_migration(session: Session, run_id: int, migration: IslandMigration) -> None:
    require_run(session, run_id)
    session.add(
        IslandMigrationRow(
            run_id=run_id,
            candidate_hash=migration.candidate_hash,
            source_island=migration.source,
            target_island=migration.target,
        )
    )


def run_migrations(session: Session, run_id: int) -> list[IslandMigration]:
    rows = session.scalars(
        select(IslandMigrationRow).where(IslandMigrationRow.run_id == run_id).order_by(IslandMigrationRow.id)
    )
    return [IslandMigration(row.candidate_hash, row.source_island, row.target_island) for row in rows]
