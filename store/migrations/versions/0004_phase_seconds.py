"""Candidates record where their evaluation's time went, phase by phase (phase_seconds).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


# recreate="never": on SQLite, rebuilding the candidates table would drop the old one, and the
# drop would cascade to every candidate's evaluation rows. Adding and dropping a column in place
# needs SQLite 3.35 or later.


def upgrade() -> None:
    json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.add_column(sa.Column("phase_seconds", json, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.drop_column("phase_seconds")
