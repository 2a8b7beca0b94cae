"""What the case-boundary test (test_case_boundary.py) reads from the platform's own API descriptions: every
write operation of every service's OpenAPI document and every GraphQL mutation, and in each of them every
id-typed field — path, query or body, at any depth, inside lists — with the kind of record it names.

The kind comes from the schema's own marker when the service declares one (``x-sop-case-ref: <kind>``, or
``x-sop-not-case-scoped: <reason>`` for an id that deliberately is not held to a case); until every field
carries one, from the field's name through the one table below. A field neither marked nor in the table is
*unclassified*, and the test fails on it: a new endpoint with a new id field is never skipped in silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CASE_REF = "x-sop-case-ref"
NOT_CASE_SCOPED = "x-sop-not-case-scoped"
WRITE_METHODS = ("post", "put", "patch", "delete")
CASE_PREFIX = "/v1/cases/{case_id}"


def is_case_form(path: str) -> bool:
    """A route of one case: under /v1/cases/{case_id}/, or the case itself (`PATCH /v1/cases/{case_id}`)."""
    return path == CASE_PREFIX or path.startswith(CASE_PREFIX + "/")


# The kind of record an id names, by the field's last name (lists: the name without "[]"). The path case id is
# the request's own case: the boundary every other id is held to, so it is not itself sent from another case.
KIND_BY_NAME: dict[str, str] = {
    "case_id": "case",
    "case_ids": "case",
    "person_id": "person",
    "rater_person_id": "person",
    "signer_person_id": "person",
    "member_id": "network_member",
    "attendee_member_ids": "network_member",
    "grant_id": "grant",
    "statement_id": "statement",
    "statement_ids": "statement",
    "danger_statement_id": "danger_statement",
    "danger_statement_ids": "danger_statement",
    "goal_id": "safety_goal",
    "map_id": "map",
    "assessment_id": "sdm_assessment",
    "safety_assessment_id": "sdm_assessment",
    "record_id": "child_voice_record",
    "drawing_id": "drawing",
    "drawing_ids": "drawing",
    "plan_id": "safety_plan",
    "safety_plan_id": "safety_plan",
    "rule_id": "safety_plan_rule",
    "safety_plan_rule_id": "safety_plan_rule",
    "participant_id": "plan_participant",
    "step_id": "next_step",
    "approval_id": "approval",
    "rating_id": "scale_rating",
    "subject_id": "approval_subject",
    "translation_id": "translation",
    "history_id": "trauma_history",
    "commitment_id": "network_commitment",
    "trigger_id": "known_trigger",
    "consultation_id": "consultation",
}
# A field whose kind depends on the operation: a translation's `record_id` names a record of the service's own
# kinds (the example translates a child-voice record's words in assessment, a plan rule's in plans).
KIND_BY_OPERATION: dict[tuple[str, str, str], str] = {
    ("plans", "/translations", "record_id"): "safety_plan_rule",
    # a plan rule carries only a commitment the worker confirmed
    ("plans", "/safety-plans", "commitment_id"): "confirmed_commitment",
    ("plans", "/safety-plans/{plan_id}", "commitment_id"): "confirmed_commitment",
}
# An item's own `id` inside a list: the kind by the list it sits in (per operation family).
KIND_OF_ITEM_ID: dict[tuple[str, str], str] = {
    **{
        ("maps", column): "map_item"
        for column in (
            "participants",
            "complicating_factors",
            "strengths",
            "existing_safety",
            "next_steps",
            "gray_areas",
        )
    },
    ("safety-plans", "participants"): "plan_participant",
    ("safety-plans", "rules"): "safety_plan_rule",
}
# Ids that are deliberately not held to a case, with the reason (what `x-sop-not-case-scoped` will say).
NOT_CASE_SCOPED_BY_OPERATION: dict[tuple[str, str, str], str] = {
    ("network", "/v1/person-merges", "survivor_id"): "a person merge is an administrator's act across cases",
    ("network", "/v1/person-merges", "merged_id"): "a person merge is an administrator's act across cases",
    (
        "network",
        "/v1/person-merges/{merge_id}/reverse",
        "merge_id",
    ): "a person merge is an administrator's act across cases",
    (
        "network",
        "/v1/crosswalk/persons/{system}/{external_id}",
        "person_id",
    ): "SACWIS's person crosswalk (cases:sync) is platform-wide, not one case's",
    (
        "network",
        "/v1/persons/{person_id}",
        "person_id",
    ): "a person record across cases, for SACWIS (cases:sync): people outside a case are its data stewardship",
    (
        "network",
        "/v1/case-views",
        "case_ids",
    ): "the network service decides each case's access itself, by its policy table (the caseload's bulk read)",
    (
        "network",
        "/v1/case-access",
        "case_ids",
    ): "the network service decides each case's access itself, by its policy table (the caseload's decisions)",
    (
        "assessment",
        "/v1/coaching-referrals/{referral_id}",
        "referral_id",
    ): "a coaching referral is the worker's own, about no case",
}


# The same for a GraphQL mutation's input field (GraphQL carries no schema marker): by mutation and field.
NOT_CASE_SCOPED_IN_GRAPHQL: dict[tuple[str, str], str] = {
    (
        "bringConsultationToCoaching",
        "input.referralId",
    ): "a coaching referral of the practice service: about a worker's practice, never a case",
}


@dataclass(frozen=True)
class IdField:
    """One id-typed field of one operation: where it is (``path``/``query``/``body``) and its dotted name
    (``children[].person_id``), with the kind of record it names (or why it is not held to a case)."""

    location: str
    name: str
    kind: str | None
    not_case_scoped: str | None = None
    marked: bool = False  # the kind came from the schema's own marker (else from the table, by name)
    table_says: str | None = None  # for a marked field: what the name table would have said

    @property
    def leaf(self) -> str:
        return re.sub(r"\[\]$", "", self.name.rsplit(".", 1)[-1])

    def __str__(self) -> str:
        return f"{self.location}:{self.name}"


@dataclass(frozen=True)
class Operation:
    """A write operation of one service as its OpenAPI document (or its hidden case-scoped twin) shows it."""

    service: str
    method: str
    path: str  # as the service serves it, e.g. /v1/cases/{case_id}/statements
    fields: tuple[IdField, ...]
    content_types: tuple[str, ...] = ()
    in_schema: bool = True

    @property
    def case_form(self) -> bool:
        return is_case_form(self.path)

    @property
    def tail(self) -> str:
        """The route without its case prefix: the key the example table uses for both forms of a route."""
        return self.path[len(CASE_PREFIX) :] if self.case_form else self.path[len("/v1") :]

    def __str__(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path}"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _marker(schema: dict[str, Any], doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """The marker on a field's schema or on any branch of its anyOf/oneOf (an optional id is `X | None`)."""
    schema = _resolve(doc, schema)
    if CASE_REF in schema or NOT_CASE_SCOPED in schema:
        return schema.get(CASE_REF), schema.get(NOT_CASE_SCOPED)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            found = _marker(branch, doc)
            if found != (None, None):
                return found
    if "items" in schema:
        return _marker(schema["items"], doc)
    return None, None


