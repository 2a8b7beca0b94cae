"""Contacts over HTTP, under their case: what happened in a visit, a call or a meeting, and which solution-focused
questions of the bank the worker used."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from sop_assessment.case_view.access import require_record_scope
from sop_assessment.case_view.http import idempotent_create
from sop_assessment.contacts import service
from sop_assessment.contacts.models import Contact
from sop_assessment.contacts.schemas import ContactIn, ContactOut, ContactPage
from sop_shared.audit import audit_request
from sop_shared.auth import CurrentPrincipal, require_case_scope
from sop_shared.db import SessionDep
from sop_shared.idempotency import IdempotencyDep
from sop_shared.pagination import PageDep
from sop_shared.policy import Scope
from sop_shared.query_params import known_query_params

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["contacts"])


def _out(contact: Contact) -> ContactOut:
    return ContactOut.model_validate(contact.model_dump())


@router.post("/contacts", status_code=201, response_model=ContactOut, dependencies=[known_query_params()])
async def record_contact(
    case_id: uuid.UUID,
    body: ContactIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a contact with who was there and the questions of the bank used (each by its key, the language it
    was asked in and a note of the answer). A key not in the bank is 422 naming `questions_used.<i>.key`."""
    require_case_scope(principal, case_id, Scope.case_write)

    async def create() -> Contact:
        return await service.record_contact(session, case_id=case_id, body=body, by=principal.subject)

    return await idempotent_create(
        request,
        session,
        principal,
        idempotency,
        body,
        resource="contact",
        case_id=case_id,
        create=create,
        render=_out,
        location=lambda c: f"/v1/cases/{case_id}/contacts/{c.id}",
    )


@router.get("/contacts", response_model=ContactPage, dependencies=[known_query_params("limit", "cursor")])
async def list_contacts(
    case_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ContactPage:
    """The case's contacts, oldest first."""
    require_case_scope(principal, case_id, Scope.case_read)
    rows, next_cursor = await service.list_contacts(session, case_id=case_id, page=page)
    await audit_request(request, session, principal, resource="contact", action="read", case_id=case_id)
    return ContactPage(items=[_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/contacts/{contact_id}", response_model=ContactOut, dependencies=[known_query_params()])
async def get_contact(
    case_id: uuid.UUID, contact_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> ContactOut:
    contact = await session.get(Contact, contact_id)
    require_record_scope(principal, contact, Scope.case_read, service.ContactNotFound(), path_case_id=case_id)
    assert contact is not None
    await audit_request(
        request, session, principal, resource="contact", action="read", case_id=case_id, resource_id=contact.id
    )
    return _out(contact)
