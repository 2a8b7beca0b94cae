"""Every kind of caller, signed in through the gateway's own edge the way they are in production — staff with
OIDC JWTs (the development issuer), partner agencies with API tokens an administrator issued, integration
clients with `/oauth/token` — plus partner grants made and revoked through the REST façade.

Family and network members have no sign-in of their own yet (docs/identity.md): `trust_member_portal` makes
the running gateway trust one more issuer that may vouch for `family` and `network` actors only, as a family
portal's identity provider would be trusted, so their requests still pass the real `EdgeAuthenticator`.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt

from sop_gateway.identity import TrustedIssuerKeys
from sop_shared.dev_identity import DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import DEV_ISSUER_JWKS_FILE, DEV_ISSUER_KEY_FILE, load_signing_key
from sop_shared.policy import ActorType

if TYPE_CHECKING:
    from tests.gateway.conftest import EmbeddedSystem

MEMBER_PORTAL_ISSUER = "sop-test-member-portal"
ADMIN = ("admin.hughes", ["admin"])


def _signed(system: EmbeddedSystem, claims: dict[str, Any]) -> dict[str, str]:
    key = load_signing_key(system.keys_dir / DEV_ISSUER_KEY_FILE)
    now = int(time.time())
    token = jwt.encode(
        {"aud": DEV_AUDIENCE, "iat": now, "nbf": now - 1, "exp": now + 600, **claims},
        key.private_key,
        algorithm="EdDSA",
        headers={"kid": key.kid},
    )
    return {"Authorization": f"Bearer {token}"}


def staff_bearer(system: EmbeddedSystem, subject: str, roles: list[str]) -> dict[str, str]:
    return _signed(
        system, {"iss": DEV_ISSUER, "sub": subject, "sop_actor_type": "staff", "roles": roles, "agency": "DCFS"}
    )


def admin_bearer(system: EmbeddedSystem) -> dict[str, str]:
    return staff_bearer(system, *ADMIN)


async def trust_member_portal(system: EmbeddedSystem) -> None:
    """The gateway trusts a family/network sign-in issuer (test keys: the development issuer's key pair)."""
    state = system.gateway.state
    portal = TrustedIssuerKeys(
        MEMBER_PORTAL_ISSUER,
        DEV_AUDIENCE,
        jwks_file=system.keys_dir / DEV_ISSUER_JWKS_FILE,
        actor_types=frozenset({ActorType.family, ActorType.network}),
    )
    await portal.load()
    state.authenticator = dataclasses.replace(state.authenticator, issuers=[*state.authenticator.issuers, portal])


def member_bearer(system: EmbeddedSystem, subject: str, actor_type: ActorType) -> dict[str, str]:
    """A family or network member, signed in through the member portal issuer (see trust_member_portal)."""
    return _signed(system, {"iss": MEMBER_PORTAL_ISSUER, "sub": subject, "sop_actor_type": actor_type.value})


async def partner_bearer(system: EmbeddedSystem, agency: str) -> dict[str, str]:
    """A partner agency's API token, issued by an administrator through `/v1/api-tokens`."""
    response = await system.client.post(
        "/v1/api-tokens",
        headers=admin_bearer(system),
        json={
            "agency": agency,
            "purpose": f"{agency}: services for families referred by DCFS",
            "scopes": ["case:read"],
            "expires_at": (datetime.now(UTC) + timedelta(days=90)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def integration_bearer(system: EmbeddedSystem, client_id: str) -> dict[str, str]:
    """An integration client registered by an administrator, with a token from `/oauth/token`."""
    registered = await system.client.post(
        "/v1/integration-clients",
        headers=admin_bearer(system),
        json={"client_id": client_id, "name": "CHRIS sync (access matrix)", "scopes": ["cases:sync", "case:read"]},
    )
    assert registered.status_code == 201, registered.text
    issued = await system.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": registered.json()["client_secret"],
        },
    )
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


async def grant_partner(
    system: EmbeddedSystem, case_id: Any, agency: str, *, by: dict[str, str], expires_at: datetime | None = None
) -> dict[str, Any]:
    """A partner grant on the case, made through the gateway's façade by staff on the case."""
    response = await system.client.post(
        f"/api/network/v1/cases/{case_id}/grants",
        headers=by,
        json={
            "agency": agency,
            "scopes": ["case:read"],
            "purpose": "parenting classes referral",
            "consent_reference": "signed release 2026-11",
            "expires_at": (expires_at or datetime.now(UTC) + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    await system.events_delivered()  # its event drops cached access decisions: let that happen now, not later
    return response.json()


async def revoke_grant(system: EmbeddedSystem, case_id: Any, grant_id: str, *, by: dict[str, str]) -> None:
    response = await system.client.post(
        f"/api/network/v1/cases/{case_id}/grants/{grant_id}/revoke", headers=by, json={"reason": "referral closed"}
    )
    assert response.status_code == 200, response.text
