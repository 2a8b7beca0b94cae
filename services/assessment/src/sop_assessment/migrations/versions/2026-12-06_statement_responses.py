"""members (issue 14): a family or network member's response to a statement, in their own words

Revision ID: 5e2a9d7c1f83
Revises: 8a572d5f051d
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "5e2a9d7c1f83"
down_revision: str | None = "8a572d5f051d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statement_response",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("statement_id", sa.Uuid(), nullable=False),
        sa.Column("statement_version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("responder_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("responder_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "stance",
            sa.Enum("agree", "partly", "disagree", name="stance", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["statement_id"], ["statement.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_statement_response_case_id"), "statement_response", ["case_id"])
    op.create_index(op.f("ix_statement_response_statement_id"), "statement_response", ["statement_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_statement_response_statement_id"), table_name="statement_response")
    op.drop_index(op.f("ix_statement_response_case_id"), table_name="statement_response")
    op.drop_table("statement_response")
