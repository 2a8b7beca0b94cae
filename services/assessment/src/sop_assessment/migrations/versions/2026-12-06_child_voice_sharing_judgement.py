"""child voice (issue 14): the worker's recorded judgement that sharing a Three Houses with the caregivers is safe

Revision ID: 4f6b8d2a7c10
Revises: 9c4e2b7a1d35
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4f6b8d2a7c10"
down_revision: str | None = "9c4e2b7a1d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("child_voice_record") as batch:
        batch.add_column(sa.Column("sharing_judgement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("child_voice_record") as batch:
        batch.drop_column("sharing_judgement")
