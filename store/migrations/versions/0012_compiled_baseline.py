"""Each shape's measurements keep ``torch.compile`` of the reference beside the eager reference,
and the speedup against it, where the run timed one. Older measurements have neither.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", recreate="never") as batch:
        batch.add_column(sa.Column("compiled_median_us", sa.Float(), nullable=True))
        batch.add_column(sa.Column("speedup_vs_compiled", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("speedup_vs_compiled")
        batch.drop_column("compiled_median_us")
