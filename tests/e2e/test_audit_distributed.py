"""The audit trail in distributed mode (separate processes, PostgreSQL, NATS JetStream): every component —
the gateway too, which has no event bus of its own otherwise — publishes signed checkpoints of its chain
head to JetStream, each checks with that component's public key alone, and `sop audit verify <component>`
run by an operator compares the chain with them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import nats

from sop_shared.audit import AuditCheckpoint
from sop_shared.dev_identity import mint_dev_token
from sop_shared.keys import load_jwks

if TYPE_CHECKING:
    from conftest import DistributedSystem

COMPONENTS = ("network", "assessment", "plans", "gateway")
CASE_BODY = {
    "case_type": "in_home",
    "status": "open",
    "county": "Pulaski",
    "opened_on": "2026-11-01",
    "members": [
        {
            "role": "caregiver",
            "relationship_to_children": "mother",
            "person": {"external_id": "AUD-P-1", "first_name": "Ana", "last_name": "Reyes"},
        },
        {
            "role": "child",
            "relationship_to_children": "son",
            "person": {
                "external_id": "AUD-P-2",
                "first_name": "Luis",
                "last_name": "Reyes",
                "date_of_birth": "2019-05-01",
            },
        },
    ],
    "assignments": [{"staff_subject": "fsw.rivera", "role": "worker"}],
}


def _public_keys(keys_dir: Path, component: str) -> dict[str, Any]:
    return {str(k.key_id): k.key for k in load_jwks(keys_dir / f"audit-{component}.jwks.json").keys}


async def _newest_checkpoints(nats_url: str, system: DistributedSystem) -> dict[str, AuditCheckpoint]:
    """Each component's newest checkpoint, once it is one this system signed (the suite's stream also holds
    those of earlier runs, signed with their own keys)."""
    nc = await nats.connect(nats_url)
    found: dict[str, AuditCheckpoint] = {}
    try:
        js = nc.jetstream()
        for _ in range(100):
            for component in COMPONENTS:
                try:
                    msg = await js.get_last_msg(
                        system.events_stream, system.wire_subject(f"sop.{component}.audit.checkpoint")
                    )
                except Exception:
                    continue
                checkpoint = AuditCheckpoint.from_dict(json.loads(msg.data)["data"])
                if checkpoint.component == component and checkpoint.signature_valid(
                    _public_keys(system.keys_dir, component)
                ):
                    found[component] = checkpoint
            if len(found) == len(COMPONENTS):
                break
            await asyncio.sleep(0.2)
    finally:
        await nc.close()
    return found


def test_every_component_checkpoints_to_jetstream_and_the_chain_verifies_against_it(
    distributed_system: DistributedSystem,
    nats_url: str,
) -> None:
    def bearer(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(distributed_system.keys_dir, user)}"}

    with httpx.Client(base_url=distributed_system.gateway, timeout=15) as client:
        upsert = client.put(
            "/api/network/v1/cases/by-external/CHRIS/AUD-0001", json=CASE_BODY, headers=bearer("sacwis.sync")
        )
        assert upsert.status_code in (200, 201), upsert.text
        case_id = upsert.json()["id"]
        assert (
            client.get(f"/api/assessment/v1/cases/{case_id}/statements", headers=bearer("fsw.rivera")).status_code
            == 200
        )
        assert (
            client.get(f"/api/plans/v1/cases/{case_id}/safety-plans", headers=bearer("fsw.rivera")).status_code == 200
        )
    found = asyncio.run(_newest_checkpoints(nats_url, distributed_system))
    assert set(found) == set(COMPONENTS)  # published, and checked with the component's public key alone
    verifying = {  # `sop audit verify` for every component, side by side
        component: subprocess.Popen(
            [sys.executable, "-m", "sop_shared.cli", "audit", "verify", component],
            env=distributed_system.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for component in COMPONENTS
    }
    for component, process in verifying.items():
        stdout, stderr = process.communicate(timeout=60)
        verdict = json.loads(stdout)
        assert process.returncode == 0 and verdict["intact"], (component, stdout, stderr)
        assert verdict["checkpoint_seq"] is not None and verdict["checkpoint_seq"] <= verdict["records"]
