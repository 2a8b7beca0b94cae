"""Tables of the practice service. The skeleton holds only the platform's own tables (outbox, processed
events, idempotency keys, the audit chain); people, training and coaching add theirs."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from sop_shared.db import service_metadata
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)


class PracticeTable(SQLModel, registry=registry(metadata=metadata)):
    pass
