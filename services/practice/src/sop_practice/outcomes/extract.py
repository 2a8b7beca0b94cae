"""The federal extract as plain functions: a case's records (its reports, removals, children and staff) become rows
of the NCANDS child file and the AFCARS foster care file through the element map, each record checked against the
data-quality rules. Records are extracted as SACWIS holds them; a failure is listed (with its rule's id) so it is
fixed at the source, never corrected here. Only ids, dates and codes: no names, no words."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sop_practice.outcomes.elements import ElementMap, FileSpec, county_codes, county_fips

# The data-quality rules, by id: what each checks.
RULES: dict[str, str] = {
    "DQ01": "a child has no date of birth",
    "DQ02": "a removal is dated before the child's birth",
    "DQ03": "a discharge is dated before its removal",
    "DQ04": "the case's county is not a known Arkansas county",
    "DQ05": "a report's disposition is dated before the report",
    "DQ06": "a discharge has no reason",
    "DQ07": "a child was born after the report about them",
}


@dataclass(frozen=True)
class Child:
    external_id: str
    date_of_birth: date | None


@dataclass(frozen=True)
class ReportFacts:
    external_id: str
    received_on: date
    screened_in: bool
    investigation_started_on: date | None
    disposition: str | None
    disposition_on: date | None
    children: Sequence[str]  # SACWIS person ids; empty: every child of the case


@dataclass(frozen=True)
class RemovalFacts:
    external_id: str
    child: str
    removed_on: date
    discharged_on: date | None
    discharge_reason: str | None


@dataclass(frozen=True)
class CaseFacts:
    external_id: str
    county: str | None
    worker: str | None
    supervisor: str | None
    children: dict[str, Child]  # SACWIS person id -> child
    reports: Sequence[ReportFacts] = ()
    removals: Sequence[RemovalFacts] = ()


@dataclass(frozen=True)
class Failure:
    rule: str
    file: str
    record: str
    case: str
    field: str

    def row(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "rule_means": RULES[self.rule],
            "file": self.file,
            "record": self.record,
            "case": self.case,
            "field": self.field,
        }


@dataclass
class Extract:
    """The rows of each file and every failure, added to case after case."""

    map: ElementMap
    period: tuple[date, date]
    rows: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    _seen: set[Failure] = field(default_factory=set)

    def __post_init__(self) -> None:
        for spec in self.map.files:
            self.rows.setdefault(spec.name, [])

    def fail(self, rule: str, file: str, record: str, case: CaseFacts, field_name: str) -> None:
        failure = Failure(rule, file, record, case.external_id, field_name)
        if failure not in self._seen:  # a record is named once per rule and field (a child in two reports once)
            self._seen.add(failure)
            self.failures.append(failure)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _years(born: date | None, on: date) -> str | None:
    if born is None or born > on:
        return None
    return str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def _row(spec: FileSpec, values: dict[str, Any]) -> dict[str, str | None]:
    row: dict[str, str | None] = {}
    for e in spec.elements:
        value = values.get(e.source) if e.source else None
        if value is not None and e.codes is not None:
            value = e.codes.get(str(value))
        row[e.element] = None if value is None else str(value)
    return row


def _check_case(out: Extract, case: CaseFacts, file: str) -> None:
    if county_fips(case.county) is None:
        out.fail("DQ04", file, f"case {case.external_id}", case, "county")


def _check_child(out: Extract, case: CaseFacts, child: Child, file: str) -> None:
    if child.date_of_birth is None:
        out.fail("DQ01", file, f"child {child.external_id}", case, "date_of_birth")


def _check_removal(out: Extract, case: CaseFacts, removal: RemovalFacts, child: Child | None, file: str) -> None:
    record = f"removal {removal.external_id}"
    if child is not None and child.date_of_birth is not None and removal.removed_on < child.date_of_birth:
        out.fail("DQ02", file, record, case, "removed_on")
    if removal.discharged_on is not None and removal.discharged_on < removal.removed_on:
        out.fail("DQ03", file, record, case, "discharged_on")
    if removal.discharged_on is not None and removal.discharge_reason is None:
        out.fail("DQ06", file, record, case, "discharge_reason")


def _in(day: date | None, period: tuple[date, date]) -> bool:
    return day is not None and period[0] <= day <= period[1]


def add_case(out: Extract, case: CaseFacts) -> None:
    """The case's rows in each file, and its records' failures."""
    for spec in out.map.files:
        if spec.record == "report_child":
            _report_children(out, spec, case)
        else:
            _foster_care_children(out, spec, case)


def _report_children(out: Extract, spec: FileSpec, case: CaseFacts) -> None:
    reports = [r for r in case.reports if r.screened_in and _in(r.disposition_on, out.period)]
    if reports:
        _check_case(out, case, spec.name)
    for report in sorted(reports, key=lambda r: (r.received_on, r.external_id)):
        if report.disposition_on is not None and report.disposition_on < report.received_on:
            out.fail("DQ05", spec.name, f"report {report.external_id}", case, "disposition_on")
        for child_id in report.children or sorted(case.children):
            child = case.children.get(child_id, Child(child_id, None))
            _check_child(out, case, child, spec.name)
            if child.date_of_birth is not None and child.date_of_birth > report.received_on:
                out.fail("DQ07", spec.name, f"report {report.external_id} child {child_id}", case, "date_of_birth")
            after = sorted(
                (v for v in case.removals if v.child == child_id and v.removed_on >= report.received_on),
                key=lambda v: v.removed_on,
            )
            values = {
                "extract.year": out.period[1].year,
                "report.external_id": report.external_id,
                "report.received_on": _iso(report.received_on),
                "report.investigation_started_on": _iso(report.investigation_started_on),
                "report.disposition": report.disposition,
                "report.disposition_on": _iso(report.disposition_on),
                "child.external_id": child_id,
                "child.age_at_report": _years(child.date_of_birth, report.received_on),
                "child.removed_after_report": "yes" if after else "no",
                "child.removal_after_report": _iso(after[0].removed_on) if after else None,
                "case.county_fips": county_fips(case.county),
                "case.worker": case.worker,
                "case.supervisor": case.supervisor,
            }
            out.rows[spec.name].append(_row(spec, values))


def _foster_care_children(out: Extract, spec: FileSpec, case: CaseFacts) -> None:
    start, end = out.period
    by_child: dict[str, list[RemovalFacts]] = {}
    for removal in case.removals:
        by_child.setdefault(removal.child, []).append(removal)
    checked_case = False
    for child_id in sorted(by_child):
        removals = sorted((v for v in by_child[child_id] if v.removed_on <= end), key=lambda v: v.removed_on)
        in_care = [v for v in removals if v.discharged_on is None or v.discharged_on >= start]
        if not in_care:
            continue
        if not checked_case:
            _check_case(out, case, spec.name)
            checked_case = True
        child = case.children.get(child_id, Child(child_id, None))
        _check_child(out, case, child, spec.name)
        for removal in removals:
            _check_removal(out, case, removal, child, spec.name)
        latest = removals[-1]
        previous = removals[-2] if len(removals) > 1 else None
        values = {
            "extract.state_fips": county_codes()[0],
            "extract.period_end": end.isoformat(),
            "case.county_fips": county_fips(case.county),
            "child.external_id": child_id,
            "child.date_of_birth": _iso(child.date_of_birth),
            "child.total_removals": len(removals),
            "child.first_removed_on": _iso(removals[0].removed_on),
            "child.previous_discharged_on": _iso(previous.discharged_on) if previous else None,
            "removal.removed_on": _iso(latest.removed_on),
            "removal.discharged_on": _iso(latest.discharged_on) if _in(latest.discharged_on, out.period) else None,
            "removal.discharge_reason": latest.discharge_reason if _in(latest.discharged_on, out.period) else None,
        }
        out.rows[spec.name].append(_row(spec, values))


# --- the files ----------------------------------------------------------------------------------------------


def csv_bytes(columns: Sequence[str], rows: Sequence[Mapping[str, str | None]]) -> bytes:
    """UTF-8 CSV with a header; an element with no value is an empty field."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue().encode("utf-8")


