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
from strawberry.extensions import ParserCache
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from sop_gateway.graphql.execution import FROM_PATH, GatewayExecutionContext

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


class Shade(enum.Enum):
    """Not the GraphQL enum's Python class, though its member has the same name and value."""

    RED = "red"


@strawberry.type
class Thing:
    name: str
    nickname: str | None
    colour: Colour
    tags: list[str]
    maybe_tags: list[str | None] | None
    count: int | None = None
    counts: list[int] | None = None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [
            Thing(name="one", nickname=None, colour=Colour.RED, tags=["a", "b"], maybe_tags=["c", None], count=7),
            Thing(name=None, nickname="x", colour=Colour.RED, tags=["a"], maybe_tags=None, count=True),  # type: ignore[arg-type]
            Thing(name="three", nickname="y", colour="green", tags=["a", None], maybe_tags=[], count=2**31),  # type: ignore[arg-type,list-item]
            Thing(name="four", nickname=3, colour=Colour.RED, tags=("t",), maybe_tags=[ValueError("no")], count=3.0),  # type: ignore[arg-type,list-item]
            Thing(name="five", nickname=None, colour=Shade.RED, tags=[], maybe_tags=None, count=-(2**31)),  # type: ignore[arg-type]
            Thing(
                name="six", nickname=None, colour="RED", tags=[], maybe_tags=None, count="8", counts=[1, -(2**31) - 1]
            ),  # type: ignore[arg-type,list-item]
            Thing(
                name="seven", nickname=None, colour=Colour.RED, tags=[], maybe_tags=None, count=3.5, counts=[2, False]
            ),  # type: ignore[arg-type,list-item]
        ]


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize(
    "query",
    [
        "{ things { name nickname colour tags maybeTags } }",
        "{ things { maybeTags tags colour nickname name } }",
        "{ things { a: name b: name colour } }",
        "{ things { count counts colour } }",
    ],
)
async def test_leaves_the_short_way_leaves_alone_are_answered_as_graphql_core_answers_them(query: str) -> None:
    """A null where the type forbids it, a value the type refuses, a null item, an exception, a tuple, Ints
    out of 32 bits, bools, floats and strings for an Int, another enum's member: the same data, errors,
    messages and paths."""
    ours = await strawberry.Schema(Query, execution_context_class=GatewayExecutionContext).execute(query)
    theirs = await strawberry.Schema(Query).execute(query)
    assert ours.errors, "the query has failing leaves"
    assert json.dumps(ours.data) == json.dumps(theirs.data)
    assert [(e.message, e.path) for e in ours.errors or []] == [(e.message, e.path) for e in theirs.errors or []]


# --- objects and lists of objects the short way ---


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Pet(Named):
    legs: int

    @strawberry.field
    async def sound(self) -> str:
        if self.legs < 0:
            raise ValueError("no sound")
        return "woof"


@strawberry.type
class Collar:
    colour: Colour
    tags: list[str]


@strawberry.type
class Owner:
    name: str
    collar: Collar | None
    pet: Pet | None
    pets: list[Pet]
    maybe_pets: list[Pet | None] | None
    best_pet: Pet


class Impostor:
    """Looks like a Pet, is not one: `Pet.is_type_of` (it implements an interface) refuses it."""

    name, legs = "rex", 4


class Later:
    """An awaitable attribute (its coroutine made only when awaited)."""

    def __await__(self) -> Any:
        async def pet() -> Pet:
            return Pet(name="later", legs=2)

        return pet().__await__()


class AwaitablePet(Pet):
    """A Pet (its class has Pet's Strawberry definition) that is also awaitable: the short way must still ask
    each such object, though it asks a class of plain typed objects only once."""

    def __await__(self) -> Any:
        return Later().__await__()


class PetError(Pet, Exception):
    """A Pet that is also an exception."""


def odd(**fields: Any) -> Any:
    """A typed object given values of the wrong kind, on purpose."""
    if "legs" in fields:
        return Pet(**fields)
    return Collar(**fields) if "colour" in fields else Owner(**fields)


