"""CPU per case-view read in the assessment service (not a test): the golden test's populated fictional case,
read N times by each audience on PostgreSQL, in process, with `time.process_time()`.

    .venv/bin/python tests/perf/assessment_case_view.py            # 300 reads per audience
    .venv/bin/python tests/perf/assessment_case_view.py --reads 1000

Two figures per audience: the whole request (ASGI, auth, the read, the audit append, JSON; the in-process
HTTP client's share included) and the read alone (`assessment_case_view` on a session, no HTTP, no audit),
with the SQL statements one read sends. To compare builds, run it on each, one after the other, on the same
machine (docs/performance.md). PostgreSQL: $SOP_BENCH_POSTGRES_URL or $SOP_TEST_POSTGRES_URL, else a
throwaway pgserver; a fresh database is made and dropped."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS_DIR / "assessment"), str(TESTS_DIR)]

import real_services  # noqa: E402
from conftest import MARIA_DANGER_STATEMENT, MARIA_HARM_STATEMENT  # noqa: E402
from query_counting import counted_queries  # noqa: E402
from test_case_view_golden import populate, readers  # noqa: E402

from sop_assessment.case_view.service import assessment_case_view  # noqa: E402
from sop_assessment.component import component  # noqa: E402
from sop_assessment.sdm.service import catalog_of  # noqa: E402
from sop_shared.auth import request_audience  # noqa: E402
from sop_shared.ids import new_id  # noqa: E402
from sop_shared.testing import InternalTokens, run_component  # noqa: E402


async def main(reads: int) -> None:
    server = os.environ.get("SOP_BENCH_POSTGRES_URL") or real_services.postgres_admin_url()
    db = await real_services.create_test_database(server, prefix="bench_assessment")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tokens = InternalTokens(Path(tmp) / "keys")
            async with run_component(
                component,
                database_url=db.url,
                tokens=tokens,
                data_dir=Path(tmp),
                relay_enabled=False,
                log_level="WARNING",
            ) as svc:
                case_id = new_id()
                rivera = tokens.headers("assessment", case_id=case_id)
                made = await populate(svc, case_id, rivera, dict(MARIA_DANGER_STATEMENT), dict(MARIA_HARM_STATEMENT))
                print(f"{'audience':10s} {'request ms CPU':>15s} {'read ms CPU':>12s} {'statements':>11s}")
                opened = uuid.UUID(made["harm"]["id"])
                for audience in readers(tokens, case_id, opened):
                    headers, language = readers(tokens, case_id, opened)[audience]  # fresh: tokens live briefly
                    url = f"/v1/cases/{case_id}/case-view"
                    for _ in range(20):  # warm up: caches, compiled statements, pool
                        await svc.client.get(url, headers=headers, params={"language": language})
                    with counted_queries(svc) as seen:
                        await svc.client.get(url, headers=headers, params={"language": language})
                    spent = 0.0
                    for done in range(0, reads, 20):  # a fresh token every 20 reads, minted off the clock
                        headers = readers(tokens, case_id, opened)[audience][0]
                        started = time.process_time()
                        for _ in range(min(20, reads - done)):
                            response = await svc.client.get(url, headers=headers, params={"language": language})
                        spent += time.process_time() - started
                    request_ms = spent * 1000 / reads
                    assert response.status_code == 200, response.text
                    principal = svc.app.state.token_verifier.verify(headers["Authorization"].split()[1])
                    view_audience = request_audience(principal, None)
                    async with svc.app.state.database.session() as session:
                        started = time.process_time()
                        for _ in range(reads):
                            await assessment_case_view(
                                session,
                                case_id=case_id,
                                audience=view_audience,
                                language=language,
                                catalog=catalog_of(svc.app),
                                now=datetime.now(UTC),
                                sharing=principal.network_sharing,
                                reader=principal.person_id,
                            )
                        read_ms = (time.process_time() - started) * 1000 / reads
                    print(f"{audience:10s} {request_ms:15.2f} {read_ms:12.2f} {len(seen):11d}", flush=True)
    finally:
        await real_services.drop_database(server, db.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=300)
    asyncio.run(main(parser.parse_args().reads))
