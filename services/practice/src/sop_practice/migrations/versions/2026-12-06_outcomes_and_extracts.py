"""outcomes and federal reporting move here from the network service: the units of each case (from the network's
`case.reporting_facts`, beside the fidelity read model's facts, which hold the reports, removals, children and
safety plans in force), federal extract jobs and their files. Filled by the consumers or a rebuild of the fidelity
read model from the streams (`sop practice rebuild-fidelity`).

Revision ID: 5d2a8c1e7b93
Revises: 5c2a7e9d0b14
Create Date: 2026-12-06 22:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "5d2a8c1e7b93"
down_revision: str | None = "5c2a7e9d0b14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
WHEN = sop_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outcome_case_unit",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("unit", S(length=100), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "unit", name=op.f("pk_outcome_case_unit")),
    )
    op.create_index(op.f("ix_outcome_case_unit_unit"), "outcome_case_unit", ["unit"], unique=False)
    op.create_table(
        "extract_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "succeeded", "failed", name="jobstatus", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("requested_by", S(length=200), nullable=False),
        sa.Column("period", S(length=7), nullable=False),
        sa.Column("county", S(length=100), nullable=True),
        sa.Column("element_map", S(length=40), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=True),
        sa.Column("records_done", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", S(length=1000), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extract_job")),
    )
    op.create_table(
        "extract_file",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("name", S(length=100), nullable=False),
        sa.Column("media_type", S(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", S(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["extract_job.id"], name=op.f("fk_extract_file_job_id_extract_job")),
        sa.PrimaryKeyConstraint("job_id", "name", name=op.f("pk_extract_file")),
    )


def downgrade() -> None:
    op.drop_table("extract_file")
    op.drop_table("extract_job")
    op.drop_index(op.f("ix_outcome_case_unit_unit"), table_name="outcome_case_unit")
    op.drop_table("outcome_case_unit")
