"""The federal element map as data: which NCANDS child-file and AFCARS foster-care elements the platform fills, from
which of its fields, and why it cannot fill the others. A map lives at `element_maps/<key>/<version>.json` (its key
and version must match the path), like the SDM instruments: a new version is a new file, and an extract records
the version it used."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKAGED_DIR = Path(__file__).parent / "element_maps"
DEFAULT_MAP = ("federal", 1)
COUNTIES_FILE = Path(__file__).parent / "data" / "arkansas_counties.json"

# The platform's fields an element may be filled from, per kind of record (see `extract.py`).
SOURCES: dict[str, frozenset[str]] = {
    "report_child": frozenset(
        {
            "extract.year",
            "report.external_id",
            "report.received_on",
            "report.investigation_started_on",
            "report.disposition",
            "report.disposition_on",
            "child.external_id",
            "child.age_at_report",
            "child.removed_after_report",
            "child.removal_after_report",
            "case.county_fips",
            "case.worker",
            "case.supervisor",
        }
    ),
    "foster_care_child": frozenset(
        {
            "extract.state_fips",
            "extract.period_end",
            "case.county_fips",
            "child.external_id",
            "child.date_of_birth",
            "child.total_removals",
            "child.first_removed_on",
            "child.previous_discharged_on",
            "removal.removed_on",
            "removal.discharged_on",
            "removal.discharge_reason",
        }
    ),
}


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Element(_Schema):
    element: str = Field(pattern=r"^[A-Z0-9_]{1,20}$")
    label: str = Field(min_length=1, max_length=200)
    source: str | None = None  # the platform's field; None: not filled
    unfilled: str | None = Field(default=None, max_length=500)  # why the platform cannot fill it
    codes: dict[str, str] | None = None  # the platform's value -> the federal code

    @model_validator(mode="after")
    def _filled_or_why_not(self) -> Element:
        if (self.source is None) == (self.unfilled is None):
            raise ValueError(f"{self.element}: give a source or the reason it is not filled, one of the two")
        return self


class FileSpec(_Schema):
    name: Literal["ncands_child", "afcars_foster_care"]
    title: str
    record: Literal["report_child", "foster_care_child"]
    record_means: str
    elements: tuple[Element, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _known_sources(self) -> FileSpec:
        names = [e.element for e in self.elements]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: an element appears twice")
        unknown = sorted(e.source for e in self.elements if e.source and e.source not in SOURCES[self.record])
        if unknown:
            raise ValueError(f"{self.name}: the platform has no field {', '.join(unknown)} for a {self.record}")
        return self


class ElementMap(_Schema):
    key: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    version: int = Field(ge=1)
    title: str
    note: str
    files: tuple[FileSpec, ...] = Field(min_length=1)

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"

    def unfilled(self) -> list[dict[str, str]]:
        """Every element the platform cannot fill, with why."""
        return [
            {"file": f.name, "element": e.element, "label": e.label, "reason": e.unfilled or ""}
            for f in self.files
            for e in f.elements
            if e.source is None
        ]


def load_map(path: Path) -> ElementMap:
    found = ElementMap.model_validate(json.loads(path.read_text(encoding="utf-8")))
    if (found.key, str(found.version)) != (path.parent.name, path.stem):
        raise ValueError(f"{path}: key and version must match the path")
    return found


@cache
def element_map(key: str = DEFAULT_MAP[0], version: int = DEFAULT_MAP[1]) -> ElementMap:
    return load_map(PACKAGED_DIR / key / f"{version}.json")


@cache
def county_codes() -> tuple[str, dict[str, str]]:
    """(the state's FIPS code, each county's name -> its FIPS code)."""
    doc = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))
    return doc["state_fips"], dict(doc["counties"])


def county_fips(county: str | None) -> str | None:
    """A county's FIPS code, by its name as SACWIS writes it (any case, `St.`/`Saint`); None when unknown."""
    if county is None:
        return None
    wanted = " ".join(county.replace("Saint ", "St. ").split()).casefold()
    return next((code for name, code in county_codes()[1].items() if name.casefold() == wanted), None)
