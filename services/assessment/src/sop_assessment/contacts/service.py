"""Contacts: record one (with the questions of the bank used in it), list a case's, read one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from sop_assessment.contacts.models import Contact
from sop_assessment.contacts.rules import question_errors
from sop_assessment.contacts.schemas import ContactIn
from sop_assessment.models import platform
from sop_assessment.supervision.questions import keys
from sop_shared.outbox import emit
from sop_shared.pagination import PageRequest
from sop_shared.problems import InvalidInput, NotFound


class ContactNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such contact")


async def record_contact(session: AsyncSession, *, case_id: uuid.UUID, body: ContactIn, by: str) -> Contact:
    errors = question_errors(body.questions_used, keys())
    if errors:
        raise InvalidInput(errors)
    contact = Contact(
        case_id=case_id,
        contact_on=body.contact_on,
        contact_type=body.contact_type,
        with_whom=[p.model_dump(mode="json") for p in body.with_whom],
        questions_used=[q.model_dump(mode="json") for q in body.questions_used],
        note=body.note,
        created_by=by,
    )
    session.add(contact)
    await session.flush()
    await emit(
        session,
        platform,
        subject="sop.assessment.contact.recorded",
        case_id=case_id,
        data={
            "contact_id": str(contact.id),
            "case_id": str(case_id),
            "contact_type": contact.contact_type.value,
            "question_keys": [q.key for q in body.questions_used],  # the bank's keys: no answers on the bus
        },
    )
    return contact


async def list_contacts(
    session: AsyncSession, *, case_id: uuid.UUID, page: PageRequest
) -> tuple[list[Contact], str | None]:
    query = select(Contact).where(col(Contact.case_id) == case_id)
    rows = list((await session.execute(page.apply(query, col(Contact.id)))).scalars())
    return page.page(rows)
