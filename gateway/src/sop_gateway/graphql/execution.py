"""How the gateway's GraphQL results are built: graphql-core's executor, with a short way for plain fields.

A full `caseView` is some 4,400 fields in 1,100 objects, most of them a scalar, an enum or a nested object read
straight off a typed object (a Strawberry field with no resolver). graphql-core resolves each one the long way:
a response path, a resolve info (Strawberry's, with the operation's context), the resolver chain, awaitable
checks, then `complete_value` unwrapping non-null and list and dispatching on the type, and for each object
`complete_object_value`, the memo of its collected sub-fields and `execute_fields` again. That per-field and
per-object machinery was most of the gateway's CPU per view (issue 16).

The short way reads such a field with `getattr`, and:
- a leaf (or a list of leaves) it coerces with the type's own `coerce_output_value` (an enum member through a
  table made once from that same method), exactly what the long way ends in;
- an object (or a list of objects) of an object type it completes by executing the object's collected sub-fields
  straight away — the plan of each selection (each response key with its field's reader) made once per request
  and selection, the type's `is_type_of` asked as the long way asks it — with the long way's error handling:
  the same `handle_field_error` at the same paths, awaitable results awaited the same way;
- a list of objects that a resolver returned (the statements of `danger(first:)`, a plan's check-ins) it
  completes the same way, each item's plain fields read the short way (`complete_list_value`);
- whether an object may be an exception or awaitable it asks once per class, for a plain Strawberry type
  (`_is_plain_class`), instead of once per object;
- a leaf whose resolver says how its value follows from the object, the context and the response path alone
  (`FROM_PATH` in the Strawberry field's metadata: a record's global id names the view of its root field) it
  computes so, without the resolver machinery (resolve info, argument conversion, field extensions);
- an object in a list that this request has already completed under a selection of the same shape below the
  same root field (`danger` and `dangerPage { nodes }` select a statement alike), wholly the short way and
  without an error, it answers with those fields again (`_complete_items`).

Anything else takes the long way: a field with a resolver, arguments or field extensions, an abstract type, a
field node with directives (`@stream`), a selection with `@defer`, any middleware (a schema extension that wraps
each resolution), and every value the short way is not sure of (null where the type forbids it, a value the type
refuses, an exception, an awaitable, something other than a list or tuple for a list, an object its type does not
recognise) — so errors, their messages and their paths are graphql-core's own.
`tests/gateway/test_graphql_execution.py` compares the two on the full view and on values of each such kind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Node,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    is_leaf_type,
    print_ast,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from graphql.pyutils import is_awaitable as default_is_awaitable
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_id,
    serialize_int,
    serialize_string,
)
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from sop_gateway.graphql.per_document import per_node

# A leaf read the short way: the value, or SLOW when the long way must decide.
SLOW: Any = object()
Reader = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ObjectField:
    """A plain field whose value is an object (`many`: a list of objects) of one object type."""

    field_def: GraphQLField
    read: Reader
    object_type: GraphQLObjectType
    required: bool  # the field's type is non-null
    many: bool
    item_type: GraphQLOutputType  # a list's item type (non-null or not); the field's own type otherwise
    item_required: bool


@dataclass(frozen=True, slots=True)
class PathField:
    """A field whose resolver needs only the object, the request's context and the field's response path (a
    record's global id names the view of its root field): `compute(source, context, path)`, then the leaf's
    coercion (`leaf`, given the computed value)."""

    compute: Callable[[Any, Any, Path], Any]
    leaf: Reader


@dataclass(frozen=True, slots=True)
class LeafField:
    """A plain field whose value is a leaf: the attribute it is read from, the Python type of the values its
    type's coercion answers with themselves (`str` for String and ID, `bool` for Boolean), and the coercion of
    any other value (`finish`: SLOW when the long way must decide). The executor reads it in its own loop."""

    attribute: str
    itself: type
    finish: Reader


FieldReader = Reader | ObjectField | PathField | LeafField

# A Strawberry field's `metadata` key: its value computed from (source, context, path) alone, exactly as the
# field's resolver computes it, so the short way may read the field without graphql-core's resolver machinery.
# Of the path it may read only the root (the root field's key, and the item's index under a root list): an
# object completed twice under one root is answered once (`_complete_items`).
FROM_PATH = "sop_gateway.execution.from_path"


def _plain_attribute(field_def: GraphQLField) -> str | None:
    """The attribute a field is read from, when graphql-core would only read it: a Strawberry field without
    resolver, arguments or field extensions, read with the plain `getattr` default."""
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False) or field_def.args:
        return None
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field.base_resolver is not None or field.extensions:
        return None
    if field.default_resolver is not getattr or not field.python_name:
        return None
    return field.python_name


def _field_reader(field_def: GraphQLField) -> FieldReader | None:
    """How to read this field the short way, or None: a plain field whose type is a leaf, an object type, or a
    list of either; or a leaf computed from its path (`FROM_PATH`)."""
    name = _plain_attribute(field_def)
    if name is None:
        return _from_path(field_def)
    read = attrgetter(name)
    leaf = _leaf_value(field_def.type)
    if leaf is not None:
        return LeafField(name, *leaf)
    return _leaf_list(field_def.type, read) or _objects(field_def, read)


def _from_path(field_def: GraphQLField) -> PathField | None:
    """A leaf field whose resolver says (`FROM_PATH` in its metadata) how its value follows from the object, the
    context and the path: no arguments, no field extensions."""
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field.extensions or field_def.args:
        return None
    metadata: dict[str, Any] = dict(field.metadata or {})
    compute = metadata.get(FROM_PATH)
    if compute is None:
        return None
    leaf = _leaf_value(field_def.type)
    return PathField(compute, leaf[1]) if leaf is not None else None


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


def _coercion(type_: Any) -> Callable[[Any], Any]:
    """The type's `coerce_output_value`; for a Strawberry enum, its answer for each member of the Python enum
    looked up in a table made with that same method (it scans the values for each member it is given)."""
    coerce: Callable[[Any], Any] = type_.coerce_output_value
    if coerce is serialize_int:
        return _int
    if not isinstance(type_, CustomGraphQLEnumType):
        return coerce
    members = type_.wrapped_cls
    # By the member's id: an Enum member hashes by a Python-level `__hash__`. The members live as long as their
    # class, which the schema keeps, so their ids are not reused.
    names: dict[int, Any] = {}
    member: Enum
    for member in members:
        with contextlib.suppress(Exception):  # a member the GraphQL enum lacks: coerced (and refused) each time
            names[id(member)] = coerce(member)

    def enum_name(value: Any) -> Any:
        if type(value) is members:
            name = names.get(id(value), Undefined)
            if name is not Undefined:
                return name
        return coerce(value)

    return enum_name


def _int(value: Any) -> Any:
    """graphql-core's `serialize_int`, answering an `int` within 32 bits (not a bool) as itself at once."""
    if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
        return value
    return serialize_int(value)


class _Never:
    """No value is of this type (`_leaf`'s shortcut for a leaf type without one)."""


# graphql-core's output coercions that answer a value of exactly this Python type with the value itself.
_ITSELF: dict[Callable[[Any], Any], type] = {serialize_string: str, serialize_id: str, serialize_boolean: bool}


def _leaf_value(type_: GraphQLOutputType) -> tuple[type, Reader] | None:
    """For a leaf type: the Python type its coercion answers with itself, and the coercion of a value (SLOW
    when the long way must decide: null where the type forbids it, an exception, a value the type refuses)."""
    inner, required = _unwrap(type_)
    if not is_leaf_type(inner):
        return None
    coerce = _coercion(inner)
    itself = _ITSELF.get(coerce, _Never)

    def finish(value: Any) -> Any:
        if type(value) is itself:  # a str for String or ID, a bool for Boolean: coerced to itself
            return value
        if value is None:
            return SLOW if required else None
        if isinstance(value, Exception):
            return SLOW
        coerced = coerce(value)
        return SLOW if coerced is Undefined or coerced is None else coerced

    return itself, finish


def _leaf_list(type_: GraphQLOutputType, read: Reader) -> Reader | None:
    outer, required = _unwrap(type_)
    if not isinstance(outer, GraphQLList):
        return None
    item_type, item_required = _unwrap(outer.of_type)
    if not is_leaf_type(item_type):
        return None
    coerce = _coercion(item_type)
    itself = _ITSELF.get(coerce, _Never)

    def leaf_list(source: Any) -> Any:
        value = read(source)
        if value is None:
            return SLOW if required else None
        if not isinstance(value, list | tuple):  # other iterables (and strings, and errors): the long way
            return SLOW
        items: list[Any] = []
        for item in value:
            if type(item) is itself:
                items.append(item)
                continue
            if item is None:
                if item_required:
                    return SLOW
                items.append(None)
                continue
            if isinstance(item, Exception):
                return SLOW
            coerced = coerce(item)
            if coerced is Undefined or coerced is None:
                return SLOW
            items.append(coerced)
        return items

    return leaf_list


def _objects(field_def: GraphQLField, read: Reader) -> ObjectField | None:
    outer, required = _unwrap(field_def.type)
    if isinstance(outer, GraphQLObjectType):
        return ObjectField(field_def, read, outer, required, False, field_def.type, required)
    if not isinstance(outer, GraphQLList):
        return None
    item_type, item_required = _unwrap(outer.of_type)
    if not isinstance(item_type, GraphQLObjectType):
        return None
    return ObjectField(field_def, read, item_type, required, True, outer.of_type, item_required)


def _is_plain_class(cls: type) -> bool:
    """Whether no instance of this class can be an exception or awaitable, so the short way need not ask each
    object (three checks each, for some 1,100 objects per full view): a Strawberry type that is no exception,
    coroutine or generator, has no `__await__`, and answers attributes and its `__class__` as any object does
    (graphql-core's `is_awaitable` and `isinstance` could otherwise be told something else per instance)."""
    return (
        getattr(cls, "__strawberry_definition__", None) is not None
        and not issubclass(cls, BaseException | CoroutineType | GeneratorType)
        and not hasattr(cls, "__await__")
        and not hasattr(cls, "__getattr__")
        and cls.__getattribute__ is object.__getattribute__
        and all("__class__" not in vars(klass) for klass in cls.__mro__[:-1])
    )


# graphql-core's and Strawberry's own `is_awaitable`: the ones `_is_plain_class` answers for
_KNOWN_IS_AWAITABLE = (optimized_is_awaitable, default_is_awaitable)


class Step:
    """One response key of a selection: its field nodes, how the short way reads it (at most one of `leaf`,
    `objects`, `from_path`; none: the long way) and, for an object field, the object's own selection once it
    has been collected."""

    __slots__ = (
        "attribute",
        "field_details_list",
        "finish",
        "from_path",
        "itself",
        "leaf",
        "objects",
        "response_name",
        "selection",
    )

    def __init__(self, response_name: str, field_details_list: FieldDetailsList, reader: FieldReader | None) -> None:
        self.response_name = response_name
        self.field_details_list = field_details_list
        self.objects = reader if isinstance(reader, ObjectField) else None
        self.from_path = reader if isinstance(reader, PathField) else None
        # A leaf read from an attribute: `attribute`, `itself` and `finish` (`LeafField`); a list of leaves: `leaf`
        self.attribute: str | None = None
        self.itself: type = _Never
        self.finish: Reader = _slow
        if isinstance(reader, LeafField):
            self.attribute, self.itself, self.finish = reader.attribute, reader.itself, reader.finish
        self.leaf: Reader | None = None
        if reader is not None and not isinstance(reader, ObjectField | PathField | LeafField):
            self.leaf = reader
        self.selection: Selection | None = None


def _slow(value: Any) -> Any:
    return SLOW


@dataclass(slots=True)
class Selection:
    """The sub-fields of some field nodes on one object type, as graphql-core collects them, and their plan.

    `shape`: the object type and the printed sub-selections, for a selection collected once per document (None
    for one collected per request); `repeated`: whether another selection of the document has the same shape
    (`danger` and `dangerPage { nodes }` select a statement alike), so an object completed under one may be
    answered under the other without being completed again (`GatewayExecutionContext._complete_items`)."""

    collected: CollectedFields
    plan: list[Step]
    shape: Hashable | None = None
    repeated: bool = False


def _plan(readers: dict[str, FieldReader | None], grouped_field_set: GroupedFieldSet) -> list[Step]:
    plan = []
    for response_name, field_details_list in grouped_field_set.items():
        reader = readers.get(field_details_list[0].node.name.value)
        if isinstance(reader, ObjectField) and any(details.node.directives for details in field_details_list):
            reader = None  # `@stream`, or any other directive on the field itself: the long way decides
        plan.append(Step(response_name, field_details_list, reader))
    return plan


def _collected_from_document_alone(operation: OperationDefinitionNode, fragments: Iterable[Node]) -> bool:
    """Whether collecting the document's selections depends on nothing but the document: no directive reads a
    variable (`@include(if: $x)`), no `@defer` or `@stream`, no fragment arguments."""
    for node in _nodes_under(operation, *fragments):
        if isinstance(node, DirectiveNode):
            if node.name.value in {"defer", "stream"} or any(
                isinstance(inner, VariableNode) for inner in _nodes_under(node)
            ):
                return False
        elif isinstance(node, FragmentDefinitionNode) and getattr(node, "variable_definitions", None):
            return False
        elif isinstance(node, FragmentSpreadNode) and getattr(node, "arguments", None):
            return False
    return True


def _nodes_under(*roots: Node) -> Iterator[Node]:
    """Each node of these syntax trees, the roots included (in no particular order)."""
    stack: list[Node] = list(roots)
    while stack:
        node = stack.pop()
        yield node
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node):
                stack.append(value)
            elif isinstance(value, list | tuple):
                stack.extend(item for item in value if isinstance(item, Node))


