"""Reading large runs: verdict and candidate counts on the run, the Pareto front kept as a flag,
and indexes for pages and for the fastest candidate.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # In place (SQLite 3.35+): rebuilding a table would cascade to the rows that reference it.
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.add_column(sa.Column("candidate_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("verdict_count", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.add_column(sa.Column("on_front", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(op.f("ix_candidates_run_id_id"), "candidates", ["run_id", "id"])
    op.create_index(op.f("ix_candidates_run_id_speedup"), "candidates", ["run_id", "speedup"])
    op.create_index(op.f("ix_candidates_run_id_on_front"), "candidates", ["run_id", "on_front"])
    op.execute(
        "UPDATE runs SET"
        " candidate_count = (SELECT count(*) FROM candidates WHERE candidates.run_id = runs.id),"
        " verdict_count = (SELECT count(*) FROM candidates"
        " WHERE candidates.run_id = runs.id AND candidates.status IS NOT NULL)"
    )
    _mark_fronts()


def _mark_fronts() -> None:
    """Flag each run's current front, as ``store.fronts`` keeps it from now on (equal points: the
    first judged). Self-contained: a migration must not change when the code does."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, run_id, latency_us, max_abs_err, peak_mem_bytes FROM candidates"
            " WHERE status = 'ok' AND interpreted = :no AND (suspect IS NULL OR suspect = :no)"
            " AND latency_us IS NOT NULL ORDER BY run_id, evaluated_at, id"
        ),
        {"no": False},
    )
    by_run: dict[int, list[tuple[int, tuple[float, ...]]]] = {}
    for row in rows:
        point = tuple(math.inf if v is None else float(v) for v in row[2:])
        by_run.setdefault(row[1], []).append((row[0], point))
    members: list[int] = []
    for points in by_run.values():
        front: list[tuple[int, tuple[float, ...]]] = []
        for cid, point in points:
            if any(all(a <= b for a, b in zip(kept, point, strict=True)) for _, kept in front):
                continue
            front = [(k, kept) for k, kept in front if not _dominates(point, kept)]
            front.append((cid, point))
        members.extend(cid for cid, _ in front)
    for start in range(0, len(members), 500):
        conn.execute(
            sa.text("UPDATE candidates SET on_front = :yes WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"yes": True, "ids": members[start : start + 500]},
        )


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and a != b


def downgrade() -> None:
    op.drop_index("ix_candidates_run_id_on_front", table_name="candidates")
    op.drop_index("ix_candidates_run_id_speedup", table_name="candidates")
    op.drop_index("ix_candidates_run_id_id", table_name="candidates")
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.drop_column("on_front")
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.drop_column("verdict_count")
        batch.drop_column("candidate_count")
