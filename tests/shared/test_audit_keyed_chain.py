"""An audit trail an auditor can trust (issue 10, finding 3), on SQLite and PostgreSQL, with checkpoints on the
in-process bus and on the real NATS JetStream.

What a plain hash chain let through, and what now catches it:
* someone who can write the database rewrites a record and re-hashes the rest → the hashes are HMACs under a
  key kept in files, so the re-hash does not verify;
* someone who also holds the chain key (or who cuts off the tail and moves the head back) → the newest
  checkpoint, signed with the component's Ed25519 key and published where the database cannot reach,
  still names the old head.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from real_services import unique_name
from sop_shared_support import JetStream, PlatformDatabase
from sqlalchemy import delete, insert, select, text, update

from sop_shared.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEntry,
    AuditTrail,
    AuditWriter,
    checkpoint_subject,
    newest_checkpoint,
)
from sop_shared.audit_keys import (
    AuditKeyError,
    AuditKeyring,
    audit_jwks_file,
    audit_keys_dir,
    audit_signing_key_file,
    load_audit_keyring,
    load_audit_keys,
    new_audit_key,
)
from sop_shared.db import utcnow
from sop_shared.events import EventBus, InProcessBus, NatsJetStreamBus
from sop_shared.keys import load_jwks
from sop_shared.service import build_service_app, running
from sop_shared.settings import ServiceSettings
from sop_shared.testing import InternalTokens

# Runs on SQLite too by default: the audit chain itself, on each backend's SQL.
pytestmark = pytest.mark.sqlite_smoke

CASE = uuid.UUID("01890000-0000-7000-8000-0000000000dd")
COMPONENT = "plans"


def entry(i: int) -> AuditEntry:
    return AuditEntry(
        actor_subject=f"fsw.{i % 3}",
        actor_type="staff",
        resource="safety_plan",
        action="read",
        case_id=CASE,
        resource_id=f"plan-{i}",
        fields=["rules"],
        purpose="casework",
        request_id=f"req-{i}",
        client_request_id=f"client-{i}",
    )


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture(params=["in-process", "jetstream"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """Where checkpoints go: the in-process bus (embedded mode) and a private stream on the real NATS server."""
    if request.param == "in-process":
        yield InProcessBus()
        return
    nats_url = request.getfixturevalue("nats_url")
    nats_bus = await NatsJetStreamBus(
        nats_url, stream=unique_name("sop_audit").upper(), namespace=unique_name("ns")
    ).connect()
    try:
        yield nats_bus
    finally:
        with contextlib.suppress(Exception):
            await nats_bus._js.delete_stream(nats_bus.stream)
        await nats_bus.close()


def trail_for(pdb: PlatformDatabase, keys_dir: Path, bus: EventBus) -> AuditTrail:
    keys = load_audit_keys(component=COMPONENT, keys_dir=keys_dir, development=True)
    return AuditTrail(COMPONENT, pdb.database, pdb.tables, keys, bus)


async def write(pdb: PlatformDatabase, writer: AuditWriter, start: int, count: int) -> None:
    for i in range(start, start + count):
        async with pdb.database.session() as session:
            await writer.record(session, entry(i))


async def rows(pdb: PlatformDatabase) -> list:
    audit = pdb.tables.audit
    async with pdb.database.session() as session:
        return list((await session.execute(select(audit).order_by(audit.c.seq))).all())


def _plain_hash(prev: str, row: object, **content: object) -> str:
    """What the plain chain computed (and what anyone can compute without a key)."""
    fields = {
        f: getattr(row, f)
        for f in (
            "actor_subject",
            "actor_type",
            "resource",
            "action",
            "resource_id",
            "client_id",
            "fields",
            "purpose",
            "audience",
            "request_id",
        )
    }
    fields["case_id"] = str(row.case_id) if row.case_id else None
    fields.update(content)
    canonical = json.dumps(
        {"seq": row.seq, "id": str(row.id), "occurred_at": row.occurred_at.isoformat(), "prev": prev, **fields},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def rewrite_and_rehash(pdb: PlatformDatabase, seq: int, actor: str, rehash: object) -> None:
    """Change one record's actor and recompute every hash from it on with `rehash(prev, row, actor)`, the
    chain head too: what someone with write access to the database does to cover their tracks."""
    audit, head = pdb.tables.audit, pdb.tables.audit_head
    prev = GENESIS_HASH
    async with pdb.database.session() as session:
        for row in (await session.execute(select(audit).order_by(audit.c.seq))).all():
            if row.seq >= seq:
                new_actor = actor if row.seq == seq else row.actor_subject
                digest = rehash(prev, row, new_actor)
                await session.execute(
                    update(audit)
                    .where(audit.c.seq == row.seq)
                    .values(actor_subject=new_actor, prev_hash=prev, hash=digest)
                )
                prev = digest
            else:
                prev = row.hash
        await session.execute(update(head).where(head.c.id == 1).values(hash=prev))


# --- keyed records ---------------------------------------------------------------------------------------------


async def test_every_record_names_its_key_and_the_chain_verifies(platform_db: PlatformDatabase, keys_dir: Path) -> None:
    trail = trail_for(platform_db, keys_dir, InProcessBus())
    await write(platform_db, trail.writer, 1, 5)
    stored = await rows(platform_db)
    assert {r.key_id for r in stored} == {trail.keys.keyring.current_id}
    assert [r.client_request_id for r in stored] == [f"client-{i}" for i in range(1, 6)]
    verdict = await trail.verify()
    assert verdict.intact and verdict.records == 5 and verdict.legacy_records == 0


async def test_rewriting_a_record_and_rehashing_the_rest_is_detected(
    platform_db: PlatformDatabase, keys_dir: Path
) -> None:
    trail = trail_for(platform_db, keys_dir, InProcessBus())
    await write(platform_db, trail.writer, 1, 6)
    # Without the key, the best anyone can do is the plain SHA-256 the chain used to be.
    await rewrite_and_rehash(
        platform_db, 3, "sup.okafor", lambda prev, row, actor: _plain_hash(prev, row, actor_subject=actor)
    )
    verdict = await trail.verify()
    assert not verdict.intact and verdict.broken_at == 3
    assert verdict.reason == "a record's content does not match its hash"


async def test_rewriting_everything_as_unkeyed_records_is_caught_by_the_checkpoint(
    platform_db: PlatformDatabase,
    keys_dir: Path,
    bus: EventBus,
) -> None:
    trail = trail_for(platform_db, keys_dir, bus)
    await write(platform_db, trail.writer, 1, 6)
    await trail.checkpoint()
    audit = platform_db.tables.audit
    async with platform_db.database.session() as session:
        await session.execute(update(audit).values(key_id=None))  # pass the whole chain off as legacy
    await rewrite_and_rehash(
        platform_db, 1, "fsw.0", lambda prev, row, actor: _plain_hash(prev, row, actor_subject=actor)
    )
    verdict = await trail.verify()
    assert not verdict.intact and verdict.broken_at == 6 and verdict.checkpoint_seq == 6
    assert verdict.reason == "the chain differs from its signed checkpoint"


async def test_with_the_key_a_rewrite_below_a_checkpoint_is_still_detected(
    platform_db: PlatformDatabase,
    keys_dir: Path,
    bus: EventBus,
) -> None:
    trail = trail_for(platform_db, keys_dir, bus)
    await write(platform_db, trail.writer, 1, 6)
    assert (await trail.checkpoint()).seq == 6
    keyring = trail.keys.keyring

    def keyed(prev: str, row: object, actor: str) -> str:  # an insider holding the chain key
        from sop_shared.audit import _canonical

        rewritten = AuditEntry(
            **{**{f: getattr(row, f) for f in AuditEntry.__dataclass_fields__}, "actor_subject": actor}
        )
        return keyring.mac(row.key_id, _canonical(prev, row.seq, row.id, row.occurred_at, rewritten, row.key_id))

    await rewrite_and_rehash(platform_db, 2, "sup.okafor", keyed)
    async with platform_db.database.session() as session:
        # the chain alone recomputes: only the checkpoint shows the rewrite
        assert (await trail.writer.verify(session)).intact
    verdict = await trail.verify()
    assert not verdict.intact and verdict.broken_at == 6
    assert verdict.reason == "the chain differs from its signed checkpoint"


async def test_cutting_off_the_tail_below_a_checkpoint_is_detected(
    platform_db: PlatformDatabase,
    keys_dir: Path,
    bus: EventBus,
) -> None:
    trail = trail_for(platform_db, keys_dir, bus)
    await write(platform_db, trail.writer, 1, 8)
    await trail.checkpoint()
    audit, head = platform_db.tables.audit, platform_db.tables.audit_head
    async with platform_db.database.session() as session:
        fifth = (await session.execute(select(audit.c.hash).where(audit.c.seq == 5))).scalar_one()
        await session.execute(delete(audit).where(audit.c.seq > 5))
        await session.execute(update(head).where(head.c.id == 1).values(seq=5, hash=fifth))  # a tidy cut
        assert (await trail.writer.verify(session)).intact  # the chain alone cannot tell
    verdict = await trail.verify()
    assert not verdict.intact and verdict.records == 5 and verdict.broken_at == 6
    assert verdict.checkpoint_seq == 8


async def test_records_after_the_newest_checkpoint_verify(
    platform_db: PlatformDatabase, keys_dir: Path, bus: EventBus
) -> None:
    trail = trail_for(platform_db, keys_dir, bus)
    await write(platform_db, trail.writer, 1, 3)
    await trail.checkpoint()
    assert await trail.checkpoint() is None  # the head did not move: nothing new to publish
    await write(platform_db, trail.writer, 4, 3)
    verdict = await trail.verify()
    assert verdict.intact and verdict.records == 6 and verdict.checkpoint_seq == 3
    await trail.checkpoint()
    assert (await trail.verify()).checkpoint_seq == 6


# --- checkpoints -----------------------------------------------------------------------------------------------


async def test_a_checkpoint_is_published_on_the_components_subject_and_checks_with_the_public_key_alone(
    platform_db: PlatformDatabase,
    keys_dir: Path,
    jetstream: JetStream,
) -> None:
    bus = await jetstream.bus().connect()
    try:
        trail = trail_for(platform_db, keys_dir, bus)
        await write(platform_db, trail.writer, 1, 4)
        published = await trail.checkpoint()
        message = await jetstream.js.get_last_msg(
            jetstream.stream, f"{jetstream.namespace}.{checkpoint_subject(COMPONENT)}"
        )
        data = json.loads(message.data)["data"]
        assert set(data) == {"component", "seq", "head_hash", "at", "key_id", "signature"}
        assert (data["component"], data["seq"]) == (COMPONENT, 4)
        assert data["head_hash"] == (await rows(platform_db))[-1].hash
        # anyone with the published JWKS can check it; nothing else is needed
        public = {str(k.key_id): k.key for k in load_jwks(audit_jwks_file(keys_dir, COMPONENT)).keys}
        assert AuditCheckpoint.from_dict(data).signature_valid(public)
        assert await newest_checkpoint(bus, COMPONENT) == published
    finally:
        await bus.close()


async def test_a_forged_checkpoint_is_refused(platform_db: PlatformDatabase, keys_dir: Path) -> None:
    bus = InProcessBus()
    trail = trail_for(platform_db, keys_dir, bus)
    await write(platform_db, trail.writer, 1, 3)
    real = await trail.checkpoint()
    forged = AuditCheckpoint(COMPONENT, 2, real.head_hash, real.at, real.key_id, real.signature)
    await bus.publish(forged.to_event())
    verdict = await trail.verify()
    assert not verdict.intact
    assert verdict.reason == "the checkpoint's signature does not verify with the component's key"


# --- keys: rotation, legacy records, production --------------------------------------------------------------


async def test_a_rotated_key_keys_new_records_and_the_old_one_still_verifies_old_ones(
    platform_db: PlatformDatabase,
    keys_dir: Path,
) -> None:
    trail = trail_for(platform_db, keys_dir, InProcessBus())
    first_key = trail.keys.keyring.current_id
    await write(platform_db, trail.writer, 1, 3)
    second_key = new_audit_key(audit_keys_dir(keys_dir, COMPONENT))
    rotated = trail_for(platform_db, keys_dir, InProcessBus())
    assert rotated.keys.keyring.current_id == second_key != first_key
    await write(platform_db, rotated.writer, 4, 3)
    assert [r.key_id for r in await rows(platform_db)] == [first_key] * 3 + [second_key] * 3
    assert (await rotated.verify()).intact
    (audit_keys_dir(keys_dir, COMPONENT) / f"{first_key}.key").unlink()  # an old key thrown away too early
    verdict = await trail_for(platform_db, keys_dir, InProcessBus()).verify()
    assert not verdict.intact and verdict.broken_at == 1 and first_key in verdict.reason


async def _legacy_rows(pdb: PlatformDatabase, count: int) -> None:
    """Records as the plain chain wrote them before keys (key id NULL), head included."""
    audit, head = pdb.tables.audit, pdb.tables.audit_head
    prev, occurred_at = GENESIS_HASH, utcnow()
    async with pdb.database.session() as session:
        for seq in range(1, count + 1):
            values = {
                "seq": seq,
                "id": uuid.uuid4(),
                "occurred_at": occurred_at,
                "actor_subject": "fsw.old",
                "actor_type": "staff",
                "client_id": None,
                "case_id": CASE,
                "resource": "case",
                "resource_id": None,
                "action": "read",
                "fields": [],
                "purpose": "case work (free text)",
                "audience": None,
                "request_id": f"old-{seq}",
            }
            digest = _plain_hash(prev, type("Row", (), values)())
            await session.execute(insert(audit).values(**values, prev_hash=prev, hash=digest))
            prev = digest
        await session.execute(insert(head).values(id=1, seq=count, hash=prev))


async def test_records_from_before_keys_verify_as_the_legacy_prefix(
    platform_db: PlatformDatabase, keys_dir: Path
) -> None:
    await _legacy_rows(platform_db, 4)
    trail = trail_for(platform_db, keys_dir, InProcessBus())
    await write(platform_db, trail.writer, 5, 2)
    verdict = await trail.verify()
    assert verdict.intact and verdict.records == 6 and verdict.legacy_records == 4


async def test_an_unkeyed_record_after_keyed_ones_breaks_the_chain(
    platform_db: PlatformDatabase, keys_dir: Path
) -> None:
    trail = trail_for(platform_db, keys_dir, InProcessBus())
    await write(platform_db, trail.writer, 1, 4)
    # A downgrade of the tail only: the keyed records before it give it away.
    await rewrite_and_rehash(
        platform_db, 3, "sup.okafor", lambda prev, row, actor: _plain_hash(prev, row, actor_subject=actor)
    )
    async with platform_db.database.session() as session:
        await session.execute(text("UPDATE audit_record SET key_id = NULL WHERE seq >= 3"))
    verdict = await trail.verify()
    assert not verdict.intact and verdict.broken_at == 3
    assert verdict.reason == "an unkeyed record after keyed ones"


def test_development_generates_the_keys_on_first_start_and_keeps_them(keys_dir: Path) -> None:
    first = load_audit_keys(component=COMPONENT, keys_dir=keys_dir, development=True)
    again = load_audit_keys(component=COMPONENT, keys_dir=keys_dir, development=True)
    assert first.keyring == again.keyring and first.signing_key.kid == again.signing_key.kid
    assert audit_signing_key_file(keys_dir, COMPONENT).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "content",
    [
        "",
        "change-me-change-me-change-me-change-me-change-me-change-me-00",
        "00" * 40,
        "abcd" * 4,
        "not hex at all but long enough to look like a key",
    ],
)
def test_production_refuses_missing_placeholder_and_weak_keys(tmp_path: Path, keys_dir: Path, content: str) -> None:
    with pytest.raises(AuditKeyError, match="AUDIT_KEYS_DIR"):
        load_audit_keys(component=COMPONENT, keys_dir=keys_dir, development=False)
    chain_keys = tmp_path / "chain"
    chain_keys.mkdir()
    (chain_keys / "k1.key").write_text(content)
    load_audit_keys(component="network", keys_dir=keys_dir, development=True)  # any usable signing key
    with pytest.raises(AuditKeyError):
        load_audit_keys(
            component=COMPONENT,
            keys_dir=keys_dir,
            chain_keys_dir=chain_keys,
            signing_key_file=audit_signing_key_file(keys_dir, "network"),
            development=False,
        )


def test_current_names_the_key_new_records_use(tmp_path: Path) -> None:
    directory = tmp_path / "chain"
    older = new_audit_key(directory)
    newer = new_audit_key(directory)
    assert load_audit_keyring(directory).current_id == newer
    (directory / "CURRENT").write_text(older)
    assert load_audit_keyring(directory).current_id == older
    (directory / "CURRENT").write_text("gone")
    with pytest.raises(AuditKeyError, match="gone"):
        load_audit_keyring(directory)


async def test_a_writer_without_keys_refuses_to_write(platform_db: PlatformDatabase) -> None:
    async with platform_db.database.session() as session:
        with pytest.raises(RuntimeError, match="keys"):
            await AuditWriter(platform_db.tables).record(session, entry(1))
        with pytest.raises(ValueError, match="curiosity"):
            await AuditWriter(platform_db.tables, AuditKeyring({"k": bytes(range(32))}, "k")).record(
                session,
                AuditEntry(actor_subject="x", actor_type="staff", resource="case", action="read", purpose="curiosity"),
            )


# --- a service's trail, end to end on JetStream ----------------------------------------------------------------


async def test_a_service_checkpoints_on_jetstream_and_its_verify_endpoint_is_for_auditors_only(
    platform_db: PlatformDatabase,
    tmp_path: Path,
    tokens: InternalTokens,
    nats_url: str,
) -> None:
    bus = await NatsJetStreamBus(
        nats_url, stream=unique_name("sop_audit").upper(), namespace=unique_name("ns")
    ).connect()
    settings = ServiceSettings(
        component=COMPONENT,
        data_dir=tmp_path / "data",
        database_url=platform_db.url,
        internal_jwks_file=tokens.jwks_file,
        relay_enabled=False,
        audit_checkpoint_seconds=0.05,
    )
    app = build_service_app(settings, title="plans", description="", platform=platform_db.tables, routers=[], bus=bus)
    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client,
        ):
            await write(platform_db, app.state.audit, 1, 3)
            for _ in range(100):  # the background checkpointer publishes the new head within its interval
                checkpoint = await newest_checkpoint(bus, COMPONENT)
                if checkpoint is not None and checkpoint.seq == 3:
                    break
                await asyncio.sleep(0.05)
            assert checkpoint is not None and checkpoint.seq == 3
            auditor = tokens.headers(COMPONENT, roles=("auditor",))
            verdict = (await client.get("/v1/audit/verify", headers=auditor)).json()
            assert (verdict["component"], verdict["intact"], verdict["records"], verdict["checkpoint_seq"]) == (
                COMPONENT,
                True,
                3,
                3,
            )
            for roles in (("worker",), ("supervisor",)):
                refused = await client.get("/v1/audit/verify", headers=tokens.headers(COMPONENT, roles=roles))
                assert refused.status_code == 403
            assert (await client.get("/v1/audit/verify")).status_code == 401
            async with platform_db.database.session() as session:  # cut the tail and tidy the head
                await session.execute(text("DELETE FROM audit_record WHERE seq = 3"))
                await session.execute(
                    text("UPDATE audit_chain_head SET seq = 2, hash = (SELECT hash FROM audit_record WHERE seq = 2)")
                )
            verdict = (await client.get("/v1/audit/verify", headers=auditor)).json()
            assert (verdict["intact"], verdict["broken_at"]) == (False, 3)
    finally:
        with contextlib.suppress(Exception):
            await bus._js.delete_stream(bus.stream)
        await bus.close()