def _root_of(path: Path) -> tuple[str | int, str | int | None]:
    """The key of the root field a path is under, and the item's index under a root field that is a list."""
    root, below = path, None
    while root.prev is not None:
        root, below = root.prev, root
    return root.key, below.key if below is not None and isinstance(below.key, int) else None


class GatewayExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, each plain field read the short way (module docstring)."""

    # Each object type's fields, by name: their reader, or None for the long way. The types of a schema never
    # change once it is built; the entry holds the type itself, so its id is not reused while it is kept.
    _readers: dict[int, tuple[GraphQLObjectType, dict[str, FieldReader | None]]] = {}
    # Each class the short way has met: whether its instances are plain (`_is_plain_class`).
    _plain_classes: dict[type, bool] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # This request's plans of selections collected for it alone (by the selection's id; the entry holds
        # the selection, so its id is not reused while it is kept).
        self._plans: dict[int, tuple[GroupedFieldSet, list[Step]]] = {}
        # Objects completed under a repeated selection, by (object's id, selection's shape and root field): the
        # object and its fields (`_complete_items`). `_long_ways` counts the fields the long way executed and
        # the errors handled, so a completion that had either is not kept.
        self._completed: dict[tuple[int, Hashable], tuple[Any, dict[str, Any]]] = {}
        self._long_ways = 0
        fragments = self.fragment_definitions.values()
        self._per_document = per_node(
            self.operation,
            "collected from the document alone",
            lambda: _collected_from_document_alone(self.operation, fragments),
        )

    def build_response(self, data: Any) -> Any:
        """graphql-core's response; then its `async_helpers` dropped: bound methods of this execution context,
        a reference cycle that kept the request (its context, loaders, body) until the next cyclic collection
        (docs/performance.md, "Fourth pass"). A resolver's `info` keeps its own reference to them."""
        response = super().build_response(data)
        self.async_helpers = None  # type: ignore[assignment]
        return response

    def handle_field_error(
        self,
        raw_error: Exception,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> None:
        """graphql-core's, counted (`_long_ways`): a completion with an error is not answered again."""
        self._long_ways += 1
        super().handle_field_error(raw_error, return_type, field_details_list, path)

    def _readers_of(self, parent_type: GraphQLObjectType) -> dict[str, FieldReader | None]:
        known = self._readers.get(id(parent_type))
        if known is not None and known[0] is parent_type:
            return known[1]
        readers = {name: _field_reader(field_def) for name, field_def in parent_type.fields.items()}
        self._readers[id(parent_type)] = (parent_type, readers)
        return readers

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> list[Step]:
        known = self._plans.get(id(grouped_field_set))
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan = _plan(self._readers_of(parent_type), grouped_field_set)
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _selection(self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> Selection:
        """The sub-fields of these field nodes on this type: collected once per document when that depends on
        the document alone (and the nodes are not under `@defer` nor given fragment arguments), else graphql-core's
        collection for this request."""
        if self._per_document and all(
            details.defer_usage is None and details.fragment_variable_values is None for details in field_details_list
        ):
            nodes = tuple(details.node for details in field_details_list)

            def collect() -> tuple[tuple[FieldNode, ...], Selection]:
                collected = super(GatewayExecutionContext, self).collect_subfields(object_type, field_details_list)
                shape = (
                    object_type,
                    tuple(print_ast(node.selection_set) if node.selection_set else "" for node in nodes),
                )
                selection = Selection(
                    collected, _plan(self._readers_of(object_type), collected.grouped_field_set), shape
                )
                alike: list[Selection] = per_node(self.operation, ("selections shaped", shape), list)
                alike.append(selection)
                if len(alike) > 1:
                    for each in alike:
                        each.repeated = True
                return nodes, selection

            key = ("selection", object_type, tuple(id(node) for node in nodes))
            return per_node(self.operation, key, collect)[1]
        collected = self.collect_subfields(object_type, field_details_list)
        return Selection(collected, self._plan_of(object_type, collected.grouped_field_set))

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields` (3.3), with the short way for plain fields; the results keep the
        order of the selection."""
        if self._has_middleware():
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        return self._execute_plan(
            parent_type, source_value, path, self._plan_of(parent_type, grouped_field_set), position_context
        )

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, with the sub-fields collected once per document where they can be."""
        if position_context is not None or self._has_middleware():
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        selection = self._selection(return_type, field_details_list)
        if selection.collected.new_defer_usages:
            return self.execute_collected_subfields(
                return_type,
                result,
                path,
                selection.collected.grouped_field_set,
                selection.collected.new_defer_usages,
                position_context,
            )
        return self._execute_plan(return_type, result, path, selection.plan, None)

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, with a list of objects a resolver returned (the statements of `danger(first:)`, a
        plan's check-ins) completed the short way, as a plain field's list is: decided before anything is
        executed, the long way for anything the short way is not sure of."""
        if position_context is None and isinstance(result, list | tuple) and not self._has_middleware():
            item_type = return_type.of_type
            object_type, item_required = _unwrap(item_type)
            if isinstance(object_type, GraphQLObjectType) and not any(
                details.node.directives for details in field_details_list
            ):
                selection = self._objects_selection(
                    object_type, item_required, result, field_details_list, lambda: info
                )
                if selection is not None:
                    return self._complete_items(object_type, item_type, result, field_details_list, path, selection)
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    def _objects_selection(
        self,
        object_type: GraphQLObjectType,
        item_required: bool,
        items: Sequence[Any],
        field_details_list: FieldDetailsList,
        info: Callable[[], GraphQLResolveInfo[Any]],
        step: Step | None = None,
    ) -> Selection | None:
        """The selection to complete these objects with the short way, or None when the long way must: a null
        where the type forbids it, an exception, an awaitable, an object the type's `is_type_of` does not
        accept at once (a coroutine it answers is closed unawaited: the long way asks again), `@defer` below."""
        is_awaitable = self.is_awaitable
        plain_classes = self._plain_classes if is_awaitable in _KNOWN_IS_AWAITABLE else {}
        for item in items:
            if item is None:
                if item_required:
                    return None
                continue
            plain = plain_classes.get(type(item))
            if plain is None and plain_classes is self._plain_classes:
                plain = plain_classes[type(item)] = _is_plain_class(type(item))
            if not plain and (isinstance(item, Exception) or is_awaitable(item)):
                return None
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            resolve_info = info()
            for item in items:
                if item is not None:
                    known = is_type_of(item, resolve_info)
                    if known is not True:
                        close = getattr(known, "close", None) if is_awaitable(known) else None
                        if close is not None:
                            close()
                        return None
        selection = step.selection if step is not None else None
        if selection is None:
            selection = self._selection(object_type, field_details_list)
            if step is not None:
                step.selection = selection
        return None if selection.collected.new_defer_usages else selection

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(manager.middlewares)

    def _execute_plan(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        plan: list[Step],
        position_context: Any,
    ) -> Any:
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for step in plan:
                attribute = step.attribute
                if attribute is not None:
                    try:
                        value = getattr(source_value, attribute)
                        if type(value) is not step.itself:
                            value = step.finish(value)
                    except Exception:
                        value = SLOW
                    if value is not SLOW:
                        results[step.response_name] = value
                        continue
                elif step.leaf is not None:
                    try:
                        value = step.leaf(source_value)
                    except Exception:
                        value = SLOW
                    if value is not SLOW:
                        results[step.response_name] = value
                        continue
                elif step.objects is not None:
                    if position_context is None:
                        value = self._complete_objects(step, step.objects, parent_type, source_value, path)
                        if value is not SLOW:
                            results[step.response_name] = value
                            if type(value) is not dict and type(value) is not list and is_awaitable(value):
                                awaitable_fields.append(step.response_name)
                            continue
                elif step.from_path is not None:
                    from_path = step.from_path
                    try:
                        value = from_path.leaf(
                            from_path.compute(
                                source_value, self.context_value, Path(path, step.response_name, parent_type.name)
                            )
                        )
                    except Exception:
                        value = SLOW
                    if value is not SLOW:
                        results[step.response_name] = value
                        continue
                self._long_ways += 1
                result = self.execute_field(
                    parent_type,
                    source_value,
                    step.field_details_list,
                    Path(path, step.response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[step.response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(step.response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_objects(
        self, step: Step, field: ObjectField, parent_type: GraphQLObjectType, source_value: Any, path: Path | None
    ) -> Any:
        """The field's value completed as `execute_field` completes it, or SLOW (decided before anything is
        executed) when the long way must do it."""
        try:
            value = field.read(source_value)
        except Exception:
            return SLOW
        if value is None:
            return SLOW if field.required else None
        object_type = field.object_type
        selection = step.selection
        if (
            not field.many
            and selection is not None
            and object_type.is_type_of is None
            and self._plain_classes.get(type(value))
            and self.is_awaitable in _KNOWN_IS_AWAITABLE
            and not selection.collected.new_defer_usages
        ):
            # One object of a plain class, its selection known: what `_objects_selection` would answer, unasked.
            field_path = Path(path, step.response_name, parent_type.name)
            try:
                completed = self._execute_plan(object_type, value, field_path, selection.plan, None)
            except Exception as raw_error:
                self.handle_field_error(raw_error, field.field_def.type, step.field_details_list, field_path)
                return None
            if type(completed) is dict:
                return completed
            return self._field_awaited(completed, field.field_def.type, step.field_details_list, field_path)
        if field.many:
            if not isinstance(value, list | tuple):
                return SLOW
            items: Sequence[Any] = value
        else:
            items = (value,)
        field_details_list = step.field_details_list
        field_path = Path(path, step.response_name, parent_type.name)
        selection = self._objects_selection(
            object_type,
            field.item_required,
            items,
            field_details_list,
            lambda: self.build_resolve_info(
                field.field_def, [details.node for details in field_details_list], parent_type, field_path
            ),
            step,
        )
        if selection is None:
            return SLOW
        return_type = field.field_def.type
        try:
            if field.many:
                completed = self._complete_items(
                    object_type, field.item_type, items, field_details_list, field_path, selection
                )
            else:
                completed = self._execute_plan(object_type, value, field_path, selection.plan, None)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, field_path)
            return None
        if type(completed) is not dict and type(completed) is not list and self.is_awaitable(completed):
            return self._field_awaited(completed, return_type, field_details_list, field_path)
        return completed

    def _complete_items(
        self,
        object_type: GraphQLObjectType,
        item_type: GraphQLOutputType,
        items: Sequence[Any],
        field_details_list: FieldDetailsList,
        path: Path,
        selection: Selection,
    ) -> Any:
        """graphql-core's `complete_iterable_value` for a list of objects, each item's sub-fields executed.

        An object this request has already completed under a selection of the same shape below the same root
        field (`Selection.repeated`), wholly the short way and without an error, is answered with those fields
        again: the same sub-fields of the same object, read from an object that does not change while the
        request is answered; the only field that reads its path (`FROM_PATH`, a global id) reads its root.
        Such an answer is the same dict at both places in the result: nothing may change a completed result in
        place (the family view's page and the dashboards only read it)."""
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        plan = selection.plan
        # (not for a root field's own items: each is a root of its own, `nodes/2`)
        completed_before = self._completed if selection.repeated and path.prev is not None else None
        if completed_before is not None:
            key_of_root = (selection.shape, _root_of(path))
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed_results.append(None)
                    continue
                if completed_before is not None:
                    key = (id(item), key_of_root)
                    known = completed_before.get(key)
                    if known is not None and known[0] is item:
                        completed_results.append(known[1])
                        continue
                    long_ways = self._long_ways
                item_path = Path(path, index, None)
                try:
                    completed = self._execute_plan(object_type, item, item_path, plan, None)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed_results.append(None)
                    continue
                if type(completed) is dict:  # `_execute_plan`'s answer: the fields, or a coroutine awaiting some
                    completed_results.append(completed)
                    if completed_before is not None and self._long_ways == long_ways:
                        completed_before[key] = (item, completed)
                else:
                    completed_results.append(self._field_awaited(completed, item_type, field_details_list, item_path))
                    awaitable_indices.append(index)
        except Exception:
            if awaitable_indices:
                self.settle_in_background([completed_results[index] for index in awaitable_indices])
            raise
        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed_results[index] = await completed_results[index]
            else:
                awaited = await gather_with_cancel(*(completed_results[index] for index in awaitable_indices))
                for index, sub_result in zip(awaitable_indices, awaited, strict=True):
                    completed_results[index] = sub_result
            return completed_results

        return get_completed_results()

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, and for an object whose answer waits for work its resolver started (`answer_after`),
        that work awaited once the object's fields are built, before the object is answered."""
        waiting = _waiting.get()
        started = waiting.get(id(result)) if waiting else None
        if waiting is None or started is None or started[0] is not result:
            return super().complete_object_value(return_type, field_details_list, info, path, result, position_context)
        try:
            completed = super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        except Exception as error:
            return _answered_after(waiting, result, started[1], None, error)
        return _answered_after(waiting, result, started[1], completed, None)

    async def _field_awaited(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        """An awaitable completion awaited as `execute_field` (or `complete_list_item_value`) awaits it."""
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None


# --- answers that wait for work their resolver started (the case view's audit record) ---

# This execution's started work, by the id of the object whose answer waits for it (the object itself kept, so
# its id is not reused): set by `AnswerWaits` around each execution; None outside one.
_waiting: ContextVar[dict[int, tuple[Any, asyncio.Future[Any]]] | None] = ContextVar(
    "sop_gateway_answer_waits", default=None
)


async def answer_after(value: Any, work: Coroutine[Any, Any, Any]) -> None:
    """Run `work` while `value`'s fields are built (its resolver returns `value` next): the object is answered
    only once `work` has finished, and an error `work` raises is the field's error, as if the resolver had
    awaited it (`GatewayExecutionContext.complete_object_value`). Two turns of the event loop let the work
    begin (the audit writer queues the record, then its appending task sends the statement) before the result
    tree, which is built without yielding, takes the process. Outside an execution that waits (`AnswerWaits`),
    `work` is awaited here."""
    waiting = _waiting.get()
    if waiting is None:
        await work
        return
    started = asyncio.ensure_future(work)
    waiting[id(value)] = (value, started)
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def _answered_after(
    waiting: dict[int, tuple[Any, asyncio.Future[Any]]],
    value: Any,
    started: asyncio.Future[Any],
    completed: Any,
    error: Exception | None,
) -> Any:
    """The object's completion, once `started` has finished; `started`'s error first (the resolver's, as if it
    had awaited it), else the completion's own."""
    try:
        if error is None and default_is_awaitable(completed):
            completed = await completed
    except Exception as raised:
        error = raised
    try:
        await started
    finally:
        waiting.pop(id(value), None)
    if error is not None:
        raise error
    return completed


class AnswerWaits(SchemaExtension):
    """Each execution's answer waits for the work its resolvers started (`answer_after`). The gateway's executor
    awaits each when its object is completed; any an execution left (another executor, an object never
    completed) is awaited here, before the result leaves the schema, and its error fails the request."""

    async def on_execute(self) -> AsyncIterator[None]:
        waiting: dict[int, tuple[Any, asyncio.Future[Any]]] = {}
        token = _waiting.set(waiting)
        try:
            yield
        finally:
            _waiting.reset(token)
            left = [started for _, started in waiting.values()]
            waiting.clear()
            if left:
                await asyncio.gather(*left)


__all__ = ["AnswerWaits", "GatewayExecutionContext", "answer_after"]
