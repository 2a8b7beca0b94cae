"""translations of every text: one `translation` table for every family-facing text the service keeps
(statements, safety goals, map items, the child-voice words the child agreed to share)

Every statement translation is kept: copied with `record_kind` "statement", `source_field` "text" and its
statement version; no digest (it was not kept), so an older version's stays stale. A verification recorded
before qualifications were (`verifier_qualification` null) is kept as it was but no longer counts as verified:
such a translation waits in the queue for a qualified person to verify it.

Revision ID: 9c4e2b7a1d35
Revises: 5e2a9d7c1f83
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db
from sop_shared.translations import translation_table_columns

revision: str = "9c4e2b7a1d35"
down_revision: str | None = "5e2a9d7c1f83"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = (
    "id, case_id, language, text, translated_by, names_reporter, verified, verified_by, verified_at, created_by, "
    "created_at"
)


def upgrade() -> None:
    op.create_table("translation", *translation_table_columns())
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_translation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_translation_record_id"), ["record_id"], unique=False)
    op.execute(
        f"INSERT INTO translation ({KEPT}, record_kind, record_id, source_field, source_version) "
        f"SELECT {KEPT}, 'statement', statement_id, 'text', statement_version FROM statement_translation"
    )
    with op.batch_alter_table("statement_translation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_translation_statement_id"))
        batch_op.drop_index(batch_op.f("ix_statement_translation_case_id"))
    op.drop_table("statement_translation")


def downgrade() -> None:
    op.create_table(
        "statement_translation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("statement_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("statement_version", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("names_reporter", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("verified_at", sop_shared.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sop_shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statement.id"], name=op.f("fk_statement_translation_statement_id_statement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_translation")),
    )
    with op.batch_alter_table("statement_translation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_translation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_statement_translation_statement_id"), ["statement_id"], unique=False)
    op.execute(
        f"INSERT INTO statement_translation ({KEPT}, statement_id, statement_version) "
        f"SELECT {KEPT}, record_id, source_version FROM translation WHERE record_kind = 'statement'"
    )
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_translation_record_id"))
        batch_op.drop_index(batch_op.f("ix_translation_case_id"))
    op.drop_table("translation")
