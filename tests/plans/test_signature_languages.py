"""Interpreters on the record: a sign-off records the language of the version signed and, when it is not the
language the signer reads, the interpreter who explained it; without one the sign-off is refused. The signer's
language is the network service's (learnt from its events, never by calling it)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, text

from sop_plans.models import (
    InterpreterMode,
    InterpreterQualification,
    SafetyPlanSignature,
    SignatureDecision,
    SignatureMethod,
    SignerRole,
    platform,
)
from sop_plans.safety_plans.signatures import interpreter_language, signature_record
from sop_plans.schemas import InterpreterIn
from sop_shared.db import utcnow
from sop_shared.events import Event
from sop_shared.ids import new_id
from sop_shared.problems import InvalidInput
from sop_shared.testing import RunningService

if TYPE_CHECKING:
    from conftest import PlanFlow

# Maria and her mother Rosa, as the Lopez plan names them (tests/plans/conftest.py).
MARIA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a001")
ROSA_ID = uuid.UUID("01937a2e-5c00-7000-8000-00000000a004")

LUCIA = {"name": "Lucía Gómez", "qualification": "certified_interpreter", "mode": "phone"}


async def network_says(plans: RunningService, case_id: uuid.UUID, *people: tuple[uuid.UUID, str, bool, int]) -> None:
    """The network service's `case.updated` for the Lopez case: who is in it and which language each reads."""
    await plans.bus.publish(
        Event(
            id=new_id(),
            subject="sop.network.case.updated",
            occurred_at=utcnow(),
            case_id=case_id,
            data={
                "case_id": str(case_id),
                "person_ids": [str(p) for p, *_ in people],
                "people": [
                    {"person_id": str(p), "preferred_language": lang, "needs_interpreter": needs, "version": version}
                    for p, lang, needs, version in people
                ],
            },
        )
    )


@pytest.fixture
async def maria_reads_spanish(plans: RunningService, case_id: uuid.UUID) -> None:
    await network_says(plans, case_id, (MARIA_ID, "es", True, 1), (ROSA_ID, "es-US", False, 1))


async def signatures_stored(plans: RunningService) -> int:
    async with plans.app.state.database.session() as session:
        return int((await session.execute(select(func.count()).select_from(SafetyPlanSignature))).scalar_one())


async def signature_events(plans: RunningService) -> list[dict[str, Any]]:
    outbox = platform.outbox
    async with plans.app.state.database.session() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.subject.like("%signature_recorded")).order_by(outbox.c.id)
        )
        return [dict(payload) for payload in rows.scalars()]


# --- the rule, as a plain function ---


def explained(
    version_language: str,
    signer_language: str | None,
    interpreter: dict[str, Any] | None = None,
    decision: SignatureDecision = SignatureDecision.signed,
) -> str | None:
    return interpreter_language(
        version_language=version_language,
        signer_name="María",
        signer_language=signer_language,
        decision=decision,
        interpreter=InterpreterIn.model_validate(interpreter) if interpreter else None,
    )


def test_a_version_in_another_language_needs_the_interpreter_who_explained_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        explained("en", "es")
    assert refused.value.errors == [
        {
            "field": "interpreter",
            "message": "the plan is in en; María reads es: record the interpreter who explained it",
        }
    ]


def test_the_signers_own_language_needs_no_interpreter_whatever_the_region() -> None:
    assert explained("es", "es") is None
    assert explained("es-US", "es-MX") is None


def test_the_interpreter_explains_in_the_signers_language_by_default() -> None:
    assert explained("en", "es", LUCIA) == "es"
    assert explained("en", "es", {**LUCIA, "language": "es-MX"}) == "es-MX"


def test_an_interpreter_in_a_language_the_signer_does_not_read_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        explained("en", "es", {**LUCIA, "language": "mh"})
    assert refused.value.errors[0]["field"] == "interpreter.language"
    assert refused.value.errors[0]["message"] == "the interpreter explained it in mh; María reads es"


def test_a_signer_whose_language_is_unknown_is_not_held_to_it_but_the_interpreters_language_must_be_said() -> None:
    assert explained("en", None) is None
    with pytest.raises(InvalidInput) as refused:
        explained("en", None, LUCIA)
    assert refused.value.errors[0]["field"] == "interpreter.language"
    assert explained("en", None, {**LUCIA, "language": "mh"}) == "mh"


def test_a_refusal_is_recorded_without_an_interpreter() -> None:
    assert explained("en", "es", decision=SignatureDecision.refused) is None


# --- through the service ---


@pytest.mark.usefixtures("maria_reads_spanish")
async def test_maria_cannot_sign_the_english_plan_without_an_interpreter_and_nothing_is_written(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any]
) -> None:
    plan = await flow.create(lopez_ongoing_plan)  # language: en (the default)
    assert plan["language"] == "en"
    problem = await flow.sign(plan, expect=422)
    assert problem["errors"] == [
        {
            "field": "interpreter",
            "message": "the plan is in en; Maria Lopez reads es: record the interpreter who explained it",
        }
    ]
    assert await signatures_stored(plans) == 0
    assert await signature_events(plans) == []
    assert (await flow.get(plan["id"]))["sign_off"]["missing"] == ["Maria Lopez"]


