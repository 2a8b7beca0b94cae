"""group_session_ratings (practice): a coaching session rates a behaviour once for each worker in it (a group's
session rates every worker on their own), so the unique key of coaching_behaviour_rating adds worker_subject.

Revision ID: 3e8b1f6a2c47
Revises: 550f5dd84a3a
Create Date: 2026-12-06 19:50:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '3e8b1f6a2c47'
down_revision: str | None = '550f5dd84a3a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = 'uq_coaching_behaviour_rating_session_id_behaviour_key'
NEW = 'uq_coaching_behaviour_rating_session_worker_behaviour'  # the convention's name would pass 63 characters


def upgrade() -> None:
    with op.batch_alter_table('coaching_behaviour_rating', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(OLD), type_='unique')
        batch_op.create_unique_constraint(op.f(NEW), ['session_id', 'worker_subject', 'behaviour_key'])


def downgrade() -> None:
    # A group's session may now hold one behaviour for several workers: such a session cannot go back under the
    # old key, and its ratings are never dropped to make it fit, so the downgrade refuses while any exists.
    with op.batch_alter_table('coaching_behaviour_rating', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NEW), type_='unique')
        batch_op.create_unique_constraint(op.f(OLD), ['session_id', 'behaviour_key'])
