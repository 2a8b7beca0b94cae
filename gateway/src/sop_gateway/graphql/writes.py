"""The one path every GraphQL write takes, and the mutation convention built on it.

A mutation is declared as a `CaseMutation`: its name, the service route it calls, the audit resource, and the
name of the record it returns. Everything else is derived from the service's OpenAPI document
(`openapi_types`): the mutation takes one `input` — the route's path ids (`caseId`, `planId`…),
`expectedVersion` (required where the service requires `If-Match`), `idempotencyKey` (where the service
takes `Idempotency-Key`), and the request body's fields — and returns `<Name>Payload { <record>, userErrors }`.

Each write: parses every id before anything else (a bad one costs no call), checks the case access (cached for
seconds, as everywhere in the gateway), mints a token scoped to the case with the decision's scopes, calls the
service with `expectedVersion` as `If-Match` and `idempotencyKey` as `Idempotency-Key`, audits the write at the
edge, and answers. What the caller can put right is a user error, never an exception: invalid input (the
gateway's or the service's 400/422, with the field as a camelCase path into the input), a version conflict
(412), a missing version (428), a conflict (409), or a record or case that does not exist or that the caller
may not know of (404, told apart from nothing). Top-level errors remain for what the caller cannot fix by
changing the input: `UNAUTHENTICATED`, `FORBIDDEN` (a case they may see, a write their role may not make) and
`SERVICE_UNAVAILABLE` (with the `idempotencyKey` to repeat the write safely)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from sop_gateway.access import CaseAccess, forget_after_write, require_case_access
from sop_gateway.graphql.case_view import require_principal
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input, external_id_segment, idempotency_key, parse_id
from sop_gateway.graphql.openapi_types import DerivedTypes, pascal, python_name, record_from_json
from sop_gateway.upstream import UpstreamError
from sop_shared.audit import AuditEntry
from sop_shared.auth import Principal
from sop_shared.concurrency import etag
from sop_shared.observability import request_id_var
from sop_shared.policy import Scope
from sop_shared.problems import NotFound

MAX_VERSION = 2_147_483_647
ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update"}
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


# --- user errors ---------------------------------------------------------------------------------------


@strawberry.enum(description="Why a write was refused, in a way the caller can put right")
class UserErrorCode(Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    VERSION_CONFLICT = "version_conflict"
    VERSION_REQUIRED = "version_required"
    CONFLICT = "conflict"


@strawberry.type(description="Something in the input that kept the write from being made; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Where, as a path into the mutation\'s arguments in their GraphQL names: ["input", '
        '"rules", "0", "text"]; null when it is about the request as a whole'
    )
    message: str
    code: UserErrorCode
    current_version: int | None = strawberry.field(
        default=None, description="With VERSION_CONFLICT and VERSION_REQUIRED: the record's version now"
    )


class WriteRefused(Exception):
    """The caller's mistake, told as user errors in the payload."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def input_path(service_field: str, input_fields: Mapping[str, str] | None = None) -> list[str]:
    """A field as a service or the gateway names it (`rules.0.responsible[1].person_id`, `input.planId`) as
    a GraphQL path into the mutation's arguments: ["input", "rules", "0", "responsible", "1", "personId"].
    `input_fields` maps the service's body names to the input's where they differ."""
    parts = [p for p in re.split(r"[.\[\]]+", service_field) if p]
    if parts[:1] == ["input"]:
        parts = parts[1:]
    elif parts[:1] == ["body"]:
        parts = parts[1:]
    if parts and input_fields is not None:
        parts[0] = input_fields.get(parts[0], parts[0])
    return ["input", *(p if p.isdigit() else to_camel_case(p) for p in parts)]


