"""The development OIDC issuer: demo users and their bearer tokens, for embedded mode and tests only.

All people here are fictional. In production the gateway trusts the state's identity provider instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from sop_shared.auth import ACTOR_TYPE_CLAIM
from sop_shared.ids import new_id
from sop_shared.keys import DEV_ISSUER_KEY_FILE, load_signing_key

DEV_ISSUER = "sop-dev-issuer"
DEV_AUDIENCE = "sop-platform"
# The development member portal: family and safety-network members sign in here (the gateway trusts it, in
# development only, for `family` and `network` actors; the staff issuer never vouches for them). Same key pair.
DEV_MEMBER_PORTAL_ISSUER = "sop-dev-member-portal"
MEMBER_ACTOR_TYPES = ("family", "network")


@dataclass(frozen=True)
class DemoUser:
    subject: str
    name: str
    actor_type: str
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    agency: str | None = "DCFS"
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


DEMO_USERS: dict[str, DemoUser] = {
    u.subject: u
    for u in (
        DemoUser(
            "fsw.rivera",
            "Dana Rivera",
            "staff",
            ("worker",),
            description="Family Service Worker assigned to the demo family",
        ),
        DemoUser(
            "sup.okafor", "Grace Okafor", "staff", ("supervisor",), description="Supervisor of the demo family's worker"
        ),
        DemoUser(
            "fsw.lindqvist",
            "Sam Lindqvist",
            "staff",
            ("worker",),
            description="Family Service Worker NOT assigned to the demo family",
        ),
        DemoUser(
            "admin.hughes",
            "Pat Hughes",
            "staff",
            ("admin",),
            description="Platform administrator: partner API tokens and integration clients",
        ),
        DemoUser(
            "audit.byrne", "Morgan Byrne", "staff", ("auditor",), description="Auditor: asks who looked at a case"
        ),
        DemoUser(
            "coach.tran",
            "Linh Tran",
            "staff",
            ("coach",),
            agency="MidSOUTH",
            description="MidSOUTH SOP coach: Rivera's coach; sees only what a worker brings to coaching",
        ),
        DemoUser(
            "coord.ellis",
            "Jordan Ellis",
            "staff",
            ("training_coordinator",),
            agency="MidSOUTH",
            description="SOP/SDM training coordinator: courses, sessions, rosters, coaches' caseloads",
        ),
        DemoUser(
            "trainer.moss",
            "Avery Moss",
            "staff",
            ("trainer",),
            agency="MidSOUTH",
            description="MidSOUTH trainer: records attendance at the sessions they lead",
        ),
        DemoUser(
            "lead.park",
            "Robin Park",
            "staff",
            ("practice_lead",),
            description="Practice lead: reads every training record and each unit's due and overdue training",
        ),
        DemoUser(
            "sacwis.sync",
            "CHRIS integration",
            "integration",
            (),
            ("cases:sync", "case:read"),
            description="SACWIS (CHRIS) integration client",
        ),
        DemoUser(
            "lms.sync",
            "State learning system",
            "integration",
            (),
            ("training:sync",),
            description="The state's learning system: loads training rosters in batch",
        ),
        DemoUser(
            "maria.lopez",
            "Maria Lopez",
            "family",
            agency=None,
            description="The demo family's mother (member portal; reads Spanish, needs an interpreter)",
        ),
        DemoUser(
            "rosa.delgado",
            "Rosa Delgado",
            "network",
            agency=None,
            description="The children's grandmother, in the demo family's safety network (member portal)",
        ),
    )
}


def mint_dev_token(keys_dir: Path, subject: str, *, lifetime_seconds: int = 8 * 3600) -> str:
    user = DEMO_USERS.get(subject)
    if user is None:
        raise KeyError(f"unknown demo user {subject!r}; known: {', '.join(DEMO_USERS)}")
    key = load_signing_key(keys_dir / DEV_ISSUER_KEY_FILE)
    now = int(time.time())
    claims = {
        "iss": DEV_MEMBER_PORTAL_ISSUER if user.actor_type in MEMBER_ACTOR_TYPES else DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": user.subject,
        "name": user.name,
        "iat": now,
        "nbf": now - 1,
        "exp": now + lifetime_seconds,
        "jti": str(new_id()),
        ACTOR_TYPE_CLAIM: user.actor_type,
        "roles": list(user.roles),
        "scope": " ".join(user.scopes),
    }
    if user.agency:
        claims["agency"] = user.agency
    if user.actor_type == "integration":
        claims["client_id"] = user.subject
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
