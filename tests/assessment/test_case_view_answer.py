"""The case-view reads answer plain data serialised once (`case_view.answer`, `sop_shared.plain_answers`), not their
response models: each answer must be, byte for byte, the JSON FastAPI gives when the same data is validated
through the route's `response_model` and serialised by it (as it was before), for every audience and language
of the golden family, the bounded view and the windows after it. A field renamed, missing or extra, out of the
model's order, or formatted otherwise (times, enums, ids, null, a float) fails here, raw bytes compared (the
golden test replaces ids and times)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from answer_bytes import keep_answers

from sop_assessment.case_view import api
from sop_shared.testing import InternalTokens, RunningService

sys.path.insert(0, str(Path(__file__).parent))
from test_case_view_golden import answers, populate, readers


@pytest.mark.sqlite_smoke
async def test_each_case_view_answer_is_the_json_its_response_model_gives(
    assessment: RunningService,
    tokens: InternalTokens,
    rivera: dict[str, str],
    lopez_case: uuid.UUID,
    maria_danger_statement: dict[str, Any],
    maria_harm_statement: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = await populate(assessment, lopez_case, rivera, maria_danger_statement, maria_harm_statement)
    kept = keep_answers(monkeypatch, api, api.router)
    for headers, language in readers(tokens, lopez_case, uuid.UUID(made["harm"]["id"])).values():
        await answers(assessment, lopez_case, headers, language)
    # each audience's full and bounded views, and the windows after them
    assert {a.route.name for a in kept.answers} == {"case_view", "case_view_statements", "case_view_safety_scale"}
    for answer in kept.answers:
        assert answer.body == answer.as_the_model_gives(), answer.route.path
