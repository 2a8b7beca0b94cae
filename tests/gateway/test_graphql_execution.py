"""The gateway builds its GraphQL results with graphql-core's executor and a short way for plain leaves
(`sop_gateway.graphql.execution`): the answers — data, order of keys, errors with their messages and paths —
are those graphql-core's own execution gives, for the full case view and for the values the short way leaves
to it."""

from __future__ import annotations

import enum
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import strawberry
from graphql import (
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from sop_gateway.graphql.execution import GatewayExecutionContext

if TYPE_CHECKING:
    from conftest import EmbeddedSystem


def every_field(schema: GraphQLSchema, type_: GraphQLNamedType, depth: int, path: tuple[str, ...] = ()) -> str:
    """A selection of every field that needs no argument, down to `depth` (a type already on the path is not
    entered again; abstract types are asked their __typename)."""
    if is_abstract_type(type_):
        return "{ __typename }"
    assert isinstance(type_, GraphQLObjectType)
    parts = []
    for name, field in type_.fields.items():
        if any(is_non_null_type(arg.type) and arg.default_value is Undefined for arg in field.args.values()):
            continue  # a required argument
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif depth > 0 and inner.name not in path:
            parts.append(f"{name} {every_field(schema, inner, depth - 1, (*path, inner.name))}")
    return "{ " + " ".join(parts) + " }" if parts else "{ __typename }"


def ordered(body: dict[str, Any]) -> str:
    """The answer as the client reads it, keys in their order."""
    return json.dumps(body.get("data")) + json.dumps(body.get("errors"))


async def test_the_full_case_view_is_the_same_with_graphql_cores_own_execution(
    system: EmbeddedSystem, demo_case: uuid.UUID
) -> None:
    schema = system.gateway.state.graphql_schema
    assert schema.execution_context_class is GatewayExecutionContext
    core = schema._schema  # graphql-core's schema under Strawberry's
    view = core.get_type("CaseView")
    query = (
        'query($id: ID!) { caseView(caseId: $id, audience: STAFF, language: "en") '
        + every_field(core, view, 6, ("CaseView",))
        + " }"
    )
    variables = {"id": str(demo_case)}
    ours = (await system.graphql(query, variables)).json()
    assert not ours.get("errors"), ours["errors"]
    assert ours["data"]["caseView"]["worries"]["danger"], "the demo family's view has statements to compare"
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        theirs = (await system.graphql(query, variables)).json()
    finally:
        schema.execution_context_class = GatewayExecutionContext
    assert ordered(ours) == ordered(theirs)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    colour: Colour
    tags: list[str]
    maybe_tags: list[str | None] | None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [
            Thing(name="one", nickname=None, colour=Colour.RED, tags=["a", "b"], maybe_tags=["c", None]),
            Thing(name=None, nickname="x", colour=Colour.RED, tags=["a"], maybe_tags=None),  # type: ignore[arg-type]
            Thing(name="three", nickname="y", colour="green", tags=["a", None], maybe_tags=[]),  # type: ignore[arg-type,list-item]
            Thing(name="four", nickname=3, colour=Colour.RED, tags=("t",), maybe_tags=[ValueError("no")]),  # type: ignore[arg-type,list-item]
        ]


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize(
    "query",
    [
        "{ things { name nickname colour tags maybeTags } }",
        "{ things { maybeTags tags colour nickname name } }",
        "{ things { a: name b: name colour } }",
    ],
)
async def test_leaves_the_short_way_leaves_alone_are_answered_as_graphql_core_answers_them(query: str) -> None:
    """A null where the type forbids it, a value the type refuses, a null item, an exception, a tuple: the
    same data, errors, messages and paths."""
    ours = await strawberry.Schema(Query, execution_context_class=GatewayExecutionContext).execute(query)
    theirs = await strawberry.Schema(Query).execute(query)
    assert ours.errors, "the query has failing leaves"
    assert json.dumps(ours.data) == json.dumps(theirs.data)
    assert [(e.message, e.path) for e in ours.errors or []] == [(e.message, e.path) for e in theirs.errors or []]
