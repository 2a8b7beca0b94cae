"""The case view's one statement numbers in SQL only the families whose order is not their id alone: the others
are sorted by id in Python (a UUID sorts alike there and in the database), which spares PostgreSQL a subquery, a
sort and a window per family on every read. Their order in the view is held by the golden tests."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql

from sop_assessment.case_view.records import BY_ID, READS, _families


def test_only_the_families_not_ordered_by_id_are_numbered_in_sql() -> None:
    assert BY_ID == {"statement", "translation", "goal", "rating", "sdm", "child_voice", "attachment", "trauma"}
    for (agency, internal), view in READS.items():
        numbered = [f for f in _families(agency=agency, internal=internal) if f.order and not f.by_id]
        assert [f.name for f in numbered] == ["rule_link"]
        sql = str(view.statement.compile(dialect=postgresql.dialect()))
        assert sql.count("row_number()") == len(numbered)
