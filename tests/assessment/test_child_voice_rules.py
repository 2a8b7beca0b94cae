"""Who sees a child's words: staff and supervisors always; family, network, partners and the court only
with the child's consent. And which audience a request speaks for."""

from __future__ import annotations

import uuid

import pytest

from sop_assessment.attachments.store import sniff_image
from sop_assessment.child_voice import rules
from sop_shared.auth import Principal
from sop_shared.policy import ActorType, Audience
from sop_shared.problems import Forbidden, InvalidInput


@pytest.mark.parametrize("audience", [Audience.staff, Audience.supervisor])
def test_staff_and_supervisors_see_the_childs_words_without_consent(audience: Audience) -> None:
    assert rules.may_see_content(audience, [])


@pytest.mark.parametrize("audience", [Audience.family, Audience.network, Audience.partner, Audience.court])
def test_others_see_the_childs_words_only_with_the_childs_consent(audience: Audience) -> None:
    assert not rules.may_see_content(audience, [])
    assert not rules.may_see_content(audience, [a.value for a in Audience if a != audience])
    assert rules.may_see_content(audience, [audience.value])


def principal(actor: ActorType, roles: tuple[str, ...] = ()) -> Principal:
    return Principal(subject="someone", actor_type=actor, roles=frozenset(roles))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (ActorType.staff, Audience.staff),
        (ActorType.family, Audience.family),
        (ActorType.network, Audience.network),
        (ActorType.partner, Audience.partner),
        (ActorType.integration, Audience.staff),
    ],
)
def test_without_the_header_a_caller_gets_its_own_kind_of_view(actor: ActorType, expected: Audience) -> None:
    assert rules.request_audience(principal(actor), None) == expected


def test_a_caller_cannot_speak_for_a_wider_audience() -> None:
    with pytest.raises(Forbidden):
        rules.request_audience(principal(ActorType.family), "staff")
    with pytest.raises(Forbidden):
        rules.request_audience(principal(ActorType.partner), "network")
    with pytest.raises(Forbidden):
        rules.request_audience(principal(ActorType.staff, ("worker",)), "supervisor")
    assert rules.request_audience(principal(ActorType.staff, ("supervisor",)), "Supervisor") == Audience.supervisor
    with pytest.raises(InvalidInput):
        rules.request_audience(principal(ActorType.staff), "public")


def test_roof_rules_with_a_plan_rule_become_links_in_roof_order() -> None:
    first, third = uuid.uuid4(), uuid.uuid4()
    content = {
        "roof_rules": [
            {"words": "a", "safety_plan_rule_id": str(first)},
            {"words": "b"},
            {"words": "c", "safety_plan_rule_id": str(third)},
        ]
    }
    assert rules.roof_rule_links("safety_house", content) == [(0, first), (2, third)]
    assert rules.roof_rule_links("three_houses", content) == []


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xdb....", "image/jpeg"),
        (b"GIF89a....", None),
        (b"<svg/>", None),
        (b"", None),
        (b"\x89PN", None),
    ],
)
def test_images_are_recognised_by_their_magic_bytes(data: bytes, kind: str | None) -> None:
    assert sniff_image(data) == kind
