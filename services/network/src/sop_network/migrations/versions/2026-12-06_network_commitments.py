"""network commitments: a safety-network member's own commitment (a proposal until the worker confirms or declines
it), and people's translations of its words (`sop_shared.translations`)

Revision ID: 3c8e1f5a7b20
Revises: 7a1c0e5d9b02
Create Date: 2026-12-06 16:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db
from sop_shared.translations import translation_table_columns

revision: str = "3c8e1f5a7b20"
down_revision: str | None = "7a1c0e5d9b02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_commitment",
        sa.Column("shared_at", sop_shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shared_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("share_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column(
            "status",
            sa.Enum("proposed", "confirmed", "declined", name="commitmentstatus", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("proposed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("proposed_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("decided_at", sop_shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_network_commitment_case_id_case")),
        sa.ForeignKeyConstraint(
            ["member_id"], ["network_member.id"], name=op.f("fk_network_commitment_member_id_network_member")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_network_commitment_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_commitment")),
    )
    with op.batch_alter_table("network_commitment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_commitment_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_commitment_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_network_commitment_person_id"), ["person_id"], unique=False)
    op.create_table("translation", *translation_table_columns())
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_translation_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_record_id"))
        batch_op.drop_index(batch_op.f("ix_translation_case_id"))
    op.drop_table("translation")
    with op.batch_alter_table("network_commitment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_commitment_person_id"))
        batch_op.drop_index(batch_op.f("ix_network_commitment_member_id"))
        batch_op.drop_index(batch_op.f("ix_network_commitment_case_id"))
    op.drop_table("network_commitment")
