"""the language of a declined commitment's reason (`decline_reason_language`: the reason is translated for the
member); the commitments a worker recorded with a network member move to `network_commitment` (origin `worker`),
confirmed and shared as the worker recorded them; their translations (kind `network_member`, field
`commitments.<n>.text|schedule`) move to the commitments they translate (kind `network_commitment`, field
`text|schedule`), current or stale as they were; each moved commitment is announced as confirmed (the outbox and
the change log), so plans learns it may be named on a plan rule. The downgrade puts every word back on the member
(a new member revision keeps what the list cannot: language, who shared, the share reason).

Revision ID: 9b3d5e7f1a42
Revises: 6e2b9d4f0a17
Create Date: 2026-12-06 19:30:00

"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db
from sop_shared.ids import new_id

revision: str = "9b3d5e7f1a42"
down_revision: str | None = "6e2b9d4f0a17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCY_LANGUAGE = "en"  # sop_shared.translations.AGENCY_LANGUAGE when this was written
MIGRATED_BY = "migration:9b3d5e7f1a42"
When = sop_shared.db.UTCDateTime(timezone=True)

member = sa.table(
    "network_member",
    sa.column("id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("person_id", sa.Uuid()),
    sa.column("commitments", sa.JSON()),
    sa.column("version", sa.Integer()),
    sa.column("updated_at", When),
)
revision_table = sa.table(
    "network_member_revision",
    sa.column("id", sa.Uuid()),
    sa.column("member_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("snapshot", sa.JSON()),
    sa.column("changed_by", sa.String()),
    sa.column("changed_at", When),
)
commitment = sa.table(
    "network_commitment",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.Uuid()),
            ("case_id", sa.Uuid()),
            ("member_id", sa.Uuid()),
            ("person_id", sa.Uuid()),
            ("text", sa.Text()),
            ("schedule", sa.String()),
            ("language", sa.String()),
            ("status", sa.String()),
            ("origin", sa.String()),
            ("proposed_by", sa.String()),
            ("proposed_at", When),
            ("decided_by", sa.String()),
            ("decided_at", When),
            ("decline_reason", sa.String()),
            ("version", sa.Integer()),
            ("shared_at", When),
            ("shared_by", sa.String()),
            ("share_reason", sa.String()),
            ("withdrawn_by", sa.String()),
            ("withdrawn_at", When),
            ("withdraw_reason", sa.String()),
        )
    ),
)
translation = sa.table(
    "translation",
    sa.column("id", sa.Uuid()),
    sa.column("record_kind", sa.String()),
    sa.column("record_id", sa.Uuid()),
    sa.column("source_field", sa.String()),
    sa.column("source_version", sa.Integer()),
)
outbox = sa.table(
    "outbox_event",
    sa.column("id", sa.Uuid()),
    sa.column("subject", sa.String()),
    sa.column("case_id", sa.Uuid()),
    sa.column("payload", sa.JSON()),
    sa.column("occurred_at", When),
    sa.column("attempts", sa.Integer()),
)
change_log = sa.table(
    "change_log",
    sa.column("seq", sa.BigInteger()),
    sa.column("event_id", sa.Uuid()),
    sa.column("subject", sa.String()),
    sa.column("case_id", sa.Uuid()),
    sa.column("payload", sa.JSON()),
    sa.column("occurred_at", When),
)
counter = sa.table("change_counter", sa.column("id", sa.Integer()), sa.column("seq", sa.BigInteger()))


def _recorded_by(bind: Any, member_id: Any, version: int) -> str:
    """Who saved the member's current revision (the worker who recorded its commitments as they read now)."""
    found = bind.execute(
        sa.select(revision_table.c.changed_by).where(
            revision_table.c.member_id == member_id, revision_table.c.version == version
        )
    ).scalar()
    return str(found or MIGRATED_BY)


def _announce(bind: Any, events: list[dict[str, Any]]) -> None:
    """`sop.network.network_commitment.confirmed` for each moved commitment, in the outbox and the change log."""
    if not events:
        return
    last = bind.execute(sa.select(counter.c.seq).where(counter.c.id == 1)).scalar()
    if last is None:
        bind.execute(sa.insert(counter).values(id=1, seq=0))
        last = 0
    bind.execute(sa.update(counter).where(counter.c.id == 1).values(seq=last + len(events)))
    now = datetime.now(UTC)
    rows = [{"id": new_id(), "case_id": e["case_id"], "payload": e["payload"]} for e in events]
    subject = "sop.network.network_commitment.confirmed"
    bind.execute(
        sa.insert(outbox),
        [{**r, "subject": subject, "occurred_at": now, "attempts": 0} for r in rows],
    )
    bind.execute(
        sa.insert(change_log),
        [
            {
                "seq": last + 1 + i,
                "event_id": r["id"],
                "subject": subject,
                "case_id": r["case_id"],
                "payload": r["payload"],
                "occurred_at": now,
            }
            for i, r in enumerate(rows)
        ],
    )