@pytest.mark.usefixtures("maria_reads_spanish")
async def test_with_the_interpreter_on_record_the_sign_off_counts_and_says_who_explained_it(
    flow: PlanFlow, plans: RunningService, lopez_ongoing_plan: dict[str, Any]
) -> None:
    plan = await flow.create(lopez_ongoing_plan)
    signature = await flow.sign(
        plan, interpreter=LUCIA, affirmation="La Sra. Gómez me leyó este plan en español y estoy de acuerdo."
    )
    assert (signature["language"], signature["signer_language"]) == ("en", "es")
    assert signature["interpreter"] == {**LUCIA, "language": "es"}
    listed = (await flow.get(plan["id"]))["signatures"]
    assert [(s["signer_name"], s["interpreter"]["name"]) for s in listed] == [("Maria Lopez", "Lucía Gómez")]
    [event] = await signature_events(plans)
    assert (event["language"], event["interpreter"]["mode"]) == ("en", "phone")

    # The language and the interpreter are part of what the signature hash covers.
    verify = f"/v1/safety-plans/{plan['id']}/signatures/{signature['id']}/verify"
    assert (await flow.call("GET", verify))["valid"]
    async with plans.app.state.database.engine.begin() as conn:
        await conn.execute(text("UPDATE safety_plan_signature SET interpreter_name = 'Someone Else'"))
    verdict = await flow.call("GET", verify)
    assert not verdict["valid"] and not verdict["checks"]["signature_hash"]


@pytest.mark.usefixtures("maria_reads_spanish")
async def test_a_plan_written_in_spanish_is_signed_by_maria_without_an_interpreter(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    plan = await flow.create({**lopez_ongoing_plan, "language": "es"})
    signature = await flow.sign(plan, affirmation="He leído este plan y estoy de acuerdo.")
    assert (signature["language"], signature["signer_language"], signature["interpreter"]) == ("es", "es", None)
    rosa = await flow.sign(plan, 1)  # es-US reads es
    assert rosa["interpreter"] is None


async def test_the_newest_word_of_the_network_on_a_persons_language_counts(
    flow: PlanFlow, plans: RunningService, case_id: uuid.UUID, lopez_ongoing_plan: dict[str, Any]
) -> None:
    await network_says(plans, case_id, (MARIA_ID, "en", False, 3))
    await network_says(plans, case_id, (MARIA_ID, "es", True, 2))  # an older version of her record, late
    plan = await flow.create(lopez_ongoing_plan)
    signature = await flow.sign(plan)
    assert (signature["signer_language"], signature["interpreter"]) == ("en", None)
    await network_says(plans, case_id, (MARIA_ID, "es", True, 4))  # SACWIS corrects it
    edited = await flow.call(
        "PATCH",
        f"/v1/safety-plans/{plan['id']}",
        json={"change_note": "Rosa's evening call moves to 8:30.", "triggers": ["Maria misses the 8:30 call"]},
        headers={**flow.worker, "If-Match": str((await flow.get(plan["id"]))["version"])},
    )
    assert (await flow.sign(edited, expect=422))["errors"][0]["field"] == "interpreter"


async def test_someone_the_network_has_not_told_us_about_is_not_held_to_a_language(
    flow: PlanFlow, lopez_ongoing_plan: dict[str, Any]
) -> None:
    plan = await flow.create(
        {**lopez_ongoing_plan, "participants": [{"name": "Maria Lopez", "role": "caregiver"}]}  # no person id
    )
    signature = await flow.sign(plan, signer_person_id=None)
    assert (signature["language"], signature["signer_language"], signature["interpreter"]) == ("en", None, None)


def test_a_sign_off_recorded_before_languages_keeps_its_format_1_record() -> None:
    """Old rows (language NULL) hash as they were recorded, so they still verify; new ones cover the languages
    and the interpreter."""
    old = SafetyPlanSignature(
        plan_id=new_id(),
        version_number=1,
        version_hash="ab" * 32,
        decision=SignatureDecision.signed,
        signer_name="Maria Lopez",
        signer_role=SignerRole.caregiver,
        method=SignatureMethod.typed_name,
        typed_name="Maria Lopez",
        affirmation="Estoy de acuerdo.",
        recorded_by="fsw.rivera",
        recorded_by_type="staff",
        signed_at=utcnow(),
        signature_hash="",
    )
    record = signature_record(old)
    assert record["format"] == "sop.plans.signature/1"
    assert not {"language", "signer_language", "interpreter"} & record.keys()
    new = old.model_copy(
        update={
            "language": "en",
            "signer_language": "es",
            "interpreter_name": "Lucía Gómez",
            "interpreter_qualification": InterpreterQualification.certified_interpreter,
            "interpreter_mode": InterpreterMode.phone,
            "interpreter_language": "es",
        }
    )
    assert signature_record(new) == {
        **record,
        "format": "sop.plans.signature/2",
        "language": "en",
        "signer_language": "es",
        "interpreter": {
            "name": "Lucía Gómez",
            "qualification": "certified_interpreter",
            "mode": "phone",
            "language": "es",
        },
    }
