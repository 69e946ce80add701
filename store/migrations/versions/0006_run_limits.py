"""Each run keeps the evaluator limits it was started with (JSON; NULL for older runs).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    json_type = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("limits", json_type, nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): rebuilding the runs table would cascade to their candidates.
    with op.batch_alter_table("runs", recreate="never") as batch:
        batch.drop_column("limits")
