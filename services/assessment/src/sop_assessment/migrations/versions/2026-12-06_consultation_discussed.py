"""supervision (issue 14): what a consultation discussed, kept as it stood; an approval item's warnings

Revision ID: 6a3d9e1b4f27
Revises: 4f6b8d2a7c10
Create Date: 2026-12-06 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a3d9e1b4f27"
down_revision: str | None = "4f6b8d2a7c10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consultation") as batch:
        batch.add_column(sa.Column("discussed", sa.JSON(), nullable=True))
    with op.batch_alter_table("approval") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("approval") as batch:
        batch.drop_column("warnings")
    with op.batch_alter_table("consultation") as batch:
        batch.drop_column("discussed")
