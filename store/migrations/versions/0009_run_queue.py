"""The runs table as the job queue: claims, failures in a row, and cancellation requests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # In place (SQLite 3.35+): rebuilding a table would cascade to the rows that reference it.
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.add_column(sa.Column("claims", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("failure_streak", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failure", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(op.f("ix_runs_status_id"), "runs", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_runs_status_id", table_name="runs")
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.drop_column("cancel_requested")
        batch.drop_column("last_failure")
        batch.drop_column("failure_streak")
        batch.drop_column("claims")
