"""outcomes and federal reporting: a case's reports and removals from SACWIS, the safety plans in force (from the
plans service's events), federal extract jobs and their files

Revision ID: 6e2b9d4f0a17
Revises: 4d9f2a6b8c31
Create Date: 2026-12-06 19:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sop_shared.db

revision: str = "6e2b9d4f0a17"
down_revision: str | None = "4d9f2a6b8c31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
WHEN = sop_shared.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case_report",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", S(length=100), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("screened_in", sa.Boolean(), nullable=False),
        sa.Column("investigation_started_on", sa.Date(), nullable=True),
        sa.Column("disposition", S(length=40), nullable=True),
        sa.Column("disposition_on", sa.Date(), nullable=True),
        sa.Column("children", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_report_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_report")),
        sa.UniqueConstraint("case_id", "external_id", name=op.f("uq_case_report_case_id_external_id")),
    )
    op.create_index(op.f("ix_case_report_case_id"), "case_report", ["case_id"], unique=False)
    op.create_index("ix_case_report_received", "case_report", ["received_on"], unique=False)
    op.create_table(
        "case_removal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", S(length=100), nullable=False),
        sa.Column("child", S(length=100), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=False),
        sa.Column("discharged_on", sa.Date(), nullable=True),
        sa.Column("discharge_reason", S(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_removal_case_id_case")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_case_removal_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_removal")),
        sa.UniqueConstraint("case_id", "external_id", name=op.f("uq_case_removal_case_id_external_id")),
    )
    op.create_index(op.f("ix_case_removal_case_id"), "case_removal", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_removal_person_id"), "case_removal", ["person_id"], unique=False)
    op.create_index("ix_case_removal_removed", "case_removal", ["removed_on"], unique=False)
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


def downgrade() -> None:
    op.drop_table("extract_file")
    op.drop_table("extract_job")
    op.drop_index(op.f("ix_plan_in_force_case_id"), table_name="plan_in_force")
    op.drop_table("plan_in_force")
    op.drop_index("ix_case_removal_removed", table_name="case_removal")
    op.drop_index(op.f("ix_case_removal_person_id"), table_name="case_removal")
    op.drop_index(op.f("ix_case_removal_case_id"), table_name="case_removal")
    op.drop_table("case_removal")
    op.drop_index("ix_case_report_received", table_name="case_report")
    op.drop_index(op.f("ix_case_report_case_id"), table_name="case_report")
    op.drop_table("case_report")
