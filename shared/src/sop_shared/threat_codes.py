"""SDM safety-threat codes across services: a statement (assessment) and a plan or its rules (plans) may name
only threats of the SDM instruments the assessment service has loaded. The assessment service knows them from
its catalog and announces them (`sop.assessment.sdm_instruments.published`, once per catalog content); the
plans service learns them from that event. Only codes travel; the check is this one function."""

from __future__ import annotations

from collections.abc import Collection, Iterable

INSTRUMENTS_PUBLISHED = "sop.assessment.sdm_instruments.published"
THREATS_SECTION = "threats"  # the instrument section whose item codes are the threat codes


def unknown_threat_codes(fields: Iterable[tuple[str, str | None]], known: Collection[str]) -> list[dict[str, str]]:
    """422 entries (field, message) for each (field, code) whose code no loaded instrument defines. With no
    instrument known yet there is nothing to check against, so nothing is refused."""
    if not known:
        return []
    return [
        {"field": field, "message": f"{code} is not a threat of any loaded SDM instrument; see GET /v1/instruments"}
        for field, code in fields
        if code is not None and code not in known
    ]
