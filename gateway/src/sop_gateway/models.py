"""The gateway's own database: its audit trail of every case access at the edge (API tokens come later)."""

from sop_shared.db import service_metadata
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)
