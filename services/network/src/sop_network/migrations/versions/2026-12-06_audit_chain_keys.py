"""audit_chain_keys: each audit record names the chain key its hash is an HMAC under, and keeps the client's
own request id apart from the gateway's.

Existing records are left as they are (key_id NULL): they verify as the chain's legacy, plain SHA-256 prefix.
They are not re-keyed, because re-keying would vouch for whatever they say now, tampered or not; the first
record written after this migration is the first keyed one (docs/identity.md, "Audit trail").

Revision ID: e210d32a1ae1
Revises: e768f203f2be
Create Date: 2026-12-06 04:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e210d32a1ae1'
down_revision: str | None = 'e768f203f2be'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_request_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('client_request_id')
