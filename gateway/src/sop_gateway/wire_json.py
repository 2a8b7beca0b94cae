"""JSON on the gateway's hot path, with orjson: decoding every service answer and encoding every GraphQL result
took 5 to 14 % of the gateway's CPU with the standard library (issue 16's profiles)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson


def read_json(response: httpx.Response) -> Any:
    """A service's answer, decoded (httpx's `Response.json()` with the standard library's decoder). orjson would
    read an integer beyond 64 bits as a float; none reaches here: the input policy refuses such an integer at
    every component's edge (`sop_shared.input_policy`), so nothing stored or answered carries one."""
    return orjson.loads(response.content)


def encode_json(data: object) -> bytes:
    """A GraphQL result as bytes. orjson refuses what JSON cannot carry exactly (an integer beyond 64 bits);
    the standard library writes it, as before."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()
