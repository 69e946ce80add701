"""Candidates record re-verification (suspect, verification) and profiler feedback (profile).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("suspect", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("verification", sa.Text(), nullable=True))
        batch.add_column(sa.Column("profile", _json(), nullable=True))


def downgrade() -> None:
    # In place (SQLite 3.35+): rebuilding the candidates table would cascade to the evaluations.
    with op.batch_alter_table("candidates", recreate="never") as batch:
        batch.drop_column("profile")
        batch.drop_column("verification")
        batch.drop_column("suspect")
