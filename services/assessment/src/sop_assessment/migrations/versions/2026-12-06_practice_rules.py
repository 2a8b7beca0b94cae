"""practice rules (issue 14): a supervisor's recorded exception to the balanced-map rule

Revision ID: 3b8f1c2d5e60
Revises: 7d1e5a0c9b42
Create Date: 2026-12-06 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b8f1c2d5e60"
down_revision: str | None = "7d1e5a0c9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_map") as batch:
        batch.add_column(sa.Column("completion_exception", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_map") as batch:
        batch.drop_column("completion_exception")
