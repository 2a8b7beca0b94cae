"""coaching referrals move to the practice service: announce each existing referral once (issue 15 part 3)

Coaching moved to the practice service. It keeps every referral the assessment service recorded, with its
history, from `sop.assessment.coaching_referral.recorded` events: the routes announce each write from now on, and
this migration announces the referrals made before, once, through the outbox (the relay publishes them; the
practice service applies each referral's version once). No table changes.

Revision ID: 3c0ac8e1f2d7
Revises: 8b2e4c6d1a93
Create Date: 2026-12-06 17:05:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sop_shared.db

revision: str = "3c0ac8e1f2d7"
down_revision: str | None = "8b2e4c6d1a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECT = "sop.assessment.coaching_referral.recorded"

referral = sa.table(
    "coaching_referral",
    sa.column("id", sa.Uuid()),
    sa.column("worker_subject", sa.String()),
    sa.column("unit", sa.String()),
    sa.column("coaching_type", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("notes", sa.String()),
    sa.column("status", sa.String()),
    sa.column("referred_by", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("created_at", sop_shared.db.UTCDateTime()),
    sa.column("updated_at", sop_shared.db.UTCDateTime()),
)
outbox = sa.table(
    "outbox_event",
    sa.column("id", sa.Uuid()),
    sa.column("subject", sa.String()),
    sa.column("case_id", sa.Uuid()),
    sa.column("payload", sa.JSON()),
    sa.column("occurred_at", sop_shared.db.UTCDateTime()),
    sa.column("attempts", sa.Integer()),
)


def _uuid7() -> uuid.UUID:
    from sop_shared.ids import new_id  # time-ordered, so the relay publishes them after what was there

    return new_id()


def upgrade() -> None:
    now = datetime.now(UTC)
    rows = op.get_bind().execute(sa.select(referral).order_by(referral.c.id)).mappings().all()
    events = [
        {
            "id": _uuid7(),
            "subject": SUBJECT,
            "case_id": None,
            "payload": {
                "referral_id": str(row["id"]),
                "worker_subject": row["worker_subject"],
                "unit": row["unit"],
                "coaching_type": row["coaching_type"],
                "topic": row["topic"],
                "notes": row["notes"],
                "status": row["status"],
                "referred_by": row["referred_by"],
                "version": row["version"],
                "created_at": row["created_at"].isoformat(),
                "updated_at": row["updated_at"].isoformat(),
            },
            "occurred_at": now,
            "attempts": 0,
        }
        for row in rows
    ]
    if events:
        op.bulk_insert(outbox, events)


def downgrade() -> None:
    pass  # the announcements stay announced; the practice service keeps what it applied
