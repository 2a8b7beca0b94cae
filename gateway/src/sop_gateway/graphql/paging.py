"""The case view's long lists, bounded and paged: harm and danger statements, the safety scale's trajectories,
each plan's check-ins.

The services bound them at the source: the case-view reads carry the first items of each list (as many as the
query asks for, see `slice_params`), the list's total and its cursors; a `…Page(first, after)` field reads the items
after a cursor from the service's window endpoint (`…Page(last, before)` those before one, or the last), for the
same audience and language, so every page is redacted exactly as the first. Cursors are the services'
(`sop_shared.pagination.CaseList`): opaque, bound to the case and the list, any of them usable as `after` or
`before`; a cursor of another case or list is refused like a forged one."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import strawberry
from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)
from strawberry.types import Info
from strawberry.types.nodes import convert_arguments

from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.per_document import per_document
from sop_shared import pagination
from sop_shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, CaseList, encode_cursor
from sop_shared.problems import InvalidInput

N = TypeVar("N")

DEFAULT_FIRST = DEFAULT_LIMIT  # 50
MAX_FIRST = MAX_LIMIT  # 200
DEFAULT_CHECK_INS = 5  # a plan's recent check-ins, as before lists were paged


@strawberry.type(
    description="Where a page stands in its list. A cursor is a position: any cursor of a list may be passed as "
    "`after` (the items after it) or as `before` (the items before it)"
)
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page")
    has_previous_page: bool = strawberry.field(
        default=False,
        description="Whether items come before this page (when paging forward: true when `after` was given)",
    )
    start_cursor: str | None = strawberry.field(default=None, description="Pass as `before` for the page before")


@dataclass(frozen=True)
class Slice:
    """What a connection's `first`/`after`/`last`/`before` ask of a service's list of records ordered by id
    (`sop_shared.pagination.PageRequest`): how many, and the service cursor to read from."""

    limit: int
    cursor: str | None
    backward: bool
    from_end: bool = False  # `last` without `before`

    def page_info(self, ids: list[str], next_cursor: str | None) -> PageInfo:
        """The page's `PageInfo` from the ids of the items the service answered (in id order) and its
        `next_cursor` (which reads on in the direction of the request)."""
        first = encode_cursor(uuid.UUID(ids[0])) if ids else None
        last = encode_cursor(uuid.UUID(ids[-1])) if ids else None
        if self.backward:
            return PageInfo(
                has_previous_page=next_cursor is not None,
                start_cursor=next_cursor or first,
                has_next_page=not self.from_end,
                end_cursor=last,
            )
        return PageInfo(
            has_next_page=next_cursor is not None,
            end_cursor=next_cursor or last,
            has_previous_page=self.cursor is not None,
            start_cursor=first,
        )


def direction(first: int | None, after: str | None, last: int | None, before: str | None) -> bool:
    """Forward (`first`, `after`) or backward (`last`, `before`), never a mix: True when backward."""
    if after is not None and before is not None:
        raise bad_input("before", "give `after` or `before`, not both")
    if first is not None and (last is not None or before is not None):
        raise bad_input("first", "give `first` with `after`, or `last` with `before`")
    if last is not None and after is not None:
        raise bad_input("last", "give `first` with `after`, or `last` with `before`")
    return last is not None or before is not None


def slice_of(
    first: int | None, after: str | None, last: int | None, before: str | None, *, default: int, maximum: int
) -> Slice:
    """Forward (`first`, `after`) or backward (`last`, `before`), never a mix; a cursor the list did not give,
    or a size out of bounds, is BAD_USER_INPUT naming the argument."""
    backward = direction(first, after, last, before)
    size, argument = (last, "last") if backward else (first, "first")
    size = default if size is None else size
    if not 1 <= size <= maximum:
        raise bad_input(argument, f"must be between 1 and {maximum}")
    try:
        if backward:
            if before is None:  # the list's last items
                return Slice(size, pagination.from_the_end(), True, from_end=True)
            return Slice(size, pagination.backward(before), True)
        return Slice(size, pagination.forward(after) if after is not None else None, False)
    except InvalidInput as exc:
        raise bad_input(exc.errors[0]["field"], exc.errors[0]["message"]) from exc


@dataclass(frozen=True)
class BoundedList:
    """One long list of the case view: the fields that read it and the case-view parameter that bounds it."""

    service: str
    name: str | None  # the list's name in its cursors, when it is one per case (check-ins are one per plan)
    param: str
    default: int
    fields: tuple[str, ...]  # dotted paths of the plain list fields (`first`)
    pages: tuple[str, ...]  # dotted paths of the page fields (`first`, `after`)


BOUNDED_LISTS = (
    BoundedList(
        service="assessment",
        name="statements.harm",
        param="harm_first",
        default=DEFAULT_FIRST,
        fields=("worries.harm",),
        pages=("worries.harmPage",),
    ),
    BoundedList(
        service="assessment",
        name="statements.danger",
        param="danger_first",
        default=DEFAULT_FIRST,
        fields=("worries.danger",),
        pages=("worries.dangerPage",),
    ),
    BoundedList(
        service="assessment",
        name="safety-scale",
        param="scale_first",
        default=DEFAULT_FIRST,
        fields=("safetyScale.trajectory",),
        pages=("safetyScale.trajectoryPage",),
    ),
    BoundedList(
        service="plans",
        name=None,
        param="check_ins_first",
        default=DEFAULT_CHECK_INS,
        fields=("safetyPlan.recentCheckIns", "safetyPlans.recentCheckIns"),
        pages=("safetyPlan.checkInPage", "safetyPlans.checkInPage"),
    ),
)
# The dotted paths of every field that reads a bounded list.
BOUNDED_PATHS = frozenset(path for bounded in BOUNDED_LISTS for path in bounded.fields + bounded.pages)


def refuse(info: Info[GatewayContext, None], argument: str, message: str) -> GraphQLError:
    """A paging argument the caller got wrong: BAD_USER_INPUT naming it, and the answer is HTTP 400."""
    response = getattr(info.context, "response", None)
    if response is not None:
        response.status_code = 400
    return bad_input(argument, message)


def check_first(info: Info[GatewayContext, None], first: int, argument: str = "first") -> int:
    if not 0 <= first <= MAX_FIRST:
        raise refuse(info, argument, f"must be between 0 and {MAX_FIRST}")
    return first


def check_after(
    info: Info[GatewayContext, None], the_list: CaseList, after: str | None, argument: str = "after"
) -> str | None:
    try:
        the_list.check(after, field=argument)
    except InvalidInput as exc:
        raise refuse(info, argument, exc.errors[0]["message"]) from exc
    return after


def check_direction(
    info: Info[GatewayContext, None], first: int | None, after: str | None, last: int | None, before: str | None
) -> bool:
    """`direction`, a mix refused with HTTP 400 like any paging argument the caller got wrong."""
    try:
        return direction(first, after, last, before)
    except GraphQLError as exc:
        fields = (exc.extensions or {})["fields"]
        raise refuse(info, fields[0]["field"], fields[0]["message"]) from exc


def slice_params(info: Info[GatewayContext, None], case_id: uuid.UUID) -> dict[str, dict[str, int]]:
    """Per service, how many items of each list its case-view read must carry: the most any field of the query
    asks for (a page field with `after` reads from the window endpoint instead); the list's default when no
    field asks. Every `first` and every `after` of a list whose case and name are known here is checked now,
    before any service is called."""
    arguments: dict[str, list[dict[str, Any]]] = {}
    raw = info._raw_info
    for path, nodes in per_document(info, "bounded argument nodes", _bounded_argument_nodes):
        arguments.setdefault(path, []).append(convert_arguments(raw, nodes))  # the variables of this request
    params: dict[str, dict[str, int]] = {}
    for bounded in BOUNDED_LISTS:
        asked = []
        for path in bounded.fields + bounded.pages:
            for args in arguments.get(path, []):
                # A literal argument arrives as its source text ("0"); validation already made it an Int.
                first, last = args.get("first"), args.get("last")
                after = before = None
                if path in bounded.pages:
                    after, before = args.get("after"), args.get("before")
                    check_direction(info, first, after, last, before)
                first = check_first(info, int(first)) if first is not None else bounded.default
                if last is not None:
                    check_first(info, int(last), "last")
                if bounded.name is not None:
                    check_after(info, CaseList(case_id, bounded.name), after)
                    check_after(info, CaseList(case_id, bounded.name), before, "before")
                if after is None and before is None and last is None:
                    asked.append(first)
        params.setdefault(bounded.service, {})[bounded.param] = max(asked, default=bounded.default)
    return params


def widest_slices() -> dict[str, dict[str, int]]:
    """Per service, every bounded list read as far as one call may (`node(id:)` looks a record up in them)."""
    params: dict[str, dict[str, int]] = {}
    for bounded in BOUNDED_LISTS:
        params.setdefault(bounded.service, {})[bounded.param] = MAX_FIRST
    return params


ArgumentNodes = tuple[tuple[str, tuple[ArgumentNode, ...]], ...]


def _bounded_argument_nodes(info: Info[GatewayContext, None]) -> ArgumentNodes:
    """`_argument_nodes` of the fields that read a bounded list (the only ones `slice_params` asks about): the
    full view has some 600 fields, a dozen of them such lists."""
    return tuple((path, nodes) for path, nodes in _argument_nodes(info) if path in BOUNDED_PATHS)


def _argument_nodes(info: Info[GatewayContext, None]) -> ArgumentNodes:
    """Every field under this one, by dotted path (fragments flattened, aliases ignored), with its arguments
    as written in the document: a variable stays a variable, so the answer is the document's alone."""
    raw = info._raw_info
    found: list[tuple[str, tuple[ArgumentNode, ...]]] = []
    for node in raw.field_nodes:
        _walk_arguments(raw.fragments, node.selection_set, "", found)
    return tuple(found)


