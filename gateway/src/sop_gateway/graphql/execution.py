"""How the gateway's GraphQL results are built: graphql-core's executor, with a short way for plain leaves.

A full `caseView` is some 4,000 fields, most of them a scalar or enum read straight off a typed object (a
Strawberry field with no resolver). graphql-core resolves each one the long way: a response path, a resolve
info (Strawberry's, with the operation's context), the resolver chain, awaitable checks, then `complete_value`
unwrapping non-null and dispatching on the type. That per-field machinery was most of the gateway's CPU per view
(issue 16). For such a leaf this module reads the attribute and coerces it with the type's own
`coerce_output_value`, exactly what the long way ends in. Anything else takes the long way: a field with a
resolver, arguments or field extensions, an object or abstract type, any middleware (a schema extension that
wraps each resolution), and every value the short way is not sure of (null where the type forbids it, a value
the type refuses, an exception) — so errors, their messages and their paths are graphql-core's own.
`tests/gateway/test_graphql_execution.py` compares the two on the full view."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# A leaf read the short way: the value, or SLOW when the long way must decide.
SLOW: Any = object()
Reader = Callable[[Any], Any]


def _leaf_reader(field_def: GraphQLField) -> Reader | None:
    """How to read this field the short way, or None: a Strawberry field without resolver, arguments or field
    extensions, read with the plain `getattr` default, whose type is a leaf or a list of leaves."""
    resolve = field_def.resolve
    if resolve is None or not getattr(resolve, "_is_default", False) or field_def.args:
        return None
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field.base_resolver is not None or field.extensions:
        return None
    if field.default_resolver is not getattr or not field.python_name:
        return None
    read = attrgetter(field.python_name)
    return _leaf_list(field_def.type, read) or _leaf(field_def.type, read)


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLOutputType, bool]:
    if isinstance(type_, GraphQLNonNull):
        return type_.of_type, True
    return type_, False


def _leaf(type_: GraphQLOutputType, read: Reader) -> Reader | None:
    inner, required = _unwrap(type_)
    if not is_leaf_type(inner):
        return None
    coerce = inner.coerce_output_value

    def leaf(source: Any) -> Any:
        value = read(source)
        if value is None:
            return SLOW if required else None
        if isinstance(value, Exception):
            return SLOW
        coerced = coerce(value)
        return SLOW if coerced is Undefined or coerced is None else coerced

    return leaf


def _leaf_list(type_: GraphQLOutputType, read: Reader) -> Reader | None:
    outer, required = _unwrap(type_)
    if not isinstance(outer, GraphQLList):
        return None
    item_type, item_required = _unwrap(outer.of_type)
    if not is_leaf_type(item_type):
        return None
    coerce = item_type.coerce_output_value

    def leaf_list(source: Any) -> Any:
        value = read(source)
        if value is None:
            return SLOW if required else None
        if not isinstance(value, list | tuple):  # other iterables (and strings, and errors): the long way
            return SLOW
        items: list[Any] = []
        for item in value:
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


class GatewayExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, each plain leaf read the short way (module docstring)."""

    # Each object type's fields, by name: their reader, or None for the long way. The types of a schema never
    # change once it is built; the entry holds the type itself, so its id is not reused while it is kept.
    _readers: dict[int, tuple[GraphQLObjectType, dict[str, Reader | None]]] = {}

    def _readers_of(self, parent_type: GraphQLObjectType) -> dict[str, Reader | None]:
        known = self._readers.get(id(parent_type))
        if known is not None and known[0] is parent_type:
            return known[1]
        readers = {name: _leaf_reader(field_def) for name, field_def in parent_type.fields.items()}
        self._readers[id(parent_type)] = (parent_type, readers)
        return readers

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's `execute_fields` (3.3), with the short way for plain leaves; the results keep the
        order of the selection."""
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        readers = self._readers_of(parent_type)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                reader = readers.get(field_details_list[0].node.name.value)
                if reader is not None:
                    try:
                        value = reader(source_value)
                    except Exception:
                        value = SLOW
                    if value is not SLOW:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
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


__all__ = ["GatewayExecutionContext"]