def _uuid_leaves(
    doc: dict[str, Any],
    schema: dict[str, Any],
    name: str,
    marked: tuple[str | None, str | None],
    out: dict[str, tuple[str | None, str | None]],
    depth: int = 0,
) -> None:
    """Every place below `schema` that holds a uuid, by dotted name ("[]" for a list's items)."""
    if depth > 30:
        return
    own = _marker(schema, doc)
    if own != (None, None):
        marked = own
    schema = _resolve(doc, schema)
    if schema.get("format") == "uuid":
        out.setdefault(name, marked)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            _uuid_leaves(doc, branch, name, marked, out, depth + 1)
    if isinstance(schema.get("items"), dict):
        _uuid_leaves(doc, schema["items"], f"{name}[]", marked, out, depth + 1)
    for prop, sub in schema.get("properties", {}).items():
        _uuid_leaves(doc, sub, f"{name}.{prop}" if name else prop, (None, None), out, depth + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        _uuid_leaves(doc, schema["additionalProperties"], f"{name}{{}}", (None, None), out, depth + 1)


def classify(service: str, path: str, location: str, name: str, marked: tuple[str | None, str | None]) -> IdField:
    """The field's kind from its marker if the schema has one, else from the table by its name."""
    inferred = _by_name(service, path, name)
    kind, reason = marked
    if kind or reason:
        return IdField(
            location,
            name,
            kind,
            reason,
            marked=True,
            table_says=inferred.kind or (inferred.not_case_scoped and "not case-scoped"),
        )
    return IdField(location, name, inferred.kind, inferred.not_case_scoped)


def _by_name(service: str, path: str, name: str) -> IdField:
    tail = path[len(CASE_PREFIX) :] if is_case_form(path) else path[len("/v1") :]
    leaf = re.sub(r"\[\]$", "", name.rsplit(".", 1)[-1])
    reason = NOT_CASE_SCOPED_BY_OPERATION.get((service, path, leaf))
    if reason:
        return IdField("", name, None, reason)
    if leaf == "id" and "." in name:
        family = tail.strip("/").split("/")[0]
        column = re.sub(r"\[\]$", "", name.rsplit(".", 1)[0].rsplit(".", 1)[-1])
        return IdField("", name, KIND_OF_ITEM_ID.get((family, column)))
    return IdField("", name, KIND_BY_OPERATION.get((service, tail, leaf)) or KIND_BY_NAME.get(leaf))


def operations(service: str, doc: dict[str, Any]) -> list[Operation]:
    """Every write operation in one service's OpenAPI document, with its id fields."""
    found: list[Operation] = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method not in WRITE_METHODS:
                continue
            fields: list[IdField] = []
            for param in op.get("parameters", []):
                if param["in"] not in ("path", "query"):
                    continue
                leaves: dict[str, tuple[str | None, str | None]] = {}
                _uuid_leaves(doc, param.get("schema", {}), param["name"], _marker(param, doc), leaves)
                fields += [classify(service, path, param["in"], name, marked) for name, marked in leaves.items()]
            content = op.get("requestBody", {}).get("content", {})
            leaves = {}
            for media in content.values():
                _uuid_leaves(doc, media.get("schema", {}), "", (None, None), leaves)
            fields += [classify(service, path, "body", name, marked) for name, marked in leaves.items()]
            found.append(Operation(service, method, path, tuple(fields), tuple(content)))
    return found


def hidden_case_forms(service: str, app: Any, listed: list[Operation]) -> list[Operation]:
    """Routes a service serves under /v1/cases/{case_id}/… but leaves out of its schema (the plans service's
    plan routes, the form the gateway's façade reaches them by): the same operation as the listed bare route,
    plus the path's case id. Found by asking the app's router whether the case form of each bare route
    exists, so a new hidden twin is picked up without listing it."""
    known = {(op.method, op.path) for op in listed}
    hidden: list[Operation] = []
    for op in listed:
        path = CASE_PREFIX + op.path[len("/v1") :]
        if op.case_form or (op.method, path) in known or not _routable(app, op.method, path):
            continue
        hidden.append(
            Operation(
                service,
                op.method,
                path,
                (IdField("path", "case_id", "case"), *op.fields),
                op.content_types,
                in_schema=False,
            )
        )
    return hidden


def _routable(app: Any, method: str, template: str) -> bool:
    from starlette.routing import Match

    path = re.sub(r"\{[^}]+\}", "00000000-0000-7000-8000-000000000000", template)
    scope = {
        "type": "http",
        "path": path,
        "method": method.upper(),
        "root_path": "",
        "app": app,
        "headers": [],
        "query_string": b"",
    }
    return any(route.matches(scope)[0] == Match.FULL for route in app.router.routes)


# --- GraphQL -------------------------------------------------------------------------------------------

INTROSPECT_MUTATIONS = """{ __schema { mutationType { fields { name args { name type { ...T } } } }
  types { kind name inputFields { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""


def _named(type_ref: dict[str, Any], list_suffix: str = "") -> tuple[str, str]:
    """The named type under NON_NULL/LIST wrappers, and "[]" once per list."""
    while type_ref.get("ofType") is not None and type_ref["kind"] in ("NON_NULL", "LIST"):
        if type_ref["kind"] == "LIST":
            list_suffix += "[]"
        type_ref = type_ref["ofType"]
    return type_ref["name"], list_suffix


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Mutation:
    name: str
    fields: tuple[IdField, ...]  # location "arg" or "input"; names in GraphQL's camelCase


def mutations(introspection: dict[str, Any]) -> list[Mutation]:
    """Every mutation and every ID-typed argument or input field at any depth (lists included)."""
    schema = introspection["__schema"]
    inputs = {t["name"]: t["inputFields"] for t in schema["types"] if t["kind"] == "INPUT_OBJECT"}

    def walk(type_ref: dict[str, Any], name: str, location: str, out: list[IdField], depth: int = 0) -> None:
        named, suffix = _named(type_ref)
        if named == "ID":
            leaf = _snake(re.sub(r"\[\]$", "", name.rsplit(".", 1)[-1]))
            out.append(IdField(location, name + suffix, KIND_BY_NAME.get(leaf)))
        elif named in inputs and depth < 10:
            for sub in inputs[named]:
                walk(sub["type"], f"{name}{suffix}.{sub['name']}", "input", out, depth + 1)

    found = []
    for field in schema["mutationType"]["fields"]:
        out: list[IdField] = []
        for arg in field["args"]:
            walk(arg["type"], arg["name"], "arg", out)
        found.append(Mutation(field["name"], tuple(out)))
    return found
