"""What depends on a query's document alone, worked out once per document instead of once per request.

Strawberry's parser cache hands every request with the same query text the same `DocumentNode` (and so the same
`OperationDefinitionNode`), so a walk of the selection tree (`Info.selected_fields` converts the whole tree on
each call) can be kept per document and field, and so can the executor's collected sub-fields
(`sop_gateway.graphql.execution`) and the document's validation (`schema.ValidationPerDocument`). Entries are
keyed by the node's identity and what was worked out, and hold the node itself, so its id cannot be reused while
it is cached."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from graphql import Node
from strawberry.types import Info

T = TypeVar("T")

# Documents times what is kept of each (its validation, a resolver's walk, a selection's plan: some 100 for the
# full case view); the gateway's documents are its clients' few trusted ones.
CACHE_SIZE = 2048

_cache: OrderedDict[tuple[int, Hashable], tuple[Node, Any]] = OrderedDict()


def per_node(node: Node, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, memoised per (document or operation node, key). `compute` must read only the document (and
    what `key` names): its answer is reused for every later request with the same document."""
    cache_key = (id(node), key)
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] is node:
        _cache.move_to_end(cache_key)
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    _cache[cache_key] = (node, value)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return value


def per_document(info: Info[Any, Any], name: str, compute: Callable[[Info[Any, Any]], T]) -> T:
    """`compute(info)`, memoised per (what, document, field). `compute` must read only the document (no
    variable values, no context): its answer is reused for every later request with the same document."""
    return per_node(info.operation, (name, tuple(info.path.as_list())), lambda: compute(info))