def owners() -> list[Owner]:
    collar = Collar(colour=Colour.RED, tags=["a"])
    dog, spider = Pet(name="dog", legs=4), Pet(name="spider", legs=8)
    mute = Pet(name="mute", legs=-1)  # its `sound` fails
    return [
        Owner(name="plain", collar=collar, pet=dog, pets=[dog, spider], maybe_pets=[dog, None], best_pet=dog),
        odd(name="tuple", collar=None, pet=None, pets=(spider,), maybe_pets=None, best_pet=spider),
        odd(name="null best", collar=collar, pet=dog, pets=[], maybe_pets=[], best_pet=None),
        odd(name="null item", collar=collar, pet=dog, pets=[dog, None], maybe_pets=[None], best_pet=dog),
        odd(
            name="error",
            collar=ValueError("no collar"),
            pet=dog,
            pets=[ValueError("x")],
            maybe_pets=[ValueError("y")],
            best_pet=dog,
        ),
        odd(
            name="impostor",
            collar=collar,
            pet=Impostor(),
            pets=[dog, Impostor()],
            maybe_pets=[Impostor()],
            best_pet=dog,
        ),
        odd(
            name="bad leaf",
            collar=odd(colour="green", tags=[None]),
            pet=odd(name=None, legs=1),
            pets=[odd(name="ok", legs=None)],
            maybe_pets=[odd(name=None, legs=1)],
            best_pet=odd(name="b", legs="x"),
        ),
        odd(name="async", collar=collar, pet=Later(), pets=[dog, mute], maybe_pets=[mute], best_pet=mute),
        odd(name="iterable", collar=collar, pet=dog, pets=iter([dog]), maybe_pets="not a list", best_pet=dog),
    ]


PET_LISTS = (
    "plain",
    "empty",
    "null item",
    "error item",
    "impostor",
    "awaitable item",
    "failing below",
    "bad leaf",
    "awaitable pet",
    "pet error",
)


def pets_of(kind: str) -> list[Any]:
    """Lists of pets as a resolver may return them, each with something the short way must leave alone."""
    dog, mute = Pet(name="dog", legs=4), Pet(name="mute", legs=-1)
    return {
        "plain": [dog, Pet(name="spider", legs=8)],
        "empty": [],
        "null item": [dog, None],
        "error item": [dog, ValueError("no pet")],
        "impostor": [dog, Impostor()],
        "awaitable item": [Later(), dog],
        "failing below": [dog, mute],
        "bad leaf": [odd(name=None, legs=1), odd(name="b", legs="x")],
        "awaitable pet": [dog, AwaitablePet(name="cat", legs=4)],
        "pet error": [dog, PetError(name="ghost", legs=0)],
    }[kind]


@strawberry.type
class OwnersQuery:
    @strawberry.field
    def owners(self) -> list[Owner]:
        return owners()

    @strawberry.field
    def pets(self, kind: str) -> list[Pet]:
        return pets_of(kind)

    @strawberry.field
    def maybe_pets(self, kind: str) -> list[Pet | None] | None:
        return pets_of(kind)

    @strawberry.field
    def pet_tuple(self) -> list[Pet]:
        return tuple(pets_of("plain"))  # type: ignore[return-value]

    @strawberry.field
    def pet_iterator(self) -> list[Pet]:
        return iter(pets_of("plain"))  # type: ignore[return-value]

    @strawberry.field
    def strict_owners(self) -> list[Owner]:
        return [o for o in owners() if o.name in {"plain", "tuple", "async"}]


