"""Audit you can ask: "who looked at this case" from the gateway's own audit trail, and whether a component's
keyed audit chain is intact. Only staff holding `audit:read` (supervisors and auditors) may read the access
log; an auditor may ask about any case, a supervisor only about a case they have access to (otherwise: no
such case). Verifying a chain (the gateway's or a service's) is for auditors and administrators only."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy import select

from sop_gateway.access import record_refusal, require_case_access
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.types import ActorType as CallerKind
from sop_gateway.graphql.types import Audience, known
from sop_gateway.models import platform
from sop_gateway.upstream import SERVICES, UpstreamError
from sop_shared.audit import AuditEntry
from sop_shared.audit_api import may_verify_chain
from sop_shared.auth import Principal
from sop_shared.policy import ActorType, Scope, StaffRole
from sop_shared.problems import NotFound

MAX_ENTRIES = 500


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


async def resolve_case_access_log(
    context: GatewayContext, case_id: strawberry.ID, first: int, before_seq: int | None = None
) -> list[AccessLogEntry]:
    """The case's trail, newest first: `first` entries, older than `before_seq` when given (the `seq` of the
    last entry of the page before), so the whole trail is read page by page, each entry once."""
    principal = _require_auditing_principal(context)
    case_uuid = _case_uuid(case_id)
    if not 1 <= first <= MAX_ENTRIES:
        raise GraphQLError(
            f"first must be between 1 and {MAX_ENTRIES}.", extensions={"code": "BAD_USER_INPUT", "field": "first"}
        )
    if before_seq is not None and before_seq < 1:
        raise GraphQLError(
            "beforeSeq must be the seq of an entry (1 or more).",
            extensions={"code": "BAD_USER_INPUT", "field": "beforeSeq"},
        )
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
        rows = (
            await session.execute(
                select(audit)
                .where(audit.c.case_id == case_uuid, *([audit.c.seq < before_seq] if before_seq is not None else []))
                .order_by(audit.c.seq.desc())
                .limit(first)
            )
        ).all()
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
    return [AccessLogEntry.from_row(row) for row in rows]


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
