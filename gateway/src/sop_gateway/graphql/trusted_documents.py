"""Trusted documents: the GraphQL operations the platform's own apps send, known ahead, checked at start-up.

The web and mobile apps (and the gateway's own family view) build their operations at build time; their
build writes a manifest — Apollo's persisted-query manifest (`{"format": "apollo-persisted-query-manifest",
"operations": [{"id", "name", "type", "body"}]}`) or graphql-codegen's `{"<sha256>": "<body>"}` — that the
gateway is given (`SOP_GATEWAY_GRAPHQL_TRUSTED_DOCUMENTS`). Then:

- a request may name a document instead of sending it: `{"documentId": "sha256:<hex>"}` (GraphQL over HTTP)
  or `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}` (Apollo); an id the gateway
  does not know is HTTP 400 `PERSISTED_QUERY_NOT_FOUND`;
- every document is parsed and validated against the schema (with the gateway's own limits) when the gateway
  starts: a manifest the schema no longer answers stops the start, not a family's request;
- a trusted document is parsed once (Strawberry's parser cache then serves it) and validated at start-up;
- with `SOP_GATEWAY_GRAPHQL_TRUSTED_DOCUMENTS_REQUIRED=true`, people using the first-party apps (staff,
  family and network members) may run trusted documents only (HTTP 400 `TRUSTED_DOCUMENT_REQUIRED`
  otherwise); partner agencies' API tokens and integrations (SACWIS) may still send their own queries, within
  the same depth, alias and token limits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, parse
from graphql.validation import ASTValidationRule, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.schema.schema import validate_document

from sop_gateway.wire_json import encode_json
from sop_shared.policy import ActorType

APOLLO_MANIFEST = "apollo-persisted-query-manifest"
# The people whose apps are built with their documents; systems (partners' tokens, integrations) are not.
FIRST_PARTY = frozenset({ActorType.staff, ActorType.family, ActorType.network})
NOT_FOUND, REQUIRED = "PERSISTED_QUERY_NOT_FOUND", "TRUSTED_DOCUMENT_REQUIRED"
DOCUMENT_ID = "documentId"


def document_id(body: str) -> str:
    """A document's id: the SHA-256 of its exact text, as the manifests and clients compute it."""
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrustedDocument:
    id: str
    body: str
    document: DocumentNode
    name: str | None = None


class TrustedDocumentError(ValueError):
    """A manifest the gateway cannot trust: unreadable, an id that is not its body's hash, or a document the
    schema does not answer."""


