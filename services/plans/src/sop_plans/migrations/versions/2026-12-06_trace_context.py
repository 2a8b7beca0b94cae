"""trace_context (plans): audit_record.trace_id and outbox_event.trace_context, as every component adds them
(sop_shared.migrations.add_trace_context_columns says what they hold and why older rows still verify).

Revision ID: 7a1c0e5d9b04
Revises: 417b90209f3d
Create Date: 2026-12-06 13:40:00.000000
"""
from collections.abc import Sequence

from sop_shared.migrations import add_trace_context_columns, drop_trace_context_columns

revision: str = '7a1c0e5d9b04'
down_revision: str | None = '417b90209f3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_trace_context_columns()


def downgrade() -> None:
    drop_trace_context_columns()
