"""The LLM search's islands and tips: each call's island and tips, and the migrations between islands.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # In place (SQLite 3.35+): rebuilding a table would cascade to the rows that reference it.
    with op.batch_alter_table("llm_calls", recreate="never") as batch:
        batch.add_column(sa.Column("island", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tips", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "island_migrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("candidate_hash", sa.String(64), nullable=False),
        sa.Column("source_island", sa.Integer(), nullable=False),
        sa.Column("target_island", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_island_migrations_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_island_migrations")),
    )
    op.create_index(op.f("ix_island_migrations_run_id_id"), "island_migrations", ["run_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_island_migrations_run_id_id", table_name="island_migrations")
    op.drop_table("island_migrations")
    with op.batch_alter_table("llm_calls", recreate="never") as batch:
        batch.drop_column("tips")
        batch.drop_column("island")
