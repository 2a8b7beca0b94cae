"""The log lines of this code (structlog) are rendered and written by structlog itself, one JSON line each with
the logger's name, level and time; the libraries' (stdlib logging) the same JSON through the stdlib handler; no
event fails to log for a value orjson refuses."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import structlog


def parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_this_codes_lines_are_written_by_structlog_without_stdlib_records(log_lines: io.StringIO) -> None:
    records = _Records()
    logging.getLogger().addHandler(records)
    try:
        structlog.get_logger("sop.request").info("request", route="/v1/cases/{case_id}/view", status=200)
        logging.getLogger("uvicorn.error").info("Started server process")
    finally:
        logging.getLogger().removeHandler(records)
    assert [r.name for r in records.records] == ["uvicorn.error"]  # the library's record only
    (ours, library) = parsed(log_lines)
    assert ours["event"] == "request" and ours["logger"] == "sop.request" and ours["level"] == "info"
    assert ours["route"] == "/v1/cases/{case_id}/view" and ours["status"] == 200 and "timestamp" in ours
    assert library["logger"] == "uvicorn.error" and library["event"] == "Started server process"


def test_every_value_logs_and_an_exception_keeps_its_traceback(log_lines: io.StringIO) -> None:
    log = structlog.get_logger("sop.test")
    log.info("odd values", huge=2**70, by_number={1: "one"}, thing=object())
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    odd, failed = parsed(log_lines)
    assert odd["huge"] == 2**70 and odd["by_number"] == {"1": "one"} and "object" in odd["thing"]
    assert failed["level"] == "error" and "RuntimeError: boom" in failed["exception"]
