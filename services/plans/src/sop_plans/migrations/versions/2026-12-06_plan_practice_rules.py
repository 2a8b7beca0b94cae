"""plan_practice_rules: at most one plan of each type in force per case (a partial unique index; who ended a
plan and which plan replaced it); a plan activated before its start records the start (`starts_at`) and who
activated it; an immediate plan in force on the worker's and caregivers' signatures records when the
supervisor's approval is due (`approval_due_at`).

A case that already has several plans of one type in force (made before the rule) keeps the last activated;
the others are ended as replaced by it, so the index can be built. No event is written for those: the
migration records what the rule says already happened, with `ended_by` naming the migration.

Revision ID: a442b65f2ecc
Revises: 1310b204e0fb
Create Date: 2026-12-06 11:59:35.462856
"""
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sop_shared.db

revision: str = 'a442b65f2ecc'
down_revision: str | None = '1310b204e0fb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FORCE_WHERE = "in_force_version_number IS NOT NULL AND status NOT IN ('terminated', 'expired')"


def _end_duplicates_in_force() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            f"SELECT id, case_id, plan_type FROM safety_plan WHERE {IN_FORCE_WHERE} "
            "ORDER BY case_id, plan_type, activated_at DESC, id DESC"
        )
    ).all()
    keep: dict[tuple[object, object], object] = {}
    replaced: dict[object, list[str]] = {}
    now = datetime.now(UTC)
    for plan_id, case_id, plan_type in rows:
        kept = keep.setdefault((case_id, plan_type), plan_id)
        if kept == plan_id:
            continue
        replaced.setdefault(kept, []).append(str(plan_id))
        bind.execute(
            sa.text(
                "UPDATE safety_plan SET status = 'terminated', ended_at = :now, end_reason = :reason, "
                "ended_by = 'migration plan_practice_rules', replaced_by_plan_id = :kept, version = version + 1 "
                "WHERE id = :id"
            ),
            {"now": now, "reason": f"replaced by plan {kept}", "kept": kept, "id": plan_id},
        )
    for kept, ids in replaced.items():
        bind.execute(
            sa.text("UPDATE safety_plan SET replaced_plan_ids = :ids WHERE id = :id"), {"ids": json.dumps(ids), "id": kept}
        )


def upgrade() -> None:
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('replaced_by_plan_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('replaced_plan_ids', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('starts_at', sop_shared.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('start_scheduled_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('approval_due_at', sop_shared.db.UTCDateTime(timezone=True), nullable=True))
    _end_duplicates_in_force()
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.alter_column('replaced_plan_ids', server_default=None)
        batch_op.create_index(
            'uq_safety_plan_one_in_force_per_type',
            ['case_id', 'plan_type'],
            unique=True,
            postgresql_where=sa.text(IN_FORCE_WHERE),
            sqlite_where=sa.text(IN_FORCE_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table('safety_plan', schema=None) as batch_op:
        batch_op.drop_index('uq_safety_plan_one_in_force_per_type')
        batch_op.drop_column('approval_due_at')
        batch_op.drop_column('start_scheduled_by')
        batch_op.drop_column('starts_at')
        batch_op.drop_column('replaced_plan_ids')
        batch_op.drop_column('replaced_by_plan_id')
        batch_op.drop_column('ended_by')