def problem_of(response: httpx.Response, fallback: str) -> tuple[dict[str, Any], str]:
    """A service's problem+json body (empty when it is not one) and its detail."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    return problem, str(problem.get("detail") or problem.get("title") or fallback)


def user_errors_of(response: httpx.Response, input_fields: Mapping[str, str] | None = None) -> list[UserError] | None:
    """A service's problem+json as user errors, when it is one the caller can put right; else None."""
    problem, detail = problem_of(response, f"refused ({response.status_code})")
    status = response.status_code
    if status in (400, 422):
        errors = [
            UserError(
                field=input_path(str(e.get("field", "")), input_fields),
                message=str(e.get("message", "")),
                code=UserErrorCode.INVALID,
            )
            for e in problem.get("errors", [])
            if isinstance(e, dict)
        ]
        return errors or [UserError(field=None, message=detail, code=UserErrorCode.INVALID)]
    current = problem.get("current_version")
    current = current if isinstance(current, int) else None
    if status == 412:
        return [
            UserError(
                field=["input", "expectedVersion"],
                message=detail,
                code=UserErrorCode.VERSION_CONFLICT,
                current_version=current,
            )
        ]
    if status == 428:
        return [
            UserError(
                field=["input", "expectedVersion"],
                message=detail,
                code=UserErrorCode.VERSION_REQUIRED,
                current_version=current,
            )
        ]
    if status == 404:
        return [UserError(field=None, message="No such record.", code=UserErrorCode.NOT_FOUND)]
    if status == 409:
        return [UserError(field=None, message=detail, code=UserErrorCode.CONFLICT)]
    return None


def problem_error(response: httpx.Response, service: str, *, rename: dict[str, str] | None = None) -> GraphQLError:
    """A service's problem+json as the GraphQL error of a query (reads have no payload to carry user errors)."""
    problem, detail = problem_of(response, f"{service} answered {response.status_code}")
    status = response.status_code
    if status in (400, 422):
        fields = [
            {"field": (rename or {}).get(e.get("field", ""), e.get("field", "")), "message": e.get("message", "")}
            for e in problem.get("errors", [])
            if isinstance(e, dict)
        ]
        extensions: dict[str, Any] = {"code": "BAD_USER_INPUT", "fields": fields}
        if fields:
            extensions["field"] = fields[0]["field"]
        return GraphQLError(detail, extensions=extensions)
    if status == 404:
        return GraphQLError("No such record.", extensions={"code": "NOT_FOUND"})
    if status == 403:
        return GraphQLError(detail, extensions={"code": "FORBIDDEN"})
    return GraphQLError(
        f"The {service} service could not do this right now.",
        extensions={"code": "SERVICE_UNAVAILABLE", "service": service},
    )


# --- the one path every write takes --------------------------------------------------------------------


@dataclass(frozen=True)
class CaseWrite:
    """One write: which service, which route (`/v1/cases/{case_id}/…`, ids filled in), what is audited, and the
    scope the case access decision must hold (None: a write that is not about one case, such as a SACWIS
    upsert, checked by the service against the caller's own scopes)."""

    name: str
    service: str
    method: str
    route: str
    resource: str
    action: str = "create"
    scope: Scope | None = Scope.case_write


