"""The words the plans service offers for translation and the words its family reads: a safety plan's title, red
flags (`triggers.0`, …), what happens if a rule is broken, its backup plan and how it avoids each known trigger
(`trigger_plan.0.how_avoided`, …) (`safety_plan`); each rule's words
(`plan_rule`: text, frequency, how it is verified); a next step's action (`next_step`). A plan's words are
its current version's (a translation of words the version in force shares stays current for it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_plans.case_view.rules import ENDED, shared_with, version_shown
from sop_plans.models import NextStep, SafetyPlan, SafetyPlanVersion
from sop_plans.next_steps.service import OPEN_STATUSES
from sop_plans.safety_plans.service import case_plans_with_current_version
from sop_shared.policy import Audience
from sop_shared.translations import Source, Words
from sop_shared.translations_api import Found, TranslatedRecordNotFound

KINDS = ("safety_plan", "plan_rule", "next_step")
# Next steps carry no language of their own: the agency writes them in English.
NEXT_STEP_LANGUAGE = "en"


def plan_words(content: Mapping[str, Any]) -> dict[str, str]:
    """A plan version's own words by field (its rules' are records of their own)."""
    words = {"title": content.get("title")}
    words |= {f"triggers.{i}": t for i, t in enumerate(content.get("triggers") or [])}
    words["if_rule_broken.what_happens"] = (content.get("if_rule_broken") or {}).get("what_happens")
    words["backup_plan"] = content.get("backup_plan")
    words |= {
        f"trigger_plan.{i}.how_avoided": e.get("how_avoided") for i, e in enumerate(content.get("trigger_plan") or [])
    }
    return {name: str(text) for name, text in words.items() if isinstance(text, str) and text.strip()}


def rule_words(rule: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(rule[name]) for name in ("text", "frequency", "how_verified") if rule.get(name)}


async def _plans(session: AsyncSession, case_id: uuid.UUID) -> list[tuple[SafetyPlan, SafetyPlanVersion]]:
    rows = await session.execute(case_plans_with_current_version(case_id))
    return [(plan, version) for plan, version in rows.all()]


async def find(session: AsyncSession, kind: str, record_id: uuid.UUID, case_id: uuid.UUID) -> Found:
    """The record of `kind` with `record_id` in `case_id` (404 otherwise: another case's looks missing)."""
    if kind == "next_step":
        step = await session.get(NextStep, record_id)
        if step is None or step.case_id != case_id:
            raise TranslatedRecordNotFound()
        return Found(case_id, NEXT_STEP_LANGUAGE, step.version, {"action": step.action}, step)
    for plan, version in await _plans(session, case_id):
        language = str(version.content.get("language") or "en")
        if kind == "safety_plan" and plan.id == record_id:
            return Found(case_id, language, version.number, plan_words(version.content), plan)
        if kind == "plan_rule":
            for rule in version.content.get("rules") or []:
                if str(rule.get("id")) == str(record_id):
                    return Found(case_id, language, version.number, rule_words(rule), plan)
    raise TranslatedRecordNotFound()


async def family_words(session: AsyncSession, case_id: uuid.UUID) -> list[Words]:
    """The words of the case the family reads: each plan shared with them, as the version they read, and the
    open next steps."""
    words: list[Words] = []
    for plan, current in await _plans(session, case_id):
        if plan.status in ENDED or not shared_with(plan, Audience.family):
            continue
        number = version_shown(plan)
        version = current if number == current.number else await _version(session, plan.id, number) or current
        language = str(version.content.get("language") or "en")
        for name, text in plan_words(version.content).items():
            words.append(Words(case_id, "safety_plan", plan.id, name, Source(language, version.number, text)))
        for rule in version.content.get("rules") or []:
            for name, text in rule_words(rule).items():
                source = Source(language, version.number, text)
                words.append(Words(case_id, "plan_rule", uuid.UUID(str(rule["id"])), name, source))
    steps = await session.execute(
        select(NextStep).where(col(NextStep.case_id) == case_id, col(NextStep.status).in_(OPEN_STATUSES))
    )
    for step in steps.scalars():
        source = Source(NEXT_STEP_LANGUAGE, step.version, step.action)
        words.append(Words(case_id, "next_step", step.id, "action", source))
    return words


async def _version(session: AsyncSession, plan_id: uuid.UUID, number: int) -> SafetyPlanVersion | None:
    rows = await session.execute(
        select(SafetyPlanVersion).where(
            col(SafetyPlanVersion.plan_id) == plan_id, col(SafetyPlanVersion.number) == number
        )
    )
    return rows.scalars().first()
