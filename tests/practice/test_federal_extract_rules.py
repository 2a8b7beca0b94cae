"""The federal extract as plain functions, on hand-built fictional cases: every data-quality rule names the record
that fails it, the element map is checked when loaded (every element filled from a known field or said why not),
and the CSV and Parquet files carry the same rows."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from sop_practice.outcomes import extract
from sop_practice.outcomes.elements import county_fips, element_map, load_map
from sop_practice.outcomes.extract import CaseFacts, Child, RemovalFacts, ReportFacts

Y2025 = (date(2025, 1, 1), date(2025, 12, 31))


def case(**kwargs: object) -> CaseFacts:
    values: dict[str, object] = {
        "external_id": "C-1",
        "county": "Pulaski",
        "worker": "fsw.rivera",
        "supervisor": "sup.okafor",
        "children": {"P-2": Child("P-2", date(2019, 6, 1))},
    }
    return CaseFacts(**(values | kwargs))  # type: ignore[arg-type]


def report(**kwargs: object) -> ReportFacts:
    values: dict[str, object] = {
        "external_id": "R-1",
        "received_on": date(2025, 3, 1),
        "screened_in": True,
        "investigation_started_on": None,
        "disposition": "true_but_exempted",
        "disposition_on": date(2025, 4, 1),
        "children": (),
    }
    return ReportFacts(**(values | kwargs))  # type: ignore[arg-type]


def run(*cases: CaseFacts) -> extract.Extract:
    out = extract.Extract(element_map(), Y2025)
    for c in cases:
        extract.add_case(out, c)
    return out


def rules_failed(out: extract.Extract) -> set[tuple[str, str, str]]:
    return {(f.rule, f.record, f.field) for f in out.failures}


def test_a_clean_case_fails_no_rule_and_fills_its_elements() -> None:
    removal = RemovalFacts("RM-1", "P-2", date(2025, 3, 5), date(2025, 8, 1), "guardianship")
    out = run(case(reports=[report()], removals=[removal]))
    assert out.failures == []
    [row] = out.rows["ncands_child"]
    assert (row["RPTDISP"], row["CHAGE"], row["FOSTERCR"], row["RMVDATE"]) == ("01", "5", "1", "2025-03-05")
    [row] = out.rows["afcars_foster_care"]
    assert (row["DISREASN"], row["DODFCDT"], row["TOTALREM"], row["RECNUMBR"]) == ("5", "2025-08-01", "1", "P-2")


def test_every_data_quality_rule_names_its_record() -> None:
    removals = [
        RemovalFacts("RM-1", "P-2", date(2018, 1, 1), date(2018, 2, 1), None),  # before birth, no reason
        RemovalFacts("RM-2", "P-2", date(2025, 5, 1), date(2025, 4, 1), "reunification"),  # discharged before
    ]
    out = run(
        case(
            county="Pulasky",
            children={"P-2": Child("P-2", date(2019, 6, 1)), "P-3": Child("P-3", None)},
            reports=[
                report(disposition_on=date(2025, 2, 1)),  # disposition before the report
                report(external_id="R-2", received_on=date(2019, 1, 1), disposition_on=date(2025, 1, 5)),
            ],
            removals=removals,
        )
    )
    assert rules_failed(out) == {
        ("DQ04", "case C-1", "county"),
        ("DQ05", "report R-1", "disposition_on"),
        ("DQ01", "child P-3", "date_of_birth"),
        ("DQ07", "report R-2 child P-2", "date_of_birth"),  # P-2 born 2019-06-01, reported on 2019-01-01
        ("DQ02", "removal RM-1", "removed_on"),
        ("DQ06", "removal RM-1", "discharge_reason"),
        ("DQ03", "removal RM-2", "discharged_on"),
    }
    assert set(extract.RULES) == {f.rule for f in out.failures}  # each rule shown failing once at least
    # no name, no birth date, no words in a failure: ids, rules and field names only
    assert "2019" not in json.dumps([f.row() for f in out.failures])


def test_screened_out_and_undisposed_reports_and_children_not_in_care_are_not_extracted() -> None:
    out = run(
        case(
            reports=[report(screened_in=False), report(external_id="R-2", disposition_on=None)],
            removals=[RemovalFacts("RM-1", "P-2", date(2023, 1, 1), date(2024, 6, 1), "adoption")],
        )
    )
    assert out.rows == {"ncands_child": [], "afcars_foster_care": []} and out.failures == []


def test_the_csv_and_the_parquet_carry_the_same_rows() -> None:
    out = run(case(reports=[report()]), case(external_id="C-2", county=None, reports=[report(external_id="R-9")]))
    files = extract.files_of(out)
    table = pq.read_table(io.BytesIO(files["ncands_child.parquet"][1]))
    text = files["ncands_child.csv"][1].decode("utf-8").splitlines()
    assert text[0].split(",") == table.column_names
    assert len(text) - 1 == table.num_rows == 2
    assert table.column("RPTCNTY").to_pylist() == ["05119", None]  # no county: null in Parquet, empty in CSV
    assert text[2].split(",")[table.column_names.index("RPTCNTY")] == ""


def test_the_element_map_is_checked_when_loaded(tmp_path: Path) -> None:
    doc = json.loads((Path(extract.__file__).parent / "element_maps" / "federal" / "1.json").read_text())
    folder = tmp_path / "federal"
    folder.mkdir()
    for change, message in (
        ({"source": "child.sex", "unfilled": None}, "no field child.sex"),
        ({"source": "child.external_id"}, "one of the two"),  # a source and a reason
        ({"unfilled": None}, "one of the two"),
    ):
        broken = json.loads(json.dumps(doc))
        element = broken["files"][0]["elements"][10]  # CHSEX, not filled
        element.update(change)
        element = {k: v for k, v in element.items() if v is not None}
        broken["files"][0]["elements"][10] = element
        (folder / "1.json").write_text(json.dumps(broken))
        with pytest.raises(ValidationError, match=message):
            load_map(folder / "1.json")
    (folder / "2.json").write_text(json.dumps(doc))  # version 1 in a file named 2
    with pytest.raises(ValueError, match="must match the path"):
        load_map(folder / "2.json")


def test_county_codes() -> None:
    assert county_fips("Pulaski") == "05119" and county_fips("st. francis") == "05123"
    assert county_fips("Saint Francis") == "05123" and county_fips("Hot  Spring") == "05059"
    assert county_fips("Pulasky") is None and county_fips(None) is None