OWNER_FIELDS = """name collar { colour tags } pet { name legs sound } pets { name legs } maybePets { name sound }
  bestPet { name legs sound }"""


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ owners { " + OWNER_FIELDS + " } }", {}),
        ("{ owners { bestPet { sound name } pets { sound } name } }", {}),
        ("{ strictOwners { " + OWNER_FIELDS + " } }", {}),
        ("{ owners { name ...P pets { ... on Pet { name } legs } } } fragment P on Owner { pets { legs name } }", {}),
        ("{ owners { a: pet { name } b: pet { legs } pet { name } pet { legs } } }", {}),
        ("{ owners { pet { __typename name } pets { __typename ... on Named { name } } } }", {}),
        ("query($x: Boolean!) { owners { pets { name @include(if: $x) legs } } }", {"x": True}),
        ("query($x: Boolean!) { owners { pets { name @include(if: $x) legs } } }", {"x": False}),
        ("query($x: Boolean!) { owners { pets @skip(if: $x) { name } collar { tags } } }", {"x": False}),
        ("query($x: Boolean!) { owners { pets @skip(if: $x) { name } collar { tags } } }", {"x": True}),
        ("{ owners { pets @include(if: true) { name } pet @skip(if: true) { name } } }", {}),
        *(
            (f'{{ p: {field}(kind: "{kind}") {{ name legs sound }} q: {field}(kind: "{kind}") {{ legs }} }}', {})
            for field in ("pets", "maybePets")
            for kind in PET_LISTS
        ),
        ("{ petTuple { name } petIterator { name legs } }", {}),
        ('query($x: Boolean!) { pets(kind: "plain") { name @include(if: $x) legs } }', {"x": False}),
    ],
)
async def test_objects_and_lists_of_objects_are_answered_as_graphql_core_answers_them(
    query: str, variables: dict[str, Any]
) -> None:
    """Null where the type forbids it (at the field, at an item, in a leaf below), an exception, an object its
    type refuses, an awaitable, a tuple, another iterable, errors from async resolvers below, fragments, aliases,
    merged fields, directives: the same data, errors, messages, locations and paths — the second time too, when
    the plans of the document are reused."""
    ours_schema = strawberry.Schema(OwnersQuery, execution_context_class=GatewayExecutionContext)
    theirs = await strawberry.Schema(OwnersQuery).execute(query, variables)
    for _ in range(2):
        ours = await ours_schema.execute(query, variables)
        assert json.dumps(ours.data) == json.dumps(theirs.data)
        assert [e.formatted for e in ours.errors or []] == [e.formatted for e in theirs.errors or []]


