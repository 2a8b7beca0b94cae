"""merge sdm child voice with maps goals ratings supervision

Revision ID: 2b05c7ac9c2b
Revises: 5c119a145b4a, d95287a7678a
Create Date: 2026-11-29 20:28:25.285912
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = '2b05c7ac9c2b'
down_revision: str | None = ('5c119a145b4a', 'd95287a7678a')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
