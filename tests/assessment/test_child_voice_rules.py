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

KINDS = ["three_houses", "safety_house", "words_and_pictures"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("audience", [Audience.staff, Audience.supervisor])
def test_staff_and_supervisors_see_the_childs_words_without_consent(audience: Audience, kind: str) -> None:
    assert rules.may_see_content(kind, audience, shared_with=[])


@pytest.mark.parametrize("audience", [Audience.family, Audience.network, Audience.partner, Audience.court])
def test_others_see_the_childs_safety_house_only_with_the_childs_consent(audience: Audience) -> None:
    def sees(shared_with: list[str]) -> bool:
        return rules.may_see_content("safety_house", audience, shared_with=shared_with, judged_safe=True)

    assert not sees([])
    assert not sees([a.value for a in Audience if a != audience])
    assert sees([audience.value])


def test_the_caregivers_see_a_childs_three_houses_only_with_her_consent_and_the_workers_judgement() -> None:
    def family_sees(shared_with: list[str], judged_safe: bool) -> bool:
        return rules.may_see_content("three_houses", Audience.family, shared_with=shared_with, judged_safe=judged_safe)

    assert family_sees(["family"], True)
    assert not family_sees(["family"], False)
    assert not family_sees([], True)
    # the judgement is about the caregivers: the network needs only the child's consent
    assert rules.may_see_content("three_houses", Audience.network, shared_with=["network"])


MARIA, JOSE = uuid.uuid4(), uuid.uuid4()
EXPLANATION = {
    "pages": [{"text": "Mamá a veces toma mucho y se duerme."}],
    "written_by": [{"name": "Maria", "person_id": str(MARIA)}],
    "caregiver_reviews": [
        {"name": "José", "person_id": str(JOSE), "decision": "disagreed"},
        {"name": "Rosa", "person_id": None, "decision": "agreed"},
    ],
}


def test_words_and_pictures_is_seen_by_the_caregivers_who_wrote_or_approved_it_not_by_the_childs_consent() -> None:
    def seen_by(reader: uuid.UUID | None, content: dict[str, object], shared_with: list[str]) -> bool:
        return rules.may_see_content(
            "words_and_pictures", Audience.family, shared_with=shared_with, content=content, reader=reader
        )

    assert seen_by(MARIA, EXPLANATION, [])  # she wrote it; the child's consent is not asked
    assert not seen_by(JOSE, EXPLANATION, ["family"])  # he disagreed; a consent does not make him an author
    agreed = {**EXPLANATION, "caregiver_reviews": [{"name": "José", "person_id": str(JOSE), "decision": "agreed"}]}
    assert seen_by(JOSE, agreed, [])
    assert seen_by(None, EXPLANATION, [])  # the agency previewing the family's view: a caregiver wrote it
    assert not seen_by(None, {"pages": EXPLANATION["pages"]}, ["family"])
    # the network, partners and the court see it when it is shared with them
    assert rules.may_see_content("words_and_pictures", Audience.network, shared_with=["network"], content=agreed)
    assert not rules.may_see_content("words_and_pictures", Audience.network, shared_with=[], content=agreed)


def test_an_unknown_kind_is_seen_by_the_agency_only() -> None:
    assert not rules.may_see_content("diary", Audience.family, shared_with=["family"], judged_safe=True)
    assert rules.may_see_content("diary", Audience.staff, shared_with=[])


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
