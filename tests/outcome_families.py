"""Seven fictional families SACWIS sends with their reports and removals (issue 15, part 5): the network's tests
send them through the batch, the practice service's receive them as the network announces them."""

from __future__ import annotations

from typing import Any


def family(n: int, *, county: str = "Pulaski", **extra: Any) -> dict[str, Any]:
    """A fictional family closed in 2025: a report in December 2024, a repeat in June 2025, one child removed in
    January and home in April (90 days)."""
    return {
        "case_type": "in_home",
        "status": "closed",
        "county": county,
        "opened_on": "2024-12-02",
        "closed_on": "2025-05-01",
        "members": [
            {
                "role": "caregiver",
                "relationship_to_children": "mother",
                "person": {"external_id": f"P-{n}-1", "first_name": "Ana", "last_name": f"Fam{n}"},
            },
            {
                "role": "child",
                "relationship_to_children": "daughter",
                "person": {
                    "external_id": f"P-{n}-2",
                    "first_name": "Lia",
                    "last_name": f"Fam{n}",
                    "date_of_birth": "2018-05-05",
                },
            },
        ],
        "assignments": [
            {"staff_subject": "fsw.rivera", "role": "worker", "unit": "Pulaski-3"},
            {"staff_subject": "sup.okafor", "role": "supervisor", "unit": "Pulaski-3"},
        ],
        "reports": [
            {
                "external_id": f"R-{n}-1",
                "received_on": "2024-12-01",
                "investigation_started_on": "2024-12-02",
                "disposition": "true",
                "disposition_on": "2025-01-10",
            },
            {
                "external_id": f"R-{n}-2",
                "received_on": "2025-06-01",
                "disposition": "unsubstantiated",
                "disposition_on": "2025-07-01",
            },
        ],
        "removals": [
            {
                "external_id": f"RM-{n}-1",
                "child": f"P-{n}-2",
                "removed_on": "2025-01-15",
                "discharged_on": "2025-04-15",
                "discharge_reason": "reunification",
            }
        ],
        **extra,
    }


def record(n: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "case", "external_id": f"C-{n}", "data": data}


def families() -> list[dict[str, Any]]:
    """Six families of Pulaski-3; the sixth's discharge is dated before its removal and its child has no birth
    date; a seventh, in a county SACWIS misspelt, has a child removed before being born (both fictional errors)."""
    records = [record(n, family(n)) for n in range(1, 6)]
    sixth = family(6)
    del sixth["members"][1]["person"]["date_of_birth"]
    sixth["removals"][0].update(removed_on="2025-02-01", discharged_on="2025-01-20")
    records.append(record(6, sixth))
    seventh = family(7, county="Pulasky")
    seventh["removals"][0].update(removed_on="2018-01-01", discharged_on=None, discharge_reason=None)
    records.append(record(7, seventh))
    return records
