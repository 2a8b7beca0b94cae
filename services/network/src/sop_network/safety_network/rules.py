"""Rules for the safety network: plain functions, no HTTP, no session."""

from __future__ import annotations

from datetime import date

from sop_network.schemas import NetworkMeetingIn, NetworkMemberCreate, NetworkMemberFields
from sop_shared.problems import InvalidInput


def member_field_errors(body: NetworkMemberFields, *, today: date) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if body.active_from and body.active_to and body.active_to < body.active_from:
        errors.append({"field": "active_to", "message": "a member cannot stop before they start"})
    if body.seen_danger_statements_on and body.seen_danger_statements_on > today:
        errors.append({"field": "seen_danger_statements_on", "message": "cannot be in the future"})
    if body.background_check in ("cleared", "not_cleared") and body.background_checked_on is None:
        errors.append({"field": "background_checked_on", "message": "a finished background check needs its date"})
    if body.background_checked_on and body.background_checked_on > today:
        errors.append({"field": "background_checked_on", "message": "cannot be in the future"})
    for i, role in enumerate(body.roles):
        if not role.strip() or len(role) > 100:
            errors.append({"field": f"roles.{i}", "message": "a role is a short, non-empty name"})
    return errors


def check_new_member(body: NetworkMemberCreate, *, today: date) -> None:
    errors = member_field_errors(body, today=today)
    if (body.person_id is None) == (body.person is None):
        errors.append({"field": "person", "message": "give either person_id or person, not both"})
    if errors:
        raise InvalidInput(errors)


def check_member_update(body: NetworkMemberFields, *, today: date) -> None:
    if errors := member_field_errors(body, today=today):
        raise InvalidInput(errors)


def check_meeting(body: NetworkMeetingIn) -> None:
    errors: list[dict[str, str]] = []
    if body.next_meeting_on and body.next_meeting_on <= body.held_on:
        errors.append({"field": "next_meeting_on", "message": "the next meeting comes after this one"})
    if len(set(body.attendee_member_ids)) != len(body.attendee_member_ids):
        errors.append({"field": "attendee_member_ids", "message": "an attendee is listed twice"})
    if errors:
        raise InvalidInput(errors)
