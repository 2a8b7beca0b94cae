"""The REST façade's own OpenAPI paths: every service operation a client may call through the gateway, at the
path it calls (`/api/<service>/v1/…`), so a client generated from the gateway's document reaches the whole REST
API. Built from the services' operations kept beside the GraphQL mutations (`sop contract write` refreshes
them), then published with the gateway's conventions: its security schemes and problem+json errors.

Left out: what only the gateway calls (health and readiness, the case-view and access reads), and a service's
short form of a record route when the record also has its case-scoped form (`/v1/statements/{id}` beside
`/v1/cases/{case_id}/statements/{id}`): through the gateway a record of a case is reached under its case, which
scopes the call to that case."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from sop_shared.openapi import COMMON_ERRORS, IF_MATCH_ERRORS, WRITE_ERRORS, amend_openapi
from sop_shared.problems import PROBLEM_JSON

GATEWAY_ONLY_TAGS = frozenset({"operations", "case view", "access"})
GATEWAY_ONLY_PREFIXES = ("/v1/case-views",)
_NAMED_ERRORS = COMMON_ERRORS | WRITE_ERRORS | IF_MATCH_ERRORS
_SCHEMA_REF = "#/components/schemas/"


def facade_paths(service: str, operations: Mapping[str, Any]) -> dict[str, Any]:
    """One service's operations as the façade serves them: the paths a client may call, prefixed
    `/api/<service>`, each operation id and tag named for the service (ids stay unique across services)."""
    paths = operations["paths"]
    published: dict[str, Any] = {}
    for path, methods in paths.items():
        if path.startswith(GATEWAY_ONLY_PREFIXES) or _has_case_scoped_form(path, paths):
            continue
        kept = {}
        for method, operation in methods.items():
            if set(operation.get("tags", [])) & GATEWAY_ONLY_TAGS:
                continue
            operation = copy.deepcopy(operation)
            # Through the façade a record is reached under its case only: its id needs no `_in_case`.
            name = (operation.get("operationId") or method + path).removesuffix("_in_case")
            operation["operationId"] = f"{service}_{name}"
            operation["tags"] = [f"{service}: {tag}" for tag in operation.get("tags", [])] or [service]
            operation["responses"] = {
                status: response if status.startswith(("1", "2", "3")) else _error_response(status)
                for status, response in operation["responses"].items()
            }
            kept[method] = operation
        if kept:
            published[f"/api/{service}{path}"] = kept
    return published


def _has_case_scoped_form(path: str, paths: Mapping[str, Any]) -> bool:
    return (
        path.startswith("/v1/")
        and not path.startswith("/v1/cases/")
        and ("/v1/cases/{case_id}/" + path.removeprefix("/v1/") in paths)
    )


def _error_response(status: str) -> dict[str, Any]:
    if status in _NAMED_ERRORS:
        return {"$ref": f"#/components/responses/{_NAMED_ERRORS[status][0]}"}
    try:
        description = HTTPStatus(int(status)).phrase
    except ValueError:
        description = "Error"
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": _SCHEMA_REF + "Problem"}}}}


def merged_schemas(documents: Mapping[str, dict[str, Any]], taken: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Per service, the schema names to rename so that every name in the one document means one thing: a name
    that the gateway already uses (`taken`), or that two services define differently, becomes
    `<Service><Name>`; the same definition in several services stays one schema. Renames change the
    definitions that refer to them, so this repeats until nothing more differs."""
    renames: dict[str, dict[str, str]] = {service: {} for service in documents}
    while True:
        seen: dict[str, set[str]] = {}
        for service, document in documents.items():
            for name, schema in document.get("components", {}).get("schemas", {}).items():
                if name not in renames[service]:
                    seen.setdefault(name, set()).add(_canonical(schema, renames[service]))
        clashing = {name for name, forms in seen.items() if len(forms) > 1 or name in taken}
        if not clashing:
            return renames
        for service, document in documents.items():
            for name in clashing & document.get("components", {}).get("schemas", {}).keys():
                renames[service][name] = service.capitalize() + name


def _canonical(schema: Any, renames: Mapping[str, str]) -> str:
    return json.dumps(_renamed(schema, renames), sort_keys=True)


def _renamed(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF) and ref[len(_SCHEMA_REF) :] in renames:
            return {**node, "$ref": _SCHEMA_REF + renames[ref[len(_SCHEMA_REF) :]]}
        return {key: _renamed(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed(value, renames) for value in node]
    return node


def _used_schemas(paths: dict[str, Any], schemas: Mapping[str, Any]) -> dict[str, Any]:
    used: dict[str, Any] = {}
    pending: list[Any] = [paths]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
                name = ref[len(_SCHEMA_REF) :]
                if name in schemas and name not in used:
                    used[name] = schemas[name]
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return used


def with_facade(document: dict[str, Any], upstream: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's own document (in place) with the façade's paths and the schemas they use."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    published = {}
    for service, operations in upstream.items():
        paths = facade_paths(service, operations)
        used = _used_schemas(paths, operations.get("components", {}).get("schemas", {}))
        published[service] = {"paths": paths, "components": {"schemas": dict(sorted(used.items()))}}
    renames = merged_schemas(published, schemas)
    for service, operations in published.items():
        for name, schema in operations["components"]["schemas"].items():
            new_name = renames[service].get(name, name)
            schema = _renamed(schema, renames[service])
            if new_name != name and schema.get("title") == name:
                schema = {**schema, "title": new_name}  # generated clients name their classes by the title
            schemas[new_name] = schema
        document["paths"].update(_renamed(operations["paths"], renames[service]))
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document


def describe_facade(app: FastAPI, upstream: Callable[[], Mapping[str, dict[str, Any]]]) -> None:
    """Make `app.openapi()` include the façade's paths (before the edge conventions are applied over it all)."""
    amend_openapi(app, lambda document: with_facade(document, upstream()))
