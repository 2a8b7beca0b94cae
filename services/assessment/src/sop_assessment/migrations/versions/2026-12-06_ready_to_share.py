"""ready to share: who marked a statement, a safety goal or a map (version) ready to share, when, and why

Rows written before this revision stay drafts: nothing reaches a family, their network, a partner or the court
until a worker has looked at it and marked it ready to share.

Revision ID: 7d1e5a0c9b42
Revises: e583f4074fc8
Create Date: 2026-12-06 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "7d1e5a0c9b42"
down_revision: str | None = "e583f4074fc8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("statement", "safety_goal", "assessment_map")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("shared_at", sop_shared.db.UTCDateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("shared_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
            batch.add_column(sa.Column("share_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    with op.batch_alter_table("assessment_map") as batch:
        batch.add_column(sa.Column("shared_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_map") as batch:
        batch.drop_column("shared_version")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("share_reason")
            batch.drop_column("shared_by")
            batch.drop_column("shared_at")
