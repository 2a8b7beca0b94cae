"""known triggers get stable ids, and each trauma history is announced once with them (issue 14)

A plan says how it avoids each known trigger by the trigger's id, and the plans service learns which triggers a
case has from `sop.assessment.trauma_history.recorded|updated` (ids and counts only, never the words). This gives
every trigger recorded before an id and announces each trauma history once (`…updated`, its version unchanged),
so plans knows them too. The downgrade takes the ids off again (the words stay).

Revision ID: 6f1d2b8e4a57
Revises: 3c0ac8e1f2d7
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import sop_shared.db
from sop_shared.ids import new_id

revision: str = "6f1d2b8e4a57"
down_revision: str | None = "3c0ac8e1f2d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECT = "sop.assessment.trauma_history.updated"

history = sa.table(
    "trauma_history",
    sa.column("id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("person_id", sa.Uuid()),
    sa.column("person_role", sa.String()),
    sa.column("triggers", sa.JSON()),
    sa.column("consented_audiences", sa.JSON()),
    sa.column("version", sa.Integer()),
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


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    events = []
    for row in bind.execute(sa.select(history).order_by(history.c.id)).mappings().all():
        triggers = [{**t, "id": str(t.get("id") or new_id())} for t in row["triggers"] or []]
        bind.execute(sa.update(history).where(history.c.id == row["id"]).values(triggers=triggers))
        events.append(
            {
                "id": new_id(),
                "subject": SUBJECT,
                "case_id": row["case_id"],
                "payload": {
                    "trauma_history_id": str(row["id"]),
                    "case_id": str(row["case_id"]),
                    "person_role": row["person_role"],
                    "consented_audiences": list(row["consented_audiences"] or []),
                    "version": row["version"],
                    "person_id": str(row["person_id"]) if row["person_id"] else None,
                    "trigger_ids": [t["id"] for t in triggers],
                    "trigger_count": len(triggers),
                },
                "occurred_at": now,
                "attempts": 0,
            }
        )
    if events:
        op.bulk_insert(outbox, events)


def downgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(history.c.id, history.c.triggers)).mappings().all():
        triggers = [{k: v for k, v in t.items() if k != "id"} for t in row["triggers"] or []]
        bind.execute(sa.update(history).where(history.c.id == row["id"]).values(triggers=triggers))