def _walk_arguments(
    fragments: dict[str, FragmentDefinitionNode],
    selection_set: SelectionSetNode | None,
    prefix: str,
    found: list[tuple[str, tuple[ArgumentNode, ...]]],
) -> None:
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            path = f"{prefix}{node.name.value}"
            found.append((path, tuple(node.arguments or ())))
            _walk_arguments(fragments, node.selection_set, f"{path}.", found)
        elif isinstance(node, InlineFragmentNode):
            _walk_arguments(fragments, node.selection_set, prefix, found)
        elif isinstance(node, FragmentSpreadNode):
            _walk_arguments(fragments, fragments[node.name.value].selection_set, prefix, found)


def window_page_info(paging: dict[str, Any], *, backward: bool, from_a_cursor: bool) -> PageInfo:
    """The `PageInfo` of a window of a `CaseList` (`{next_cursor, start_cursor, end_cursor}`, `ListPaging`)
    read forward, or backward, from a cursor the caller gave (else from the list's start or end)."""
    next_cursor = paging.get("next_cursor")
    if backward:
        return PageInfo(
            has_previous_page=next_cursor is not None,
            start_cursor=paging.get("start_cursor") or next_cursor,
            has_next_page=from_a_cursor,
            end_cursor=paging.get("end_cursor"),
        )
    return PageInfo(
        has_next_page=next_cursor is not None,
        end_cursor=paging.get("end_cursor") or next_cursor,
        has_previous_page=from_a_cursor,
        start_cursor=paging.get("start_cursor"),
    )