async def write_to_case(
    context: GatewayContext,
    case_id: uuid.UUID | None,
    write: CaseWrite,
    body: Any,
    *,
    expected_version: int | None = None,
    key: str | None = None,
    input_fields: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send one write; a refusal the caller can put right raises `WriteRefused`."""
    principal = require_principal(context)
    if case_id is not None and write.scope is not None:
        access = await _case_access(context, principal, case_id)
        if write.scope.value not in access.scopes:
            # The caller may see the case, so saying "not allowed" tells them nothing new; the attempt is audited.
            await _audit(context, principal, case_id, write, action="denied", status=403)
            raise GraphQLError(
                f"{write.name} needs the {write.scope.value} scope on this case.", extensions={"code": "FORBIDDEN"}
            )
        downstream = access.downstream(principal)
    else:
        downstream = principal.scoped_to(None)
    headers: dict[str, str] = {}
    if expected_version is not None:
        headers["If-Match"] = etag(expected_version)
    if key is not None:
        headers["Idempotency-Key"] = key
    try:
        response = await context.services.request(
            write.service, write.method, write.route, downstream, json=body, headers=headers
        )
    except UpstreamError as exc:
        # With the key the write went out with, a repeat returns the stored record instead of writing again.
        key_to_repeat = {"idempotencyKey": exc.idempotency_key} if exc.idempotency_key else {}
        raise GraphQLError(
            f"The {write.service} service could not do this right now.",
            extensions={"code": "SERVICE_UNAVAILABLE", "service": write.service, **key_to_repeat},
        ) from exc
    await _audit_write(context, principal, case_id, write, response)
    # A network write (a member who logs in, say) may change who may see the case: decide afresh next time.
    forget_after_write(
        context.access_cache,
        service=write.service,
        method=write.method,
        case_id=case_id,
        status_code=response.status_code,
    )
    if response.status_code >= 400:
        refused = user_errors_of(response, input_fields)
        if refused is not None:
            raise WriteRefused(refused)
        if response.status_code == 403:
            raise GraphQLError("You may not do this here.", extensions={"code": "FORBIDDEN"})
        raise problem_error(response, write.service)
    return response


async def _case_access(context: GatewayContext, principal: Principal, case_id: uuid.UUID) -> CaseAccess:
    try:
        return await require_case_access(context.services, context.access_cache, principal, case_id)
    except NotFound:
        raise WriteRefused(
            [UserError(field=["input", "caseId"], message="No such case.", code=UserErrorCode.NOT_FOUND)]
        ) from None
    except UpstreamError as exc:
        raise GraphQLError(
            "The case cannot be checked right now (network service).",
            extensions={"code": "SECTION_UNAVAILABLE", "section": "case", "service": "network"},
        ) from exc


async def _audit_write(
    context: GatewayContext,
    principal: Principal,
    case_id: uuid.UUID | None,
    write: CaseWrite,
    response: httpx.Response,
) -> None:
    record_id = None
    if response.status_code < 400:
        body = response.json()
        if isinstance(body, dict) and body.get("id"):
            record_id = str(body["id"])[:100]
            if case_id is None and body.get("case_id") is None and write.resource == "case":
                case_id = uuid.UUID(str(body["id"]))
            elif case_id is None and body.get("case_id"):
                case_id = uuid.UUID(str(body["case_id"]))
    await _audit(context, principal, case_id, write, action=write.action, status=response.status_code, record=record_id)


async def _audit(
    context: GatewayContext,
    principal: Principal,
    case_id: uuid.UUID | None,
    write: CaseWrite,
    *,
    action: str,
    status: int,
    record: str | None = None,
) -> None:
    async with context.database.session() as session:
        # Recorded from what the gateway knows and the service answered, never from the caller's words.
        await context.audit.record(
            session,
            AuditEntry.for_principal(
                principal,
                resource=f"{write.service}:{write.resource}",
                action=action,
                case_id=case_id,
                resource_id=record,
                fields=[write.name, f"status:{status}"],
                request_id=request_id_var.get(),
            ),
        )


# --- inputs as service bodies --------------------------------------------------------------------------


def body_of(value: Any, path: str, *, leave_out: frozenset[str] = frozenset()) -> Any:
    """A GraphQL input as the service's JSON body: the service's own field names, unset fields left out,
    enums as their values, every `…_id`/`…_ids` parsed as a UUID (named by its GraphQL path when it is not
    one), dates in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        json_keys: dict[str, str] = getattr(value, "__json_keys__", {})
        hints: dict[str, Any] = type(value).__annotations__
        body: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name in leave_out or item is None or item is strawberry.UNSET:
                continue
            key = json_keys.get(f.name, f.name)
            where = f"{path}.{to_camel_case(key)}"
            if _holds_ids(hints.get(f.name)) and isinstance(item, list):
                body[key] = [str(parse_id(v, f"{where}[{i}]")) for i, v in enumerate(item)]
            elif _holds_ids(hints.get(f.name)):
                body[key] = str(parse_id(item, where))
            else:
                body[key] = body_of(item, where)
        return body
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [body_of(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _holds_ids(annotation: Any) -> bool:
    """`ID`, `ID | None`, `list[ID]`…: an id the service takes as a UUID (names in other systems are `String`)."""
    if annotation is strawberry.ID:
        return True
    return any(_holds_ids(arg) for arg in getattr(annotation, "__args__", ()))


def expected_version(value: int | None) -> int | None:
    """The version the caller read. Records start at 1; 0 is the version of a choice not yet made (what the
    family's network sees: `chooseWhatNetworkSees` before the first choice), a stale one for anything else."""
    if value is not None and not 0 <= value <= MAX_VERSION:
        raise bad_input("input.expectedVersion", "must be the version you read (0 or more)")
    return value


def refused_input(error: GraphQLError) -> WriteRefused | None:
    """The gateway's own BAD_USER_INPUT (a malformed id, say) as a user error."""
    extensions = error.extensions or {}
    if extensions.get("code") != "BAD_USER_INPUT":
        return None
    fields = extensions.get("fields") or [{"field": extensions.get("field", ""), "message": error.message}]
    return WriteRefused(
        [
            UserError(field=input_path(str(f["field"])), message=str(f["message"]), code=UserErrorCode.INVALID)
            for f in fields
        ]
    )


# --- the mutation convention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMutation:
    """A mutation, declared by the service route it calls; its input and payload are derived from the route's
    OpenAPI operation. `record` names the payload's field for what the service answered."""

    name: str
    service: str
    method: str
    path: str  # the service's path, e.g. "/v1/cases/{case_id}/safety-plans/{plan_id}/submit"
    resource: str
    record: str
    description: str | None = None
    scope: Scope | None = Scope.case_write
    action: str | None = None
    # For a body that is one of several kinds (`oneOf` with a discriminator): which one this mutation writes.
    # Its input is that kind's fields; the discriminator is filled in.
    variant: str | None = None


@dataclass
class DerivedMutation:
    spec: CaseMutation
    input_type: Any
    payload_type: Any
    record_type: Any
    path_ids: list[str]  # path parameters that are UUIDs (`case_id`, `plan_id`)
    path_names: list[str]  # path parameters that are names in another system (`system`, `external_id`)
    body_type: Any | None
    versioned: bool
    keyed: bool
    fixed: dict[str, str]  # body fields the mutation fills in itself (a `oneOf`'s discriminator)


def derive_mutation(spec: CaseMutation, document: dict[str, Any], types: DerivedTypes) -> DerivedMutation:
    """The mutation's input and payload types from the service's OpenAPI operation."""
    operation = document["paths"][spec.path][spec.method.lower()]
    types.service = spec.service
    parameters = operation.get("parameters", [])
    path_ids = [p["name"] for p in parameters if p["in"] == "path" and p["schema"].get("format") == "uuid"]
    path_names = [p["name"] for p in parameters if p["in"] == "path" and p["name"] not in path_ids]
    headers = {p["name"].lower() for p in parameters if p["in"] == "header"}
    versioned = "if-match" in headers
    version_required = versioned and "428" in operation["responses"]
    keyed = "idempotency-key" in headers
    body_schema = (((operation.get("requestBody") or {}).get("content") or {}).get("application/json") or {}).get(
        "schema"
    )
    fixed: dict[str, str] = {}
    if body_schema is not None and "discriminator" in body_schema:
        discriminator = body_schema["discriminator"]
        if spec.variant is None or spec.variant not in discriminator["mapping"]:
            raise ValueError(f"{spec.name}: variant must be one of {sorted(discriminator['mapping'])}")
        fixed[discriminator["propertyName"]] = spec.variant
        body_schema = {"$ref": discriminator["mapping"][spec.variant]}
    name = pascal(spec.name)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    json_keys: dict[str, str] = {}
    for parameter in path_ids + path_names:
        description = "The case the record is in" if parameter == "case_id" else None
        annotations[parameter] = strawberry.ID if parameter in path_ids else str
        namespace[parameter] = strawberry.field(description=description)
        json_keys[parameter] = parameter
    if version_required:
        annotations["expected_version"] = int
        namespace["expected_version"] = strawberry.field(
            description="The version you read (the record's `version`); a stale one is a VERSION_CONFLICT"
        )
    body_type: Any = None
    if body_schema is not None:
        body_type, _ = types.annotation(document, body_schema, "input", f"{name}Body")
        if not isinstance(body_type, type) or not dataclasses.is_dataclass(body_type):
            raise ValueError(f"{spec.name}: the body is not an object with fields")
        body_keys: dict[str, str] = getattr(body_type, "__json_keys__", {})
        for f in dataclasses.fields(body_type):
            if body_keys[f.name] in fixed:
                continue
            if f.name in json_keys or f.name in ("expected_version", "idempotency_key"):
                raise ValueError(f"{spec.name}: body field {f.name} clashes with a route parameter")
            annotations[f.name] = body_type.__annotations__[f.name]
            namespace[f.name] = _copy_field(body_type, f.name)
            json_keys[f.name] = body_keys[f.name]
    if versioned and not version_required:
        annotations["expected_version"] = int | None
        namespace["expected_version"] = strawberry.field(
            default=None, description="The version you read; when given, a stale one is a VERSION_CONFLICT"
        )
    if keyed:
        annotations["idempotency_key"] = str | None
        namespace["idempotency_key"] = strawberry.field(
            default=None, description="Send the same key again to repeat this write safely (it is made once)"
        )
    mandatory = [a for a, f in namespace.items() if f.default is dataclasses.MISSING]
    ordered = {a: annotations[a] for a in [*mandatory, *[a for a in annotations if a not in mandatory]]}
    input_type = strawberry.input(
        type(f"{name}Input", (), {"__annotations__": ordered, **namespace, "__json_keys__": json_keys}),
        description=f"The input of {spec.name}",
    )
    response_schema = _success_schema(operation)
    record_type, _ = types.annotation(document, response_schema, "output", f"{name}Record")
    payload_type = strawberry.type(
        type(
            f"{name}Payload",
            (),
            {
                "__annotations__": {python_name(spec.record): record_type | None, "user_errors": list[UserError]},
                python_name(spec.record): strawberry.field(
                    default=None, description="What was written, as the service keeps it (null when refused)"
                ),
                "user_errors": strawberry.field(
                    default_factory=list, description="Why nothing was written, when it was refused"
                ),
            },
        ),
        description=f"What {spec.name} did",
    )
    return DerivedMutation(
        spec=spec,
        input_type=input_type,
        payload_type=payload_type,
        record_type=record_type,
        path_ids=path_ids,
        path_names=path_names,
        body_type=body_type,
        versioned=versioned,
        keyed=keyed,
        fixed=fixed,
    )


def _copy_field(owner: Any, attribute: str) -> Any:
    original = next(f for f in owner.__strawberry_definition__.fields if f.python_name == attribute)
    default = original.default
    return strawberry.field(
        description=original.description,
        name=original.graphql_name,
        **({} if default is dataclasses.MISSING else {"default": default}),
    )


def _success_schema(operation: dict[str, Any]) -> dict[str, Any]:
    for status in ("201", "200", "202"):  # 202: accepted, on its way to another service
        content = (operation["responses"].get(status) or {}).get("content") or {}
        if "application/json" in content:
            schema: dict[str, Any] = content["application/json"]["schema"]
            return schema
    return {}


def resolver(derived: DerivedMutation) -> Callable[..., Any]:
    spec = derived.spec
    leave_out = frozenset([*derived.path_ids, *derived.path_names, "expected_version", "idempotency_key"])
    input_fields = {v: to_camel_case(k) for k, v in derived.input_type.__json_keys__.items()}
    input_fields |= {"Idempotency-Key": "idempotencyKey", "If-Match": "expectedVersion"}

    async def resolve(info: Info[GatewayContext, None], input: Any) -> Any:
        payload = derived.payload_type
        try:
            ids: dict[str, Any] = {
                p: parse_id(getattr(input, p), f"input.{to_camel_case(p)}") for p in derived.path_ids
            }
            ids |= {p: external_id_segment(getattr(input, p), f"input.{to_camel_case(p)}") for p in derived.path_names}
            version = expected_version(getattr(input, "expected_version", None))
            key = idempotency_key(getattr(input, "idempotency_key", None), "input.idempotencyKey")
            body = body_of(input, "input", leave_out=leave_out) if derived.body_type is not None else None
            if derived.fixed:
                body = {**(body or {}), **derived.fixed}
            write = CaseWrite(
                name=spec.name,
                service=spec.service,
                method=spec.method,
                route=spec.path.format(**{p: str(v) for p, v in ids.items()}),
                resource=spec.resource,
                action=spec.action or ACTIONS.get(spec.method, "update"),
                scope=spec.scope,
            )
            response = await write_to_case(
                info.context,
                ids.get("case_id"),
                write,
                body,
                expected_version=version,
                key=key,
                input_fields=input_fields,
            )
        except WriteRefused as refused:
            return payload(user_errors=refused.errors)
        except GraphQLError as error:
            as_input = refused_input(error)
            if as_input is None:
                raise
            return payload(user_errors=as_input.errors)
        record = record_from_json(derived.record_type, response.json())
        return payload(**{python_name(spec.record): record})

    resolve.__annotations__ = {
        "info": Info[GatewayContext, None],
        "input": derived.input_type,
        "return": derived.payload_type,
    }
    return resolve


def mutation_type(
    specs: list[CaseMutation], documents: Mapping[str, dict[str, Any]], types: DerivedTypes, *extra: type
) -> type:
    """The schema's `Mutation`: one field per spec, plus the fields of any hand-written `extra` types."""
    namespace: dict[str, Any] = {}
    for spec in specs:
        derived = derive_mutation(spec, documents[spec.service], types)
        namespace[python_name(to_snake(spec.name))] = strawberry.mutation(
            resolver=resolver(derived),
            name=spec.name,
            description=spec.description
            or (documents[spec.service]["paths"][spec.path][spec.method.lower()].get("description") or "").strip()
            or None,
        )
    mutation: type = strawberry.type(type("Mutation", tuple(extra), namespace))
    return mutation


def to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
