"""Audit you can ask: "who looked at this case" from the gateway's own audit trail, and whether a component's
keyed audit chain is intact. Only staff holding `audit:read` (supervisors and auditors) may read the access
log; an auditor may ask about any case, a supervisor only about a case they have access to (otherwise: no
such case). Verifying a chain (the gateway's or a service's) is for auditors and administrators only."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import func, select

from sop_gateway.access import record_refusal, require_case_access
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.paging import PageInfo, direction, window_page_info
from sop_gateway.graphql.types import ActorType as CallerKind
from sop_gateway.graphql.types import Audience, known
from sop_gateway.models import platform
from sop_gateway.upstream import SERVICES, UpstreamError
from sop_shared.audit import AuditEntry
from sop_shared.audit_api import may_verify_chain
from sop_shared.auth import Principal
from sop_shared.pagination import MAX_SEQUENCE, CaseList, Reading
from sop_shared.policy import ActorType, Scope, StaffRole
from sop_shared.problems import InvalidInput, NotFound

MAX_ENTRIES = 500
DEFAULT_ENTRIES = 100


@strawberry.type(description="One access to the case through the gateway: who, through which client, as whom.")
class AccessLogEntry:
    seq: int
    occurred_at: dt.datetime
    actor_subject: str
    actor_type: CallerKind | None = strawberry.field(description="null for a kind of caller this gateway does not know")
    client_id: str | None
    action: str
    resource: str
    resource_id: str | None
    audience: Audience | None
    fields: list[str] = strawberry.field(description="The sections and sensitive fields returned")
    purpose: str | None
    request_id: str | None = strawberry.field(description="The id the gateway gave the request (X-Request-ID)")
    client_request_id: str | None = strawberry.field(description="The id the client sent for it, if any")

    @classmethod
    def from_row(cls, row: Any) -> AccessLogEntry:
        return cls(
            seq=row.seq,
            occurred_at=row.occurred_at,
            actor_subject=row.actor_subject,
            actor_type=known(CallerKind, row.actor_type),
            client_id=row.client_id,
            action=row.action,
            resource=row.resource,
            resource_id=row.resource_id,
            audience=known(Audience, row.audience),
            fields=list(row.fields or []),
            purpose=row.purpose,
            request_id=row.request_id,
            client_request_id=row.client_request_id,
        )


@strawberry.type(
    description="Whether a component's keyed audit chain recomputes from its first record and "
    "agrees with its newest signed checkpoint (docs/identity.md)."
)
class AuditChainVerdict:
    component: str
    intact: bool
    records: int
    broken_at: int | None
    reason: str | None = strawberry.field(description="What is wrong at brokenAt, in words")
    legacy_records: int = strawberry.field(description="Records from before chain keys (plain SHA-256), first")
    checkpoint_seq: int | None = strawberry.field(description="The newest signed checkpoint compared with")
    checkpoint_at: dt.datetime | None

    @classmethod
    def from_dict(cls, component: str, body: dict[str, Any]) -> AuditChainVerdict:
        at = body.get("checkpoint_at")
        return cls(
            component=component,
            intact=bool(body["intact"]),
            records=int(body["records"]),
            broken_at=body.get("broken_at"),
            reason=body.get("reason"),
            legacy_records=int(body.get("legacy_records") or 0),
            checkpoint_seq=body.get("checkpoint_seq"),
            checkpoint_at=dt.datetime.fromisoformat(at) if isinstance(at, str) else at,
        )


def _require_auditing_principal(context: GatewayContext) -> Principal:
    principal = context.principal
    if principal is None:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    if principal.actor_type != ActorType.staff or not principal.has_scope(Scope.audit_read):
        raise GraphQLError("Only supervisors and auditors may read the audit trail.", extensions={"code": "FORBIDDEN"})
    return principal


def _case_uuid(case_id: strawberry.ID) -> uuid.UUID:
    try:
        return uuid.UUID(str(case_id))
    except ValueError as exc:
        raise GraphQLError("caseId must be a UUID.", extensions={"code": "BAD_USER_INPUT", "field": "caseId"}) from exc


@strawberry.type(description="One access in the case's trail and its position")
class AccessLogEdge:
    cursor: str
    node: AccessLogEntry


@strawberry.type(description="A page of a case's access log, newest first")
class AccessLogConnection:
    edges: list[AccessLogEdge]
    total_count: int = strawberry.field(description="How many accesses the case's trail holds")
    page_info: PageInfo


def _seq(value: Any) -> int:
    if not isinstance(value, int) or not 0 <= value <= MAX_SEQUENCE:
        raise ValueError("seq")
    return value


@dataclass(frozen=True)
class AccessLogPage:
    """What `caseAccessLog`'s arguments ask: how many entries, from where, which way."""

    size: int
    reading: Reading  # where in the case's access log (`sop_shared.pagination.CaseList`) and which way
    from_a_cursor: bool


