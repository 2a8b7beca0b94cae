"""plan_end_reason_codes: a plan's `end_reason` is a code (`replaced_by_plan`, `expired`, `terminated`) the
readers put into their own words; the words someone gave when terminating a plan move to `end_note`.

Existing rows are mapped, not lost: "replaced by plan <id>" (what activations and the plan_practice_rules
migration wrote) becomes `replaced_by_plan`, with `replaced_by_plan_id` filled from the text where it was
empty; "expired" stays `expired`; any other text was a terminate request's reason, so it becomes `end_note`
with the code `terminated`. Downgrade writes the old sentences back.

Revision ID: 5b7e2c90d1f3
Revises: 6e2d9b41c7a8
Create Date: 2026-12-06 16:40:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b7e2c90d1f3'
down_revision: str | None = '6e2d9b41c7a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLACED_PREFIX = "replaced by plan "


def _replacing_plan(reason: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reason.removeprefix(REPLACED_PREFIX).strip())
    except ValueError:
        return None


def _plan_table() -> sa.TableClause:
    return sa.table(
        'safety_plan',
        sa.column('id', sa.Uuid()),
        sa.column('end_reason', sa.Text()),
        sa.column('end_note', sa.Text()),
        sa.column('replaced_by_plan_id', sa.Uuid()),
    )


def upgrade() -> None:
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_note', sa.Text(), nullable=True))
    bind = op.get_bind()
    plan = _plan_table()
    ended = sa.select(plan.c.id, plan.c.end_reason, plan.c.replaced_by_plan_id).where(plan.c.end_reason.is_not(None))
    for plan_id, reason, replaced_by in bind.execute(ended).all():
        if reason in ("replaced_by_plan", "expired", "terminated"):
            continue  # already a code
        values: dict[str, object]
        if reason.startswith(REPLACED_PREFIX):
            values = {"end_reason": "replaced_by_plan", "replaced_by_plan_id": replaced_by or _replacing_plan(reason)}
        else:  # a terminate request's reason: the person's words
            values = {"end_reason": "terminated", "end_note": reason}
        bind.execute(sa.update(plan).where(plan.c.id == plan_id).values(**values))
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.alter_column('end_reason', existing_type=sa.Text(), type_=sa.String(length=40))


def downgrade() -> None:
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.alter_column('end_reason', existing_type=sa.String(length=40), type_=sa.Text())
    bind = op.get_bind()
    plan = _plan_table()
    ended = sa.select(plan.c.id, plan.c.end_reason, plan.c.end_note, plan.c.replaced_by_plan_id).where(
        plan.c.end_reason.in_(["replaced_by_plan", "terminated"])
    )
    for plan_id, reason, note, replaced_by in bind.execute(ended).all():
        old = f"{REPLACED_PREFIX}{replaced_by}" if reason == "replaced_by_plan" else note or "terminated"
        bind.execute(sa.update(plan).where(plan.c.id == plan_id).values(end_reason=old))
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.drop_column('end_note')
