"""Counting the SQL statements a running service sends while a test makes a request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sop_shared.testing import RunningService


@contextmanager
def counted_queries(svc: RunningService) -> Iterator[list[str]]:
    """The SQL statements the service runs meanwhile, as the database driver receives them."""
    seen: list[str] = []
    engine = svc.app.state.database.engine.sync_engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
