"""For the reads that answer plain data serialised once (`sop_shared.plain_answers.json_response`) in place of a
response model: each answer kept as the route built it, and the bytes FastAPI gives for the same data validated
through the route's `response_model` (as the route answered before)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from fastapi import APIRouter, Response
from fastapi.routing import APIRoute

from sop_shared.plain_answers import json_response


@dataclass
class Answer:
    route: APIRoute
    content: Any
    body: bytes

    def as_the_model_gives(self) -> bytes:
        """The content validated through the route's response model and serialised as FastAPI serialises it."""
        assert self.route.response_field is not None, self.route.path
        value, errors = self.route.response_field.validate(self.content, {}, loc=("response",))
        assert not errors, errors
        return self.route.response_field.serialize_json(value)


@dataclass
class KeptAnswers:
    answers: list[Answer] = field(default_factory=list)


def keep_answers(monkeypatch: pytest.MonkeyPatch, api: ModuleType, router: APIRouter) -> KeptAnswers:
    """Every answer `api`'s routes give through `json_response` from now on, with the route that gave it."""
    routes = {r.endpoint.__name__: r for r in router.routes if isinstance(r, APIRoute)}
    kept = KeptAnswers()

    def kept_response(content: Any) -> Response:
        response = json_response(content)
        route = routes[sys._getframe(1).f_code.co_name]
        kept.answers.append(Answer(route, content, bytes(response.body)))
        return response

    monkeypatch.setattr(api, "json_response", kept_response)
    return kept
