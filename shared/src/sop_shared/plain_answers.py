"""Answers built as plain data (dicts, lists, ids, times, enums) and serialised once.

A route keeps its `response_model=` (the contract and the OpenAPI document come from it) but answers a `Response`
of its own: FastAPI then neither validates the answer through the model nor serialises it again. The data must be
the JSON the model would give, key for key and in its order; each user holds that to the model's bytes in a test."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic_core import to_json


def json_response(content: Any) -> Response:
    """An answer built as plain data, serialised once (pydantic-core's encoder: the JSON a response model would
    give, without validating the data through the model first)."""
    return Response(to_json(content), media_type="application/json")
