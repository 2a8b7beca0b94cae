"""The `sop` command, run as a separate process: development tokens, keys, migrations, `sop dev` with its demo
family, and `sop serve` for one component."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from sop_shared.dev_identity import DEMO_USERS, DEV_AUDIENCE, DEV_ISSUER
from sop_shared.keys import load_jwks

if TYPE_CHECKING:
    from conftest import Server

Run = Callable[..., Any]
KEY_FILES = ("internal.key.pem", "internal.jwks.json", "dev-issuer.key.pem", "dev-issuer.jwks.json")


def test_token_prints_only_a_jwt_for_the_demo_user(sop: Run, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = sop("token", "fsw.rivera", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stdout == lines[0] + "\n"
    token = lines[0]
    assert len(token.split(".")) == 3
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "fsw.rivera" and claims["roles"] == ["worker"] and claims["sop_actor_type"] == "staff"
    # and it is signed by the development issuer whose keys it created in the data directory
    [key] = load_jwks(data / "keys" / "dev-issuer.jwks.json").keys
    verified = jwt.decode(token, key.key, algorithms=["EdDSA"], audience=DEV_AUDIENCE, issuer=DEV_ISSUER)
    assert verified["sub"] == "fsw.rivera"


def test_token_lifetime_is_honoured(sop: Run, tmp_path: Path) -> None:
    result = sop("token", "sup.okafor", "--data-dir", str(tmp_path / "data"), "--lifetime", "120")
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["sub"] == "sup.okafor" and claims["exp"] - claims["iat"] == 120


def test_token_list_names_every_demo_user(sop: Run) -> None:
    result = sop("token", "--list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert (
        listed
        == [
            "fsw.rivera",
            "sup.okafor",
            "fsw.lindqvist",
            "admin.hughes",
            "audit.byrne",
            "coach.tran",
            "coord.ellis",
            "trainer.moss",
            "lead.park",
            "sacwis.sync",
            "lms.sync",
            "maria.lopez",
            "rosa.delgado",
        ]
        == list(DEMO_USERS)
    )
    assert "NOT assigned" in result.stdout  # descriptions say who is who


def test_token_for_an_unknown_user_fails_and_prints_no_token(sop: Run, tmp_path: Path) -> None:
    result = sop("token", "nobody.here", "--data-dir", str(tmp_path / "data"))
    assert result.returncode != 0
    assert result.stdout == ""
    assert "nobody.here" in result.stderr and "fsw.rivera" in result.stderr


def test_keys_init_twice_keeps_the_same_keys(sop: Run, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = sop("keys", "init", str(keys))
    assert first.returncode == 0, first.stderr
    before = {name: (keys / name).read_bytes() for name in KEY_FILES}
    assert all(before.values())
    second = sop("keys", "init", str(keys))
    assert second.returncode == 0, second.stderr
    assert {name: (keys / name).read_bytes() for name in KEY_FILES} == before
    assert (keys / "internal.key.pem").stat().st_mode & 0o077 == 0  # private keys readable by the owner only
    assert (keys / "dev-issuer.key.pem").stat().st_mode & 0o077 == 0


def test_migrate_all_creates_the_five_sqlite_databases(sop: Run, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = sop("migrate", "all", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    for name in ("network", "assessment", "plans", "practice", "gateway"):
        database = data / f"{name}.db"
        assert database.is_file(), name
        with sqlite3.connect(database) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"alembic_version", "audit_record", "outbox_event"} <= tables, (name, tables)
        assert f"{name}: migrated" in result.stderr
    again = sop("migrate", "all", "--data-dir", str(data))  # idempotent
    assert again.returncode == 0, again.stderr


def test_sop_dev_serves_the_seeded_demo_family(
    sop: Run, start_sop: Callable[..., Server], free_port: Callable[[], int], tmp_path: Path
) -> None:
    data, port = tmp_path / "data", free_port()
    server = start_sop("dev", "--data-dir", str(data), "--port", str(port))
    server.wait_for(lambda: "Demo family's case id" in server.output(), "the demo case id on the banner")
    server.wait_until_answering(f"http://127.0.0.1:{port}/healthz")
    output = server.output()
    assert f"GraphiQL:  http://127.0.0.1:{port}/graphql" in output
    case_id = re.search(r"Demo family's case id: ([0-9a-f-]{36})", output)[1]
    uuid.UUID(case_id)

    token = sop("token", "fsw.rivera", "--data-dir", str(data)).stdout.strip()
    query = (
        "query($id: ID!) { caseView(caseId: $id) { case { recordId county } children { firstName } "
        "caregivers { firstName } worries { danger { text } } safetyPlan { status rules { monitors } } } }"
    )
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": {"id": case_id}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    view = body["data"]["caseView"]
    assert view["case"] == {"recordId": case_id, "county": "Pulaski"}
    assert sorted(c["firstName"] for c in view["children"]) == ["Mateo", "Sofia"]
    assert view["caregivers"] == [{"firstName": "Maria"}]
    assert "Maria drinks" in view["worries"]["danger"][0]["text"]
    assert view["safetyPlan"]["rules"][0]["monitors"] == ["Rosa Delgado"]
    unassigned = sop("token", "fsw.lindqvist", "--data-dir", str(data)).stdout.strip()
    denied = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": {"id": case_id}},
        headers={"Authorization": f"Bearer {unassigned}"},
        timeout=10,
    ).json()
    assert denied["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    server.stop()
    assert server.process.returncode is not None
    for name in ("network", "assessment", "plans", "practice", "gateway"):
        assert (data / f"{name}.db").is_file()


def test_sop_dev_started_again_on_the_same_data_finds_the_same_family(
    start_sop: Callable[..., Server],
    free_port: Callable[[], int],
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    case_ids = []
    for _ in range(2):
        server = start_sop("dev", "--data-dir", str(data), "--port", str(free_port()))
        server.wait_for(lambda s=server: "Demo family's case id" in s.output(), "the demo case id on the banner")
        case_ids.append(re.search(r"Demo family's case id: ([0-9a-f-]{36})", server.output())[1])
        server.stop()
    assert case_ids[0] == case_ids[1]


def test_sop_serve_runs_one_component(
    start_sop: Callable[..., Server], free_port: Callable[[], int], tmp_path: Path
) -> None:
    port = free_port()
    server = start_sop(
        "serve",
        "network",
        "--port",
        str(port),
        env={"SOP_NETWORK_DATA_DIR": str(tmp_path / "data"), "SOP_NETWORK_LOG_JSON": "false"},
    )
    server.wait_until_answering(f"http://127.0.0.1:{port}/healthz")
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"] == "ok"
    # a service, not the gateway: a request without an internal token is refused
    assert httpx.get(f"http://127.0.0.1:{port}/v1/cases/{uuid.uuid4()}", timeout=5).status_code == 401
    assert (tmp_path / "data" / "keys" / "internal.jwks.json").is_file()


def test_an_unknown_component_is_refused(sop: Run) -> None:
    result = sop("serve", "billing")
    assert result.returncode != 0 and "billing" in result.stderr
