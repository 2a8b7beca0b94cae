"""trace_context (practice): audit_record.trace_id and outbox_event.trace_context, as every component adds them
(sop_shared.migrations.add_trace_context_columns says what they hold and why older rows still verify).

Revision ID: 7a1c0e5d9b05
Revises: 0d91606ac37c
Create Date: 2026-12-06 13:40:00.000000
"""
from collections.abc import Sequence

from sop_shared.migrations import add_trace_context_columns, drop_trace_context_columns

revision: str = '7a1c0e5d9b05'
down_revision: str | None = '0d91606ac37c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_trace_context_columns()


def downgrade() -> None:
    drop_trace_context_columns()
