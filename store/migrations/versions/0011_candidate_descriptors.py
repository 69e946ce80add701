"""Candidates keep their MAP-Elites descriptor (the bins the archive files them under), so the
dashboard can draw the archive without the agent's code. Older candidates have none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    json_type = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.add_column(sa.Column("descriptor", json_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.drop_column("descriptor")
