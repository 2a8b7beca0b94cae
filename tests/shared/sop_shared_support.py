"""Helpers for the sop_shared tests (a database with the platform tables, a private JetStream stream).
Named uniquely: test folders have no __init__.py, so module names share one namespace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData

from sop_shared.db import Database, service_metadata
from sop_shared.events import NatsJetStreamBus
from sop_shared.platform_tables import PlatformTables, define_platform_tables


@dataclass
class PlatformDatabase:
    database: Database
    tables: PlatformTables
    metadata: MetaData
    url: str


async def open_platform_database(url: str, metadata: MetaData | None = None) -> PlatformDatabase:
    """`define_platform_tables` on a private MetaData (plus whatever the caller declared on it), created."""
    metadata = metadata if metadata is not None else service_metadata()
    tables = define_platform_tables(metadata)
    database = Database(url)
    await database.create_all(metadata)
    return PlatformDatabase(database, tables, metadata, url)


@dataclass
class JetStream:
    """One private stream on the shared server; `js` is a plain nats-py JetStream context for inspection."""

    url: str
    stream: str
    namespace: str
    js: Any

    def bus(self, **kwargs: Any) -> NatsJetStreamBus:
        return NatsJetStreamBus(self.url, stream=self.stream, namespace=self.namespace, **kwargs)

    async def message_count(self) -> int:
        """Messages stored in the stream (0 while nobody has created it yet)."""
        from nats.js.errors import NotFoundError

        try:
            return (await self.js.stream_info(self.stream)).state.messages
        except NotFoundError:
            return 0
