"""trauma-informed practice (issue 14): trauma histories and known triggers; contacts and the questions used

Revision ID: 8b2e4c6d1a93
Revises: 6a3d9e1b4f27
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "8b2e4c6d1a93"
down_revision: str | None = "6a3d9e1b4f27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trauma_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("person_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column(
            "person_role",
            sa.Enum("child", "caregiver", name="personrole", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("history", sa.Text(), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("consented_audiences", sa.JSON(), nullable=False),
        sa.Column("consent_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_trauma_history_case_id"), "trauma_history", ["case_id"])
    op.create_table(
        "contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("contact_on", sa.Date(), nullable=False),
        sa.Column(
            "contact_type",
            sa.Enum(
                "home_visit",
                "office_visit",
                "phone",
                "video",
                "family_meeting",
                "other",
                name="contacttype",
                native_enum=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("with_whom", sa.JSON(), nullable=False),
        sa.Column("questions_used", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_contact_case_id"), "contact", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_contact_case_id"), table_name="contact")
    op.drop_table("contact")
    op.drop_index(op.f("ix_trauma_history_case_id"), table_name="trauma_history")
    op.drop_table("trauma_history")
