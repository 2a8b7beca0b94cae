"""The gateway's own database: its audit trail of every case access at the edge, the partner API tokens and
the integration clients (OAuth2 client credentials). Secrets are never stored: only their SHA-256."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from sop_shared.db import UTCDateTime, service_metadata, utcnow
from sop_shared.ids import new_id
from sop_shared.platform_tables import define_platform_tables

metadata = service_metadata()
platform = define_platform_tables(metadata)


class GatewayTable(SQLModel, registry=registry(metadata=metadata)):
    pass


class ApiToken(GatewayTable, table=True):
    """A partner agency's API token: `sopp_<secret>`, shown once; only its hash is kept."""

    __tablename__ = "api_token"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    secret_hash: str = Field(max_length=64, unique=True)
    display_prefix: str = Field(max_length=20)  # the first characters, so people can tell tokens apart
    agency: str = Field(max_length=100, index=True)
    purpose: str = Field(max_length=200)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_by: str | None = Field(default=None, max_length=200)
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class IntegrationClient(GatewayTable, table=True):
    """A system that gets gateway tokens by OAuth2 client credentials (e.g. SACWIS/CHRIS sync)."""

    __tablename__ = "integration_client"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=64)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    revoked_by: str | None = Field(default=None, max_length=200)
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
