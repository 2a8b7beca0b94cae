"""network sharing: what the family chose their safety network sees beyond the default (sections, statements),
and the registry of the other services' records a network request may name (`case_entity`)

Revision ID: 4d9f2a6b8c31
Revises: 3c8e1f5a7b20
Create Date: 2026-12-06 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "4d9f2a6b8c31"
down_revision: str | None = "3c8e1f5a7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_sharing",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("statement_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decided_by_person_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_network_sharing_case_id_case")),
        sa.ForeignKeyConstraint(
            ["decided_by_person_id"], ["person.id"], name=op.f("fk_network_sharing_decided_by_person_id_person")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_network_sharing")),
    )
    op.create_table(
        "case_entity",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "entity_id", "case_id", name=op.f("pk_case_entity")),
    )


def downgrade() -> None:
    op.drop_table("case_entity")
    op.drop_table("network_sharing")
