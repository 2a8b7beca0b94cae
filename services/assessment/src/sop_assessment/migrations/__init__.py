"""Migrations of the assessment service (Alembic; `sop migrate assessment`)."""
