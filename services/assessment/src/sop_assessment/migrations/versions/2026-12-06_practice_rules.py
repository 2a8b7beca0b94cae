"""practice rules (issue 14): a supervisor's recorded exception to the balanced-map rule; statement revisions

Revision ID: 3b8f1c2d5e60
Revises: 7d1e5a0c9b42
Create Date: 2026-12-06 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "3b8f1c2d5e60"
down_revision: str | None = "7d1e5a0c9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_map") as batch:
        batch.add_column(sa.Column("completion_exception", sa.JSON(), nullable=True))
    op.create_table(
        "statement_revision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("statement_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("earlier_words", sa.JSON(), nullable=False),
        sa.Column("change_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("corrected_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("corrected_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["statement_id"], ["statement.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_statement_revision_statement_id"), "statement_revision", ["statement_id"])
    op.create_index(op.f("ix_statement_revision_case_id"), "statement_revision", ["case_id"])


def downgrade() -> None:
    op.drop_table("statement_revision")
    with op.batch_alter_table("assessment_map") as batch:
        batch.drop_column("completion_exception")
