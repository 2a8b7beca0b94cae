"""translations: people's translations of a safety plan's words, its rules and next steps
(`sop_shared.translations`: written by one person, verified by another qualified one, stale when the words change)

Revision ID: 6e2d9b41c7a8
Revises: 7a1c0e5d9b04
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

from alembic import op

from sop_shared.translations import translation_table_columns

revision: str = "6e2d9b41c7a8"
down_revision: str | None = "7a1c0e5d9b04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("translation", *translation_table_columns())
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_translation_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_record_id"))
        batch_op.drop_index(batch_op.f("ix_translation_case_id"))
    op.drop_table("translation")