def read_manifest(path: Path) -> dict[str, tuple[str | None, str]]:
    """id -> (name, body) from an Apollo persisted-query manifest or a `{hash: body}` map."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrustedDocumentError(f"{path}: not a readable JSON manifest ({exc})") from exc
    if isinstance(raw, dict) and raw.get("format") == APOLLO_MANIFEST:
        entries = [(op.get("id"), op.get("name"), op.get("body")) for op in raw.get("operations", [])]
    elif isinstance(raw, dict):
        entries = [(key, None, body) for key, body in raw.items()]
    else:
        raise TrustedDocumentError(f"{path}: expected an Apollo manifest or a map of hashes to documents")
    documents: dict[str, tuple[str | None, str]] = {}
    for given, name, body in entries:
        if not isinstance(body, str) or not isinstance(given, str):
            raise TrustedDocumentError(f"{path}: an operation without an id or a body")
        expected = document_id(body)
        if _normalised(given) != expected:
            raise TrustedDocumentError(f"{path}: {given} is not the SHA-256 of its document ({expected})")
        documents[expected] = (name, body)
    return documents


def _normalised(given: str) -> str:
    return given if given.startswith("sha256:") else f"sha256:{given}"


class TrustedDocuments:
    """The documents the gateway trusts, by id and by text, and whether first-party callers must use them."""

    def __init__(self, documents: Iterable[TrustedDocument] = (), *, required: bool = False) -> None:
        self.by_id = {d.id: d for d in documents}
        self.by_body = {d.body: d for d in self.by_id.values()}
        self.required = required

    @classmethod
    def load(
        cls,
        *,
        manifest: Path | None,
        own: Iterable[str],
        required: bool,
        schema: Any,
        rules: Iterable[type[ASTValidationRule]],
    ) -> TrustedDocuments:
        """The gateway's own documents and the manifest's, each parsed and validated against `schema` now (the
        manifest's with the gateway's limits, `rules`, too); any that fails stops here, naming it and why."""
        own_ids = {document_id(body) for body in own}
        sources: dict[str, tuple[str | None, str]] = {document_id(body): (None, body) for body in own}
        if manifest is not None:
            sources |= read_manifest(manifest)
        documents, problems = [], []
        for key, (name, body) in sources.items():
            limits = () if key in own_ids else tuple(rules)
            try:
                parsed = parse(body)
            except GraphQLError as exc:
                problems.append(f"{name or key}: {exc.message}")
                continue
            errors = validate_document(schema._schema, parsed, (*specified_rules, *limits))
            if errors:
                problems.append(f"{name or key}: " + "; ".join(e.message for e in errors))
                continue
            documents.append(TrustedDocument(id=key, body=body, document=parsed, name=name))
        if problems:
            raise TrustedDocumentError("trusted documents the schema does not answer: " + " | ".join(problems))
        return cls(documents, required=required)

    def named_in(self, extensions: Mapping[str, Any] | None) -> TrustedDocument | None:
        """The document a request names (`documentId`, which the HTTP layer moves into the extensions, or
        Apollo's `persistedQuery`), or None when it names none. An id not known here is a GraphQLError
        (`PERSISTED_QUERY_NOT_FOUND`)."""
        persisted = (extensions or {}).get("persistedQuery")
        given = (extensions or {}).get(DOCUMENT_ID) or (
            persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        )
        if given is None:
            return None
        trusted = self.by_id.get(_normalised(str(given)))
        if trusted is None:
            raise GraphQLError("No trusted document has this id.", extensions={"code": NOT_FOUND})
        return trusted

    def required_for(self, actor_type: ActorType | None) -> bool:
        return self.required and actor_type in FIRST_PARTY


class TrustedDocumentsExtension(SchemaExtension):
    """Runs the document a request names (or sends) when it is trusted; refuses any other document from a
    first-party caller when trusted documents are required."""

    def __init__(self, trusted: Callable[[], TrustedDocuments]) -> None:
        self.trusted = trusted

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        trusted = self.trusted()
        try:
            known = trusted.named_in(context.operation_extensions)
            if known is None:
                known = trusted.by_body.get(context.query or "")
            elif context.query and context.query != known.body:
                raise GraphQLError("The query is not the document its id names.", extensions={"code": NOT_FOUND})
            if known is None and trusted.required_for(_actor_type(context.context)):
                raise GraphQLError(
                    "Send one of the app's trusted documents (documentId), not a document of your own.",
                    extensions={"code": REQUIRED},
                )
        except GraphQLError:
            response = getattr(context.context, "response", None)
            if response is not None:
                response.status_code = 400
            raise
        if known is not None:
            context.query = known.body
            context.graphql_document = known.document
        yield


def _actor_type(context: Any) -> ActorType | None:
    principal = getattr(context, "principal", None)
    return getattr(principal, "actor_type", None)


class TrustedDocumentRouter(GraphQLRouter[Any, None]):
    """Strawberry's router, reading GraphQL over HTTP's `documentId` too (into the operation's extensions,
    where `TrustedDocumentsExtension` resolves it): a request may name its document instead of sending it."""

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and data.query is None:
            raw = (
                self.parse_query_params(request.query_params)
                if request.method == "GET"
                else self.parse_json(await request.get_body())
            )
            given = raw.get(DOCUMENT_ID) if isinstance(raw, dict) else None
            if isinstance(given, str):
                data.extensions = {**(data.extensions or {}), DOCUMENT_ID: given}
        return data

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is the standard library's: a 400, as before

    def encode_json(self, data: object) -> bytes:
        return encode_json(data)
