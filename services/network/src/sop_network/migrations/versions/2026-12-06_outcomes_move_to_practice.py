"""the outcome measures and the federal extract move to the practice service (its fidelity and outcomes read
model): the tables that served only them here go (the safety plans in force learnt from the plans service's events,
the extract jobs and their files). The SACWIS reports and removals stay: the network keeps the case record and
announces what practice needs (`sop.network.case.reporting_facts`). The downgrade makes the tables again, empty
(the plans in force are learnt again only from events published after it).

Revision ID: 2c7e9a4b6d18
Revises: 9b3d5e7f1a42
Create Date: 2026-12-06 22:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "2c7e9a4b6d18"
down_revision: str | None = "9b3d5e7f1a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
WHEN = sop_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("extract_file")
    op.drop_table("extract_job")
    op.drop_index(op.f("ix_plan_in_force_case_id"), table_name="plan_in_force")
    op.drop_table("plan_in_force")


def downgrade() -> None:
    op.create_table(
        "plan_in_force",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("plan_type", S(length=40), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_in_force")),
    )
    op.create_index(op.f("ix_plan_in_force_case_id"), "plan_in_force", ["case_id"], unique=False)
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
