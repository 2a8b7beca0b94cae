"""Answers built as plain data (dicts, lists, ids, times, enums) and serialised once.

A route keeps its `response_model=` (the contract and the OpenAPI document come from it) but answers a `Response`
of its own: FastAPI then neither validates the answer through the model nor serialises it again. The data must be
the JSON the model would give, key for key and in its order; each user holds that to the model's bytes in a test.
Enum members are best given as their values (`member_value`): pydantic-core's encoder takes several times longer
over a member than over a string (about 1.5 µs each; a view of 40 statements has 120)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import Response
from pydantic_core import to_json


def json_response(content: Any) -> Response:
    """An answer built as plain data, serialised once (pydantic-core's encoder: the JSON a response model would
    give, without validating the data through the model first)."""
    return Response(to_json(content), media_type="application/json")


def member_value(value: Any) -> Any:
    """An enum member as its value (the JSON a model gives it); anything else as it is."""
    return value.value if isinstance(value, Enum) else value