def fields_the_long_way(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each field graphql-core executes the long way (`Type.field`), in order, while the test runs."""
    long_way: list[str] = []
    execute_field = GatewayExecutionContext.execute_field

    def recording(self: GatewayExecutionContext, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        long_way.append(f"{parent_type.name}.{details[0].node.name.value}")
        return execute_field(self, parent_type, source, details, *rest)

    monkeypatch.setattr(GatewayExecutionContext, "execute_field", recording)
    return long_way


async def test_plain_objects_and_lists_of_them_are_completed_without_graphql_cores_per_field_machinery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plain owner's fields (objects, lists of objects, their leaves) are read the short way; only the
    resolvers (`owners`, `sound`) take the long way."""
    long_way = fields_the_long_way(monkeypatch)
    schema = strawberry.Schema(OwnersQuery, execution_context_class=GatewayExecutionContext)
    query = "{ strictOwners { name collar { colour tags } pet { name legs } pets { name legs } maybePets { name } } }"
    for _ in range(2):
        long_way.clear()
        result = await schema.execute(query)
        assert not result.errors
        assert long_way == ["OwnersQuery.strictOwners", "Owner.pet"]  # the async owner's awaitable pet


async def test_lists_of_objects_a_resolver_returns_are_completed_the_short_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The items of a list a resolver returns (`pets(kind:)`, as `danger(first:)` returns statements) have their
    plain fields read the short way: only the resolvers take the long way, not each item's fields."""
    long_way = fields_the_long_way(monkeypatch)
    schema = strawberry.Schema(OwnersQuery, execution_context_class=GatewayExecutionContext)
    for _ in range(2):
        long_way.clear()
        result = await schema.execute('{ pets(kind: "plain") { name legs } petTuple { name } }')
        assert not result.errors
        assert long_way == ["OwnersQuery.pets", "OwnersQuery.petTuple"]


# --- fields computed from their path (FROM_PATH), as a record's global id is ---


def _where(source: Any, context: Any, path: Any) -> str:
    if source.name == "broken":
        raise ValueError("no place for it")
    return f"{source.name} at {'/'.join(str(key) for key in path.as_list())}"


@strawberry.type
class Placed:
    name: str

    @strawberry.field(metadata={FROM_PATH: _where})
    def where(self, info: strawberry.Info) -> str:
        return _where(self, info.context, info.path)

    @strawberry.field(metadata={FROM_PATH: lambda source, context, path: None})
    def nowhere(self, info: strawberry.Info) -> str:
        return None  # type: ignore[return-value]  # null where the type forbids it


@strawberry.type
class PlacedQuery:
    @strawberry.field
    def places(self) -> list[Placed]:
        return [Placed(name="here"), Placed(name="broken"), Placed(name="there")]


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize(
    "query",
    ["{ places { name where } }", "{ a: places { w: where where } }", "{ places { name nowhere } }"],
)
async def test_fields_computed_from_their_path_are_answered_as_graphql_core_answers_them(query: str) -> None:
    ours_schema = strawberry.Schema(PlacedQuery, execution_context_class=GatewayExecutionContext)
    theirs = await strawberry.Schema(PlacedQuery).execute(query)
    for _ in range(2):
        ours = await ours_schema.execute(query)
        assert json.dumps(ours.data) == json.dumps(theirs.data)
        assert [e.formatted for e in ours.errors or []] == [e.formatted for e in theirs.errors or []]


async def test_the_case_views_global_ids_are_read_without_their_resolvers(
    system: EmbeddedSystem, demo_case: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every record's `id` in the full view is computed from its path (`FROM_PATH`), not by the long way."""
    long_way = fields_the_long_way(monkeypatch)
    core = system.gateway.state.graphql_schema._schema
    query = (
        'query($id: ID!) { caseView(caseId: $id, audience: STAFF, language: "en") '
        + every_field(core, core.get_type("CaseView"), 6, ("CaseView",))
        + " }"
    )
    body = (await system.graphql(query, {"id": str(demo_case)})).json()
    assert not body.get("errors"), body["errors"]
    assert body["data"]["caseView"]["worries"]["danger"][0]["id"]
    assert "CaseView.worries" in long_way, "the long way is recorded"
    assert [name for name in long_way if name.endswith(".id")] == []


class Mood(enum.Enum):
    CALM = "calm"
    NONE = None  # a member whose value is None


class Tide(enum.Enum):
    HIGH = "high"

    @classmethod
    def _missing_(cls, value: object) -> Tide | None:
        return cls.HIGH if value is None else None


@pytest.mark.parametrize("enum_type", [Colour, Mood, Tide])
@pytest.mark.parametrize("value", ["red", "calm", "high", "green", None, 1, Colour.RED])
def test_a_services_enum_value_is_known_as_the_enum_itself_knows_it(enum_type: Any, value: Any) -> None:
    """`types.known` (a service's value as the gateway's enum, None for one it does not know) looks values up
    in a table; the answers are the enum's own, `_missing_` and a member valued None included."""
    from sop_gateway.graphql.types import known

    try:
        expected = enum_type(value)
    except ValueError:
        expected = None
    assert known(enum_type, value) is expected


# --- an object selected alike twice in one document (`danger` and `dangerPage { nodes }`) ---

KENNEL = [Pet(name="dog", legs=4), Pet(name="spider", legs=8)]
ODD_KENNEL = [Pet(name="dog", legs=4), odd(name=None, legs=1), Pet(name="mute", legs=-1)]
KEEPERS = [
    Owner(name="plain", collar=None, pet=KENNEL[0], pets=KENNEL, maybe_pets=None, best_pet=KENNEL[1]),
    odd(name="no collar", collar=ValueError("no collar"), pet=None, pets=KENNEL, maybe_pets=None, best_pet=KENNEL[0]),
]


def _kennel_root(source: Any, context: Any, path: Any) -> str:
    root = path
    while root.prev is not None:
        root = root.prev
    return f"{source.name} under {root.key}"


@strawberry.type
class Tag:
    """A record whose `label` reads the root of its path, as a global id does (`FROM_PATH`)."""

    name: str

    @strawberry.field(metadata={FROM_PATH: _kennel_root})
    def label(self, info: strawberry.Info) -> str:
        return _kennel_root(self, info.context, info.path)


TAGS = [Tag(name="red"), Tag(name="blue")]


@strawberry.type
class Kennel:
    odd: bool = False

    @strawberry.field
    def pets(self) -> list[Pet]:
        return ODD_KENNEL if self.odd else KENNEL

    @strawberry.field
    def first_pets(self, first: int = 10) -> list[Pet]:
        return (ODD_KENNEL if self.odd else KENNEL)[:first]

    @strawberry.field
    def keepers(self) -> list[Owner]:
        return KEEPERS

    @strawberry.field
    def keepers_again(self) -> list[Owner]:
        return KEEPERS

    @strawberry.field
    def tags(self) -> list[Tag]:
        return TAGS

    @strawberry.field
    def tags_again(self) -> list[Tag]:
        return TAGS


@strawberry.type
class KennelQuery:
    @strawberry.field
    def kennel(self) -> Kennel:
        return Kennel()

    @strawberry.field
    def odd_kennel(self) -> Kennel:
        return Kennel(odd=True)

    @strawberry.field
    def root_tags(self) -> list[Tag]:
        return TAGS

    @strawberry.field
    def root_tags_again(self) -> list[Tag]:
        return TAGS


def kennel_schema() -> strawberry.Schema:
    """With the gateway's executor, and its parser cache: each request of a query text is the same document, so
    what is worked out per document is reused."""
    return strawberry.Schema(
        KennelQuery, execution_context_class=GatewayExecutionContext, extensions=[lambda: ParserCache(maxsize=16)]
    )


@pytest.mark.sqlite_smoke
@pytest.mark.parametrize(
    "query",
    [
        "{ kennel { pets { name legs } firstPets { name legs } } }",
        "{ kennel { pets { name legs } firstPets(first: 1) { name legs } } }",
        "{ kennel { pets { name } firstPets { legs } } }",
        "{ kennel { pets { name sound } firstPets { name sound } } }",
        "{ oddKennel { pets { name legs } firstPets { name legs } } }",
        "{ oddKennel { pets { name sound } firstPets { name sound } } }",
        "{ kennel { tags { name label } tagsAgain { name label } } other: kennel { tags { name label } } }",
        "{ rootTags { name label } rootTagsAgain { name label } }",
        "{ kennel { keepers { ...K } keepersAgain { ...K } } } fragment K on Owner { collar { tags } pet { legs } }",
        "{ kennel { ...P firstPets { ...P } } } fragment P on Kennel { pets { name } }",
    ],
)
async def test_an_object_selected_alike_twice_is_answered_as_graphql_core_answers_it(query: str) -> None:
    """The same objects under two selections of the same shape (as `danger` and `dangerPage { nodes }` select
    a statement): the same data, errors (each at its own path), messages and locations — the second time
    too, when the document's selections are known to be alike; with a field that fails, one that takes the
    long way, a field read from the path's root under two roots, and root lists."""
    ours_schema = kennel_schema()
    theirs = await strawberry.Schema(KennelQuery).execute(query)
    for _ in range(3):
        ours = await ours_schema.execute(query)
        assert json.dumps(ours.data) == json.dumps(theirs.data)
        assert [e.formatted for e in ours.errors or []] == [e.formatted for e in theirs.errors or []]


async def test_an_object_selected_alike_twice_is_completed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the document's two selections are known to be alike (from its second request on), each pet is
    completed once and its fields answered under both; a selection of another shape completes it again."""
    completed: list[str] = []
    execute_plan = GatewayExecutionContext._execute_plan

    def recording(self: GatewayExecutionContext, parent_type: Any, source: Any, *rest: Any) -> Any:
        if parent_type.name == "Pet":
            completed.append(source.name)
        return execute_plan(self, parent_type, source, *rest)

    monkeypatch.setattr(GatewayExecutionContext, "_execute_plan", recording)
    schema = kennel_schema()
    alike = "{ kennel { pets { name legs } firstPets { name legs } } }"
    answers = []
    for _ in range(3):
        completed.clear()
        result = await schema.execute(alike)
        assert not result.errors
        answers.append(result.data)
    assert completed == ["dog", "spider"]
    assert answers[1] == answers[2] == answers[0]
    for _ in range(2):
        completed.clear()
        assert not (await schema.execute("{ kennel { pets { name legs } firstPets { legs name } } }")).errors
        assert completed == ["dog", "spider", "dog", "spider"]


@pytest.mark.parametrize("enum_type", [Colour, Mood, Tide])
@pytest.mark.parametrize("value", ["red", "calm", "high", "green", None, 1, Colour.RED, ["red"]])
def test_a_services_enum_value_is_the_member_the_enum_itself_gives(enum_type: Any, value: Any) -> None:
    """`types.member` (the typed objects' `Enum(value)`, looked up in a table) answers as the enum does, and
    refuses what it refuses with the same error."""
    from sop_gateway.graphql.types import member

    try:
        expected: Any = enum_type(value)
    except (ValueError, TypeError) as error:
        expected = (type(error), str(error))
    try:
        answered: Any = member(enum_type, value)
    except (ValueError, TypeError) as error:
        answered = (type(error), str(error))
    assert answered == expected
    assert not isinstance(expected, enum.Enum) or answered is expected
