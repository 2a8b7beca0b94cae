"""What depends on a query's document alone, worked out once per document instead of once per request.

Strawberry's parser cache hands every request with the same query text the same `OperationDefinitionNode`, so a
walk of the selection tree (`Info.selected_fields` converts the whole tree on each call) can be kept per
document and field. Entries are keyed by the node's identity and the field's response path, and hold the node
itself, so its id cannot be reused while it is cached."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import OperationDefinitionNode
from strawberry.types import Info

T = TypeVar("T")

CACHE_SIZE = 512  # documents times fields; the gateway's documents are its clients' few trusted ones

_cache: OrderedDict[tuple[str, int, tuple[str | int, ...]], tuple[OperationDefinitionNode, Any]] = OrderedDict()


def per_document(info: Info[Any, Any], name: str, compute: Callable[[Info[Any, Any]], T]) -> T:
    """`compute(info)`, memoised per (what, document, field). `compute` must read only the document (no
    variable values, no context): its answer is reused for every later request with the same document."""
    operation = info.operation
    key = (name, id(operation), tuple(info.path.as_list()))
    hit = _cache.get(key)
    if hit is not None and hit[0] is operation:
        _cache.move_to_end(key)
        return hit[1]  # type: ignore[no-any-return]
    value = compute(info)
    _cache[key] = (operation, value)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return value