# Reads a window from a service's window endpoint: (how many, the service cursor to read from, or None for the
# list's start) -> its JSON `{items, total_count, next_cursor, start_cursor, end_cursor}`.
ReadRest = Callable[[int, str | None], Awaitable[dict[str, Any]]]


@dataclass
class Window(Generic[N]):
    """One bounded list as the case view carries it: the first items, the total, the cursors, and how to read
    any page of it, forward or backward (`sop_shared.pagination.CaseList` cursors)."""

    the_list: CaseList
    items: list[N]
    paging: dict[str, Any]
    convert: Callable[[dict[str, Any]], N]
    read_rest: ReadRest | None = field(default=None)

    @property
    def total_count(self) -> int:
        return int(self.paging["total_count"])

    @classmethod
    def of(
        cls,
        the_list: CaseList,
        items: list[dict[str, Any]],
        paging: dict[str, Any] | None,
        convert: Callable[[dict[str, Any]], N],
        read_rest: ReadRest | None,
    ) -> Window[N]:
        paging = paging or {"total_count": len(items), "next_cursor": None}
        return cls(
            the_list=the_list, items=[convert(i) for i in items], paging=paging, convert=convert, read_rest=read_rest
        )

    def first(self, info: Info[GatewayContext, None], first: int) -> list[N]:
        return self.items[: check_first(info, first)]

    async def page(
        self,
        info: Info[GatewayContext, None],
        *,
        default: int,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> tuple[list[N], int, PageInfo]:
        """A page forward (`first` after `after`, from the start without it) or backward (`last` before
        `before`, from the end without it), in the list's order."""
        backward = check_direction(info, first, after, last, before)
        asked, argument = (last, "last") if backward else (first, "first")
        size = check_first(info, default if asked is None else asked, argument)
        check_after(info, self.the_list, after)
        check_after(info, self.the_list, before, "before")
        cursor: str | None = None
        if backward:
            cursor = self.the_list.backward(before) if before is not None else self.the_list.from_the_end()
        elif after is not None:
            cursor = self.the_list.forward(after)
        more = self.paging.get("next_cursor") is not None
        if cursor is None and (size == len(self.items) or (size > len(self.items) and not more)):
            body: dict[str, Any] = {**self.paging, "items": None}
            nodes = self.items
        elif self.read_rest is None:
            raise refuse(info, "before" if backward else "after", "read the following pages through caseView")
        elif size == 0:  # only the count, and whether any come that way
            body = await self.read_rest(1, cursor)
            nodes = []
            body = {
                "total_count": body["total_count"],
                "next_cursor": (cursor or self.the_list.cursor(())) if body["items"] else None,
            }
        else:
            body = await self.read_rest(size, cursor)
            nodes = [self.convert(i) for i in body["items"]]
        page_info = window_page_info(body, backward=backward, from_a_cursor=(before if backward else after) is not None)
        return nodes, body["total_count"], page_info
