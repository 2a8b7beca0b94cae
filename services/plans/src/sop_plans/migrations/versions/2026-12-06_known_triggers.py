"""known triggers: which people in a case have known triggers (ids only, from the assessment service's trauma
history events), so a plan says how it avoids each

Revision ID: 8d4a6c2e9f10
Revises: 5b7e2c90d1f3
Create Date: 2026-12-06 19:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sop_shared.db

revision: str = "8d4a6c2e9f10"
down_revision: str | None = "5b7e2c90d1f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "known_triggers",
        sa.Column("trauma_history_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("person_role", sa.String(length=40), nullable=False),
        sa.Column("trigger_ids", sa.JSON(), nullable=False),
        sa.Column("history_version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("trauma_history_id", name=op.f("pk_known_triggers")),
    )
    with op.batch_alter_table("known_triggers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_triggers_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("known_triggers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_triggers_case_id"))
    op.drop_table("known_triggers")