def upgrade() -> None:
    with op.batch_alter_table("network_commitment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "origin",
                sa.Enum("member", "worker", name="commitmentorigin", native_enum=False, length=40),
                nullable=False,
                server_default="member",
            )
        )
        batch_op.add_column(sa.Column("decline_reason_language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", When, nullable=True))
        batch_op.add_column(sa.Column("withdraw_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    bind = op.get_bind()
    moved: dict[tuple[Any, int], tuple[Any, int]] = {}  # (member id, index) -> (commitment id, member version)
    events: list[dict[str, Any]] = []
    members = bind.execute(sa.select(member).order_by(member.c.case_id, member.c.id)).all()
    for m in members:
        if not m.commitments:
            continue
        by = _recorded_by(bind, m.id, m.version)
        for index, recorded in enumerate(m.commitments):
            commitment_id = new_id()
            bind.execute(
                sa.insert(commitment).values(
                    id=commitment_id,
                    case_id=m.case_id,
                    member_id=m.id,
                    person_id=m.person_id,
                    text=recorded["text"],
                    schedule=recorded.get("schedule"),
                    language=AGENCY_LANGUAGE,
                    status="confirmed",
                    origin="worker",
                    proposed_by=by,
                    # In the list's order (a member's commitments are listed oldest first).
                    proposed_at=m.updated_at + timedelta(microseconds=index),
                    decided_by=by,
                    decided_at=m.updated_at,
                    version=1,
                    # The family and their network read them as the worker saved them: they were shared then.
                    shared_at=m.updated_at,
                    shared_by=by,
                )
            )
            moved[(m.id, index)] = (commitment_id, m.version)
            events.append(
                {
                    "case_id": m.case_id,
                    "payload": {
                        "case_id": str(m.case_id),
                        "commitment_id": str(commitment_id),
                        "member_id": str(m.id),
                        "person_id": str(m.person_id),
                        "status": "confirmed",
                        "origin": "worker",
                        "version": 1,
                    },
                }
            )
    for t in bind.execute(sa.select(translation).where(translation.c.record_kind == "network_member")).all():
        _, _, rest = t.source_field.partition(".")
        index, _, name = rest.partition(".")
        target = moved.get((t.record_id, int(index))) if index.isdigit() else None
        if target is None:  # a commitment removed before this migration: kept as it is (read as stale)
            continue
        commitment_id, member_version = target
        bind.execute(
            sa.update(translation)
            .where(translation.c.id == t.id)
            .values(
                record_kind="network_commitment",
                record_id=commitment_id,
                source_field=name,
                # The member's version it translated was the current one: the commitment's (1); else stale (0),
                # unless its digest shows the words are the same.
                source_version=1 if t.source_version == member_version else 0,
            )
        )
    _announce(bind, events)
    with op.batch_alter_table("network_member", schema=None) as batch_op:
        batch_op.drop_column("commitments")


def downgrade() -> None:
    with op.batch_alter_table("network_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commitments", sa.JSON(), nullable=False, server_default="[]"))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(commitment)
        .where(commitment.c.origin == "worker")
        .order_by(commitment.c.member_id, commitment.c.proposed_at, commitment.c.id)
    ).all()
    by_member: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        by_member[row.member_id].append(row)
    now = datetime.now(UTC)
    for member_id, recorded in by_member.items():
        m = bind.execute(sa.select(member).where(member.c.id == member_id)).one()
        version = m.version + 1
        previous = bind.execute(
            sa.select(revision_table.c.snapshot).where(
                revision_table.c.member_id == member_id, revision_table.c.version == m.version
            )
        ).scalar()
        # A withdrawn one no longer holds: it is not listed again, only kept in the history below.
        holding = [r for r in recorded if r.status != "withdrawn"]
        listed = [{"text": r.text, **({"schedule": r.schedule} if r.schedule else {})} for r in holding]
        bind.execute(
            sa.update(member)
            .where(member.c.id == member_id)
            .values(commitments=listed, version=version, updated_at=now)
        )
        # What the list cannot hold (language, who recorded and shared, the share reason, a withdrawal) stays in the
        # history.
        kept = [
            {
                "id": str(r.id),
                "text": r.text,
                "schedule": r.schedule,
                "language": r.language,
                "proposed_by": r.proposed_by,
                "proposed_at": r.proposed_at.isoformat() if r.proposed_at else None,
                "shared_by": r.shared_by,
                "shared_at": r.shared_at.isoformat() if r.shared_at else None,
                "share_reason": r.share_reason,
                "status": r.status,
                "withdrawn_by": r.withdrawn_by,
                "withdrawn_at": r.withdrawn_at.isoformat() if r.withdrawn_at else None,
                "withdraw_reason": r.withdraw_reason,
            }
            for r in recorded
        ]
        bind.execute(
            sa.insert(revision_table).values(
                id=new_id(),
                member_id=member_id,
                version=version,
                snapshot={
                    **(previous or {"person_id": str(m.person_id)}),
                    "commitments": listed,
                    "recorded_commitments": kept,
                },
                changed_by=MIGRATED_BY,
                changed_at=now,
            )
        )
        position = {r.id: f"commitments.{i}" for i, r in enumerate(holding)}
        for r in recorded:
            for t in bind.execute(
                sa.select(translation).where(
                    translation.c.record_kind == "network_commitment", translation.c.record_id == r.id
                )
            ).all():
                bind.execute(
                    sa.update(translation)
                    .where(translation.c.id == t.id)
                    .values(
                        record_kind="network_member",
                        record_id=member_id,
                        # a withdrawn one's translations are kept, read as stale (no field of the member has them)
                        source_field=f"{position.get(r.id, f'withdrawn.{r.id}')}.{t.source_field}",
                        source_version=version if t.source_version == 1 and r.id in position else 0,
                    )
                )
        bind.execute(sa.delete(commitment).where(commitment.c.id.in_([r.id for r in recorded])))
    # A member's own commitment withdrawn since: the old states know no `withdrawn`; it reads as declined, with the
    # worker's reason as the reason (its words kept, still not shared).
    bind.execute(
        sa.update(commitment)
        .where(commitment.c.status == "withdrawn")
        .values(status="declined", decline_reason=sa.func.coalesce(commitment.c.decline_reason, commitment.c.withdraw_reason))
    )
    with op.batch_alter_table("network_commitment", schema=None) as batch_op:
        batch_op.drop_column("withdraw_reason")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("decline_reason_language")
        batch_op.drop_column("origin")
