"""Fictional cases as SACWIS (CHRIS) sends them to the network service's batch endpoint, for the tests and the
benchmarks that need cases on a worker's caseload (a child each, the worker and a supervisor assigned)."""

from __future__ import annotations

from typing import Any


def case_record(
    n: int,
    *,
    prefix: str = "LOAD",
    digits: int = 3,
    county: str = "Pulaski",
    status: str = "open",
    worker: str = "fsw.rivera",
) -> dict[str, Any]:
    """The `n`th fictional case: external ids `<prefix>-<n>` and `<prefix>-P-<n>` (n with `digits` digits)."""
    number = f"{n:0{digits}d}"
    return {
        "kind": "case",
        "external_id": f"{prefix}-{number}",
        "data": {
            "case_type": "in_home",
            "status": status,
            "county": county,
            "opened_on": "2026-01-02",
            "closed_on": "2026-06-01" if status == "closed" else None,
            "members": [
                {
                    "role": "child",
                    "person": {"external_id": f"{prefix}-P-{number}", "first_name": "Kid", "last_name": f"N{n}"},
                }
            ],
            "assignments": [
                {"staff_subject": worker, "role": "worker"},
                {"staff_subject": "sup.okafor", "role": "supervisor"},
            ],
        },
    }


async def seed_cases(system: Any, records: list[dict[str, Any]]) -> list[str]:
    """Cases as SACWIS sends them, in one batch through the gateway's façade (an embedded system's client)."""
    response = await system.client.post(
        "/api/network/v1/sacwis/batch",
        json={"system": "CHRIS", "records": records},
        headers=system.bearer("sacwis.sync"),
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(r["status"] in ("created", "updated", "unchanged") for r in results), results
    return [r["id"] for r in results]
