"""`node(id:)`: a record read again by its global id, through the view its id names.

The id names the case, the audience and the language (`global_ids`), so the record is looked up in that case's
view exactly as `caseView` builds it: the same access decision (a case the caller may not see is NOT_FOUND, and
the refusal is audited), the same audience check, the same redaction and translation, and the same audit record
of what was shown. A record the view does not hold (another case's, withdrawn from this audience, or made up)
is NOT_FOUND too."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from sop_gateway.graphql.case_view import CaseView, resolve_case_view, selected_paths
from sop_gateway.graphql.context import GatewayContext
from sop_gateway.graphql.global_ids import GlobalId, Node, root_key
from sop_gateway.graphql.ids import bad_input
from sop_gateway.graphql.types import Audience


def _statements(view: CaseView) -> Iterable[Any]:
    worries = view.worries()
    return [*worries.harm_window.items, *worries.danger_window.items] if worries else []


def _map_entries(view: CaseView) -> Iterable[Any]:
    worries, working = view.worries(), view.working_well()
    return [*(worries.complicating_factors if worries else []), *(working.strengths if working else [])]


def _existing_safety(view: CaseView) -> Iterable[Any]:
    working = view.working_well()
    return working.existing_safety if working else []


def _ratings(view: CaseView) -> Iterable[Any]:
    scale = view.safety_scale()
    return scale.latest if scale else []


# Per Node type: the section of the view that holds it (for the audit record) and how to list the view's records.
RECORDS: dict[str, tuple[tuple[str, ...], Callable[[CaseView], Iterable[Any]]]] = {
    "CasePerson": (("children", "caregivers"), lambda v: [*v.children, *v.caregivers]),
    "NetworkMember": (("network.members",), lambda v: v.network().members),
    "Statement": (("worries.harm", "worries.danger"), _statements),
    "MapEntry": (("worries.complicatingFactors", "workingWell.strengths"), _map_entries),
    "ExistingSafety": (("workingWell.existingSafety",), _existing_safety),
    "SafetyGoal": (("needsToHappen.safetyGoals",), lambda v: v.needs_to_happen().safety_goals() or []),
    "NextStep": (("needsToHappen.nextSteps",), lambda v: v.needs_to_happen().next_steps() or []),
    "ScaleRating": (("safetyScale.latest",), _ratings),
    "SafetyPlan": (("safetyPlans",), lambda v: v.safety_plans() or []),
    "ChildVoice": (("childVoice",), lambda v: v.child_voice() or []),
}


def no_such_record() -> GraphQLError:
    return GraphQLError("No such record.", extensions={"code": "NOT_FOUND"})


MAX_NODES = 20


async def resolve_nodes(info: Info[GatewayContext, None], ids: list[strawberry.ID]) -> list[Node | None]:
    """Each id as `node(id:)` reads it, in order; null for one that names no record the caller may see (the
    refusal audited as for `node`). Every id is checked before anything is read."""
    if len(ids) > MAX_NODES:
        raise bad_input("ids", f"at most {MAX_NODES}")
    for i, one in enumerate(ids):
        _known(GlobalId.decode(str(one), f"ids[{i}]"), f"ids[{i}]")
    found: list[Node | None] = []
    root = root_key(info)
    for i, one in enumerate(ids):
        try:
            found.append(await resolve_node(info, one, view_key=f"{root}/{i}"))
        except GraphQLError as error:
            if (error.extensions or {}).get("code") != "NOT_FOUND":
                raise
            found.append(None)
    return found


def _known(global_id: GlobalId, argument: str) -> tuple[tuple[str, ...], Callable[[CaseView], Iterable[Any]], Audience]:
    known = RECORDS.get(global_id.type_name)
    try:
        if known is None:
            raise ValueError(global_id.type_name)
        return (*known, Audience(global_id.view.audience))
    except ValueError as exc:
        raise bad_input(argument, "not an id this API issued") from exc


async def resolve_node(info: Info[GatewayContext, None], id: strawberry.ID, view_key: str | None = None) -> Node:
    global_id = GlobalId.decode(str(id))
    sections, records, audience = _known(global_id, "id")
    # What the caller is shown, in the view's own paths: the record's section with the fields asked for.
    asked = selected_paths(info)
    prefixes = {".".join(s.split(".")[:n]) for s in sections for n in range(1, s.count(".") + 2)}
    seen = {*prefixes, *(f"{section}.{path}" for section in sections for path in asked)}
    view = await resolve_case_view(
        info,
        strawberry.ID(str(global_id.view.case_id)),
        audience,
        global_id.view.language,
        seen=seen,
        view_key=view_key,
    )
    for record in records(view):
        if str(record.id) == str(global_id.record_id):
            found: Node = record
            return found
    raise no_such_record()