def access_log_page(
    the_list: CaseList,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    before_seq: int | None,
) -> AccessLogPage:
    """Forward (`first`, `after`; the deprecated `beforeSeq` is `after` the entry with that seq) or backward
    (`last`, `before`); BAD_USER_INPUT naming the argument for a mix, a size out of bounds or a cursor the
    case's log did not give."""
    if before_seq is not None:
        if after is not None or before is not None or last is not None:
            raise bad_input("beforeSeq", "give `beforeSeq` with `first` only (or page with `after`)")
        if before_seq < 1:
            raise bad_input("beforeSeq", "must be the seq of an entry (1 or more)")
    backward = direction(first, after, last, before)
    size, argument = (last, "last") if backward else (first, "first")
    size = DEFAULT_ENTRIES if size is None else size
    if not 1 <= size <= MAX_ENTRIES:
        raise bad_input(argument, f"must be between 1 and {MAX_ENTRIES}")
    argument = "before" if before is not None else "after"
    try:
        if before_seq is not None:
            cursor: str | None = the_list.cursor([min(before_seq, MAX_SEQUENCE)])
        elif backward:
            cursor = the_list.backward(before) if before is not None else the_list.from_the_end()
        else:
            cursor = the_list.forward(after) if after is not None else None
        reading = the_list.reading(cursor, (_seq,), field=argument)
    except InvalidInput as exc:
        raise bad_input(exc.errors[0]["field"], exc.errors[0]["message"]) from exc
    return AccessLogPage(size, reading, (before if backward else after) is not None or before_seq is not None)


async def resolve_case_access_log(
    context: GatewayContext,
    case_id: strawberry.ID,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    before_seq: int | None = None,
) -> AccessLogConnection:
    """The case's trail, newest first, a page at a time either way (`CaseList` cursors: bound to the case's log),
    so the whole trail is read page by page, each entry once."""
    principal = _require_auditing_principal(context)
    case_uuid = _case_uuid(case_id)
    the_list = CaseList(case_uuid, "access-log")
    asked = access_log_page(the_list, first, after, last, before, before_seq)
    reading = asked.reading
    if StaffRole.auditor not in principal.roles:
        # A supervisor reads the trail of the cases they supervise; any other case does not exist for them.
        try:
            access = await require_case_access(context.services, context.access_cache, principal, case_uuid)
        except NotFound as exc:
            raise GraphQLError("No such case.", extensions={"code": "NOT_FOUND"}) from exc
        except UpstreamError as exc:
            raise GraphQLError(
                "The case cannot be checked right now (network service).",
                extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"},
            ) from exc
        if Scope.audit_read.value not in access.scopes:
            await record_refusal(context.access_cache, principal, case_uuid)
            raise GraphQLError("No such case.", extensions={"code": "NOT_FOUND"})
    audit = platform.audit
    async with context.database.session() as session:
        of_case = audit.c.case_id == case_uuid
        query = the_list.seek(select(audit).where(of_case), [audit.c.seq], reading, limit=asked.size, descending=True)
        rows = (await session.execute(query)).all()
        total = (await session.execute(select(func.count()).select_from(audit).where(of_case))).scalar_one()
        # Reading who looked is itself a look: recorded after the answer is taken, so it shows next time.
        await context.audit.record(
            session,
            AuditEntry.for_principal(
                principal,
                resource="case_access_log",
                action="read",
                case_id=case_uuid,
                resource_id=str(case_uuid),
                fields=["accessLog"],
            ),
        )
    page = the_list.page(
        rows, limit=asked.size, total=total, position_of=lambda row: (row.seq,), backward=reading.backward
    )
    return AccessLogConnection(
        edges=[
            AccessLogEdge(cursor=the_list.cursor([row.seq]), node=AccessLogEntry.from_row(row)) for row in page.items
        ],
        total_count=total,
        page_info=window_page_info(page.model_dump(), backward=reading.backward, from_a_cursor=asked.from_a_cursor),
    )


async def resolve_audit_chain(context: GatewayContext, trail: Any, component: str) -> AuditChainVerdict:
    """The gateway's own chain, checked here; a service's, checked by that service (its keys never leave it)."""
    principal = context.principal
    if principal is None:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    if not may_verify_chain(principal):
        raise GraphQLError(
            "Only auditors and administrators may verify an audit chain.", extensions={"code": "FORBIDDEN"}
        )
    if component == "gateway":
        return AuditChainVerdict.from_dict(component, (await trail.verify()).to_dict())
    if component not in SERVICES:
        raise GraphQLError(
            f"component must be gateway or one of {', '.join(SERVICES)}.",
            extensions={"code": "BAD_USER_INPUT", "field": "component"},
        )
    try:
        body = await context.services.get_json(component, "/v1/audit/verify", principal.scoped_to(None))
    except UpstreamError as exc:
        raise GraphQLError(
            f"The {component} service cannot verify its chain right now.",
            extensions={"code": "SECTION_UNAVAILABLE", "service": component},
        ) from exc
    return AuditChainVerdict.from_dict(component, body)
