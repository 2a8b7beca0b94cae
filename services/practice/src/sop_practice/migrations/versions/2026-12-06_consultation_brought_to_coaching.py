"""consultation_brought_to_coaching (practice): a coaching referral's snapshot comes from a consultation brought from
the assessment service (its event), recorded with the consultation's id, who brought it and when. A referral may
also name the consultation it waits for (`consultation_id` set at referral, the rest when it arrives).

Revision ID: 5c2a7e9d0b14
Revises: 3e8b1f6a2c47
Create Date: 2026-12-06 22:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = '5c2a7e9d0b14'
down_revision: str | None = '3e8b1f6a2c47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('coaching_referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consultation_id', sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column('consultation_brought_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column('consultation_brought_at', sop_shared.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # A snapshot brought from a consultation stays on the referral (as a pasted one was kept); only where it
    # came from is dropped.
    with op.batch_alter_table('coaching_referral', schema=None) as batch_op:
        batch_op.drop_column('consultation_brought_at')
        batch_op.drop_column('consultation_brought_by')
        batch_op.drop_column('consultation_id')
