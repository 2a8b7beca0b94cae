"""Lists that are not one case's, derived from the service route that keeps them: the supervisor's approval queue.

A `ServiceList` names a service's `GET` route answering a page (`{items, next_cursor}`); the field's arguments
are the route's query filters (enums where the route's are), `first` (its `limit`) and `after` (its `cursor`),
or backward `last` and `before` (`sop_shared.pagination`: a cursor reading before an item), and it returns
`<Name>Page { nodes, pageInfo }` with the items typed as the service answers them (the same
record types as the mutations' payloads). The caller's own token decides what the service lists (no case is
named, so none is checked at the edge); each read is audited at the edge like the façade's."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from sop_gateway.graphql.case_view import require_principal
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.openapi_types import DerivedTypes, pascal, python_name, record_from_json
from sop_gateway.graphql.paging import DEFAULT_FIRST, MAX_FIRST, PageInfo, slice_of
from sop_gateway.graphql.writes import body_of, problem_error
from sop_gateway.upstream import UpstreamError
from sop_gateway.wire_json import read_json
from sop_shared.audit import AuditEntry
from sop_shared.observability import request_id_var

MAX_CURSOR_LENGTH = 500


def _optional_arguments(
    document: dict[str, Any],
    queries: list[dict[str, Any]],
    name: str,
    types: DerivedTypes,
    parameters: list[inspect.Parameter],
    annotations: dict[str, Any],
) -> None:
    """A route's query parameters as optional arguments of the field (typed as the route types them)."""
    for query in queries:
        annotation, _ = types.annotation(document, query["schema"], "input", f"{name}{pascal(query['name'])}")
        attribute = python_name(query["name"])
        annotations[attribute] = annotation | None
        parameters.append(
            inspect.Parameter(attribute, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation | None)
        )


async def _read(
    context: GatewayContext,
    principal: Any,
    service: str,
    path: str,
    params: dict[str, str],
    name: str,
    *,
    backward: bool = False,
) -> Any:
    """GET a service's route with the caller's own token (no case), audited at the edge; its problem as the
    GraphQL error (with the route's paging parameters named as the field's arguments)."""
    try:
        response = await context.services.request(service, "GET", path, principal.scoped_to(None), params=params)
    except UpstreamError as exc:
        raise GraphQLError(
            f"The {service} service could not answer right now.",
            extensions={"code": "SERVICE_UNAVAILABLE", "service": service},
        ) from exc
    await context.audit.record_apart(
        context.database,
        [
            AuditEntry.for_principal(
                principal,
                resource=f"{service}:{path.rsplit('/', 1)[-1]}",
                action="read",
                fields=[name, f"status:{response.status_code}"],
                request_id=request_id_var.get(),
            )
        ],
    )
    if response.status_code >= 400:
        raise problem_error(
            response,
            service,
            rename={"limit": "last" if backward else "first", "cursor": "before" if backward else "after"},
        )
    return read_json(response)


@dataclass(frozen=True)
class ServiceList:
    name: str
    service: str
    path: str
    description: str


def list_field(spec: ServiceList, document: dict[str, Any], types: DerivedTypes) -> Any:
    operation = document["paths"][spec.path]["get"]
    types.service = spec.service
    filters = [
        p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] not in ("limit", "cursor")
    ]
    page_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = document["components"]["schemas"][page_schema["$ref"].rsplit("/", 1)[-1]]
    record_type, _ = types.annotation(document, page["properties"]["items"]["items"], "output", spec.name)
    name = pascal(spec.name)
    page_type = strawberry.type(
        type(
            f"{name}Page",
            (),
            {"__annotations__": {"nodes": list[record_type], "page_info": PageInfo}},  # type: ignore[valid-type]
        ),
        description=f"A page of {spec.name}",
    )
    parameters = [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)]
    annotations: dict[str, Any] = {"info": Info[GatewayContext, None], "return": page_type}
    _optional_arguments(document, filters, name, types, parameters, annotations)
    for paging, annotation in (
        ("first", int | None),
        ("after", str | None),
        ("last", int | None),
        ("before", str | None),
    ):
        annotations[paging] = annotation
        parameters.append(
            inspect.Parameter(paging, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
        )
    names = [python_name(q["name"]) for q in filters]

    async def resolve(info: Info[GatewayContext, None], **arguments: Any) -> Any:
        context = info.context
        principal = require_principal(context)
        for cursor in ("after", "before"):
            if arguments.get(cursor) is not None and not 1 <= len(arguments[cursor]) <= MAX_CURSOR_LENGTH:
                raise bad_input(cursor, "is not a cursor this list gave")
        window = slice_of(
            arguments.get("first"),
            arguments.get("after"),
            arguments.get("last"),
            arguments.get("before"),
            default=DEFAULT_FIRST,
            maximum=MAX_FIRST,
        )
        params = {"limit": str(window.limit), **({"cursor": window.cursor} if window.cursor else {})}
        for attribute in names:
            if arguments.get(attribute) is not None:
                params[attribute] = str(body_of(arguments[attribute], to_camel_case(attribute)))
        body = await _read(context, principal, spec.service, spec.path, params, spec.name, backward=window.backward)
        return page_type(
            nodes=[record_from_json(record_type, item) for item in body["items"]],
            page_info=window.page_info([str(item["id"]) for item in body["items"]], body.get("next_cursor")),
        )

    resolve.__signature__ = inspect.Signature(parameters, return_annotation=page_type)  # type: ignore[attr-defined]
    resolve.__annotations__ = annotations
    return strawberry.field(resolver=resolve, name=spec.name, description=spec.description)


@dataclass(frozen=True)
class ServiceRecord:
    """One record that is not one case's, read from a service's `GET` route with path parameters and answered
    as the service answers it (its type derived from the route's response schema): e.g. a worker's training
    record. `arguments` maps each required GraphQL argument to the path parameter it fills; the route's query
    parameters become optional arguments."""

    name: str
    service: str
    path: str
    arguments: tuple[tuple[str, str], ...]
    description: str


def record_field(spec: ServiceRecord, document: dict[str, Any], types: DerivedTypes) -> Any:
    operation = document["paths"][spec.path]["get"]
    types.service = spec.service
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    record_type, _ = types.annotation(document, schema, "output", spec.name)
    name = pascal(spec.name)
    queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    parameters = [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)]
    annotations: dict[str, Any] = {"info": Info[GatewayContext, None], "return": record_type}
    for argument, _ in spec.arguments:
        annotations[argument] = str
        parameters.append(inspect.Parameter(argument, inspect.Parameter.KEYWORD_ONLY, annotation=str))
    _optional_arguments(document, queries, name, types, parameters, annotations)

    async def resolve(info: Info[GatewayContext, None], **arguments: Any) -> Any:
        context = info.context
        principal = require_principal(context)
        path = spec.path
        for argument, parameter in spec.arguments:
            value = arguments[argument]
            if not 1 <= len(value) <= 200 or "/" in value:
                raise bad_input(argument, "is not a valid identifier")
            path = path.replace(f"{{{parameter}}}", quote(value, safe=""))
        params = {
            q["name"]: str(body_of(arguments[python_name(q["name"])], to_camel_case(python_name(q["name"]))))
            for q in queries
            if arguments.get(python_name(q["name"])) is not None
        }
        return record_from_json(record_type, await _read(context, principal, spec.service, path, params, spec.name))

    resolve.__signature__ = inspect.Signature(parameters, return_annotation=record_type)  # type: ignore[attr-defined]
    resolve.__annotations__ = annotations
    return strawberry.field(resolver=resolve, name=spec.name, description=spec.description)
