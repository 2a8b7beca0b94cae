"""CPU per case-view read of the assessment service, the answer built as plain data and serialised once
(`sop_shared.plain_answers`, as the route answers now) against the answer validated through the response models and
serialised by them (as before), in one process, the two ways alternating round by round (not a test).

    .venv/bin/python tests/perf/case_view_answers.py                      # 200 reads per way and round, 7 rounds
    .venv/bin/python tests/perf/case_view_answers.py --reads 300 --rounds 9

The system, the seeding and the calls are `tests/perf/service_case_views.py`'s (the full view's family: the demo
family and 40 more danger statements). "models" puts back what the route did before, on the same read: each
statement and each trajectory validated into its model, the view composed of them, then FastAPI's validation and
`dump_json` through the route's `response_model`. That way also pays for building the plain statements first (about
3 µs a statement, docs/performance.md), so it reads a little high; the two ways' bytes are checked equal first.
(The plans service's case view was tried the same way and left: see docs/performance.md.)"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import Response

PERF_DIR = Path(__file__).resolve().parent
if str(PERF_DIR) not in sys.path:
    sys.path.insert(0, str(PERF_DIR))

import service_case_views  # noqa: E402
from case_views import FULL_VIEW  # noqa: E402
from distributed_system import WORKER  # noqa: E402
from gateway_caseload import drop_databases, postgres_urls  # noqa: E402
from gateway_cpu import gateway_conftest, seed, swap_transports, view  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from sop_assessment.case_view import api as assessment_api  # noqa: E402
from sop_assessment.case_view.schemas import CaseViewStatement  # noqa: E402
from sop_assessment.ratings.schemas import Trajectory  # noqa: E402
from sop_shared.auth import InternalTokenMinter  # noqa: E402
from sop_shared.keys import INTERNAL_KEY_FILE, load_signing_key  # noqa: E402
from sop_shared.observability import configure_logging  # noqa: E402
from sop_shared.plain_answers import json_response  # noqa: E402

SERVICES = ("assessment",)
MODELS = {"way": "plain"}
_statements = TypeAdapter(list[CaseViewStatement])


def assessment_answer(content: Any) -> Any:
    """The case-view route's answer, the way `MODELS` says (other routes' answers as they are)."""
    if MODELS["way"] == "plain" or "statements" not in content:
        return json_response(content)
    (route,) = [r for r in assessment_api.router.routes if getattr(r, "name", "") == "case_view"]
    statements, scale = content["statements"], content["safety_scale"]
    view = {
        **content,
        "statements": {
            **statements,
            "harm": [CaseViewStatement.model_validate(s) for s in statements["harm"]],
            "danger": [CaseViewStatement.model_validate(s) for s in statements["danger"]],
        },
        "safety_scale": {**scale, "trajectory": [Trajectory.model_validate(t) for t in scale["trajectory"]]},
    }
    value, errors = route.response_field.validate(view, {}, loc=("response",))
    assert not errors, errors
    return bytes_response(route.response_field.serialize_json(value))


def bytes_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


async def measure(system: Any, args: argparse.Namespace) -> None:
    case_id = await seed(system, args.preload)
    await system.events_delivered()
    for app in system.services.values():
        app.state.relay.interval_seconds = 3600
    configure_logging("INFO", json_logs=True, stream=open(os.devnull, "w"))
    calls: dict[str, list[httpx.Request]] = {}
    for name, client in system.gateway.state.services.clients.items():
        if name in SERVICES:
            client._transport.inner = service_case_views.Calls(client._transport.inner, name, calls)
    system.forget_access_decisions(ttl_seconds=3600)
    await view(system.client, FULL_VIEW, case_id, system.bearer(WORKER))
    swap_transports(system.gateway, lambda c: c.inner if isinstance(c, service_case_views.Calls) else c)
    minter = InternalTokenMinter(load_signing_key(system.keys_dir / INTERNAL_KEY_FILE))
    names = list(SERVICES)
    clients = {
        n: httpx.AsyncClient(transport=httpx.ASGITransport(app=system.services[n]), base_url=f"http://{n}")
        for n in names
    }
    sent: dict[str, list[tuple[str, dict[str, str], Any, str]]] = {}
    for name in names:
        verifier = system.services[name].state.token_verifier
        for request in calls[name]:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "host")}
            principal = verifier.verify(request.headers["authorization"].split()[1])
            sent.setdefault(name, []).append((request.url.raw_path.decode(), headers, principal, verifier.audience))

    async def reads(name: str, count: int) -> float:
        spent = 0.0
        for done in range(0, count, 20):
            minted = [
                (path, {**headers, "Authorization": f"Bearer {minter.mint(principal, audience=aud)}"})
                for path, headers, principal, aud in sent[name]
            ]
            started = time.process_time()
            for _ in range(min(20, count - done)):
                for path, headers in minted:
                    response = await clients[name].get(path, headers=headers)
            spent += time.process_time() - started
            assert response.status_code == 200, response.text
        return spent * 1000 / count

    async def answers(name: str) -> list[bytes]:
        got = []
        for path, headers, principal, aud in sent[name]:
            token = minter.mint(principal, audience=aud)
            got.append((await clients[name].get(path, headers={**headers, "Authorization": f"Bearer {token}"})).content)
        return got

    assessment_api.json_response = assessment_answer  # type: ignore[assignment]
    for name in names:
        both = {}
        for way in ("plain", "models"):
            MODELS["way"] = way
            await reads(name, args.warmup)
            both[way] = await answers(name)
        assert both["plain"] == both["models"], f"{name}: the two ways answer different bytes"
        print(f"{name}: the two ways answer the same bytes ({', '.join(str(len(b)) for b in both['plain'])} bytes)")
    figures: dict[tuple[str, str], list[float]] = {}
    for n in range(args.rounds):
        for name in names:
            for way in ("plain", "models") if n % 2 == 0 else ("models", "plain"):
                MODELS["way"] = way
                figures.setdefault((name, way), []).append(await reads(name, args.reads))
    print(f"\nCPU ms per case-view read, {args.rounds} rounds of {args.reads}, ways alternating")
    for name in names:
        models, plain = figures[(name, "models")], figures[(name, "plain")]
        paired = statistics.median(p / m for p, m in zip(plain, models, strict=True))
        print(
            f"  {name:11} models {statistics.median(models):6.2f}  plain {statistics.median(plain):6.2f}  "
            f"(x{statistics.median(plain) / statistics.median(models):.3f}; paired x{paired:.3f})"
        )
        print(f"      models: {', '.join(f'{v:.2f}' for v in models)}")
        print(f"      plain:  {', '.join(f'{v:.2f}' for v in plain)}")
    for client in clients.values():
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--preload", type=int, default=40)
    args = parser.parse_args()
    server = os.environ.get("SOP_TEST_POSTGRES_URL")
    if not server:
        raise SystemExit("set SOP_TEST_POSTGRES_URL (a server DSN)")

    async def go() -> None:
        with tempfile.TemporaryDirectory(prefix="sop-case-view-answers-") as tmp:
            urls = await postgres_urls(server)
            configure_logging("WARNING", json_logs=False)
            try:
                async with gateway_conftest.embedded_system(
                    Path(tmp) / "data", urls, production=True, log_level="WARNING"
                ) as system:
                    await measure(system, args)
            finally:
                await drop_databases(server, urls)

    asyncio.run(go())


if __name__ == "__main__":
    main()