def parquet_bytes(columns: Sequence[str], rows: Sequence[dict[str, str | None]]) -> bytes:
    """The same rows as Parquet: every column a string (the federal codes and ISO dates as in the CSV), an
    element with no value a null."""
    # Imported here, not with the module: pyarrow costs every network process about 40 MB of memory, and only an
    # extract job writes Parquet.
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c, pa.string(), nullable=True) for c in columns])
    table = pa.Table.from_pydict({c: [row.get(c) for row in rows] for c in columns}, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


FAILURE_COLUMNS = ("rule", "rule_means", "file", "record", "case", "field")
UNFILLED_COLUMNS = ("file", "element", "label", "reason")


def files_of(out: Extract) -> dict[str, tuple[str, bytes]]:
    """Each file's name -> (media type, bytes): each federal file as CSV and Parquet, the elements not filled and
    the data-quality failures as CSV, and a JSON summary."""
    found: dict[str, tuple[str, bytes]] = {}
    for spec in out.map.files:
        columns = [e.element for e in spec.elements]
        found[f"{spec.name}.csv"] = ("text/csv", csv_bytes(columns, out.rows[spec.name]))
        found[f"{spec.name}.parquet"] = ("application/vnd.apache.parquet", parquet_bytes(columns, out.rows[spec.name]))
    found["unfilled_elements.csv"] = ("text/csv", csv_bytes(UNFILLED_COLUMNS, out.map.unfilled()))
    found["data_quality.csv"] = ("text/csv", csv_bytes(FAILURE_COLUMNS, [f.row() for f in out.failures]))
    found["report.json"] = ("application/json", json.dumps(summary(out), indent=2).encode("utf-8"))
    return found


def summary(out: Extract) -> dict[str, Any]:
    by_rule: dict[str, int] = {}
    for f in out.failures:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    return {
        "element_map": out.map.ref,
        "period": {"from": out.period[0].isoformat(), "to": out.period[1].isoformat()},
        "rows": {name: len(rows) for name, rows in out.rows.items()},
        "unfilled_elements": out.map.unfilled(),
        "data_quality_rules": RULES,
        "failures_by_rule": dict(sorted(by_rule.items())),
        "failures": [f.row() for f in out.failures],
    }
