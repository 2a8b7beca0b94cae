"""`sop audit verify <component>` as an operator runs it (a separate process, settings from SOP_* variables):
it recomputes the component's keyed chain from its database and says whether it is intact, with exit status
0 or 1; `sop audit rotate-key` adds a key that new records use; `sop keys init` makes every component's
audit keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sop_network.models import platform
from sop_shared.audit import AuditEntry, AuditWriter
from sop_shared.audit_keys import audit_keys_dir, audit_signing_key_file, load_audit_keys
from sop_shared.db import Database

Run = Callable[..., Any]


@pytest.mark.sqlite_smoke("sop audit verify on the embedded SQLite files")
async def test_verify_reports_an_intact_chain_and_then_the_tampered_record(
    sop: Run, tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    env = {"SOP_NETWORK_DATABASE_URL": database_url, "SOP_NETWORK_DATA_DIR": str(data)}
    migrated = sop("migrate", "network", env=env)
    assert migrated.returncode == 0, migrated.stderr
    keys = load_audit_keys(component="network", keys_dir=data / "keys", development=True)
    writer = AuditWriter(platform, keys.keyring)
    database = Database(database_url)
    try:
        for i in range(3):
            async with database.session() as session:
                await writer.record(
                    session,
                    AuditEntry(
                        actor_subject="fsw.rivera",
                        actor_type="staff",
                        resource="case",
                        action="read",
                        request_id=f"r{i}",
                    ),
                )
        intact = sop("audit", "verify", "network", env=env)
        assert intact.returncode == 0, intact.stderr
        verdict = json.loads(intact.stdout)
        assert (verdict["component"], verdict["intact"], verdict["records"]) == ("network", True, 3)
        assert "no signed checkpoint" in verdict["note"]  # memory:// keeps none between processes
        async with database.session() as session:
            await session.execute(text("UPDATE audit_record SET actor_subject = 'sup.okafor' WHERE seq = 2"))
    finally:
        await database.dispose()
    broken = sop("audit", "verify", "network", env=env)
    assert broken.returncode == 1
    verdict = json.loads(broken.stdout)
    assert (verdict["intact"], verdict["broken_at"]) == (False, 2)


def test_verify_in_production_without_audit_keys_refuses(sop: Run, tmp_path: Path) -> None:
    result = sop(
        "audit",
        "verify",
        "plans",
        env={
            "SOP_PLANS_ENVIRONMENT": "production",
            "SOP_PLANS_DATABASE_URL": "sqlite+aiosqlite:///x.db",
            "SOP_PLANS_INTERNAL_JWKS_FILE": str(tmp_path / "jwks.json"),
        },
    )
    assert result.returncode != 0
    assert "SOP_PLANS_AUDIT_KEYS_DIR" in result.stderr


def test_keys_init_makes_every_components_audit_keys_and_rotate_adds_one(sop: Run, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert sop("keys", "init", str(keys)).returncode == 0
    for name in ("network", "assessment", "plans", "practice", "gateway"):
        assert len(list(audit_keys_dir(keys, name).glob("*.key"))) == 1
        assert audit_signing_key_file(keys, name).exists()
    before = load_audit_keys(component="plans", keys_dir=keys, development=True).keyring
    rotated = sop("audit", "rotate-key", str(audit_keys_dir(keys, "plans")))
    assert rotated.returncode == 0, rotated.stderr
    after = load_audit_keys(component="plans", keys_dir=keys, development=True).keyring
    assert after.current_id != before.current_id and set(before.keys) < set(after.keys)
