"""`make bench-views` (tests/perf/case_views.py): its options and its machine-readable last line. Nothing here
is timed: the benchmark's figures are read by people, never asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import build_schema, parse, validate

PERF = Path(__file__).resolve().parents[1] / "perf"


@pytest.fixture(scope="module")
def bench() -> Any:
    sys.path.insert(0, str(PERF))
    try:
        spec = importlib.util.spec_from_file_location("bench_case_views", PERF / "case_views.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(PERF))


def test_quick_is_short_and_every_default_can_be_overridden(bench: Any) -> None:
    quick = bench.parse_args(["--quick"])
    assert (quick.rounds, quick.seconds, quick.concurrency) == (2, 1.5, [1, 16, 64])
    full = bench.parse_args([])
    assert (full.rounds, full.seconds, full.drain, full.operations) == (6, 4.0, 30.0, list(bench.OPERATIONS))
    mine = bench.parse_args(["--quick", "--rounds", "3", "--concurrency", "1", "8", "--operations", "caseload page"])
    assert (mine.rounds, mine.concurrency, mine.operations) == (3, [1, 8], ["caseload page"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--concurrency", "0"])


def test_the_last_line_is_machine_readable(bench: Any) -> None:
    line = bench.summary_line(
        cpu_ms_per_view=61.234, gateway_cpu_ms=9.87, vs_peer=None, p50_vs_baseline=1.156, errors=0
    )
    assert line == "bench-views: cpu_ms_per_view=61.2 gateway_cpu_ms=9.9 vs_peer=n/a p50_vs_baseline=1.16 errors=0"
    fields = dict(part.split("=") for part in line.removeprefix("bench-views: ").split())
    assert set(fields) == {"cpu_ms_per_view", "gateway_cpu_ms", "vs_peer", "p50_vs_baseline", "errors"}
    with_peer = bench.summary_line(cpu_ms_per_view=1, gateway_cpu_ms=1, vs_peer=1.5, p50_vs_baseline=1, errors=3)
    assert "vs_peer=1.50" in with_peer and with_peer.endswith("errors=3")


def test_scale_cases_is_off_unless_asked_and_above_the_base(bench: Any) -> None:
    assert bench.parse_args([]).scale_cases == 0
    assert bench.parse_args(["--quick", "--scale-cases", "1000000"]).scale_cases == 1_000_000
    for wrong in ("1000", "20000000"):
        with pytest.raises(SystemExit):
            bench.parse_args(["--scale-cases", wrong])


def test_the_scale_line_gives_each_operation_s_p50_at_the_large_size_over_the_small(bench: Any) -> None:
    cells = {}
    for operation in bench.OPERATIONS:
        for size, seconds in ((1_000, 0.020), (1_000_000, 0.022)):
            cell = bench.Cell(latencies=[seconds, seconds, seconds * 3])
            cell.cpu["network"] = 9.0
            cells[(operation, size)] = cell
    cells[("caseload page", 1_000_000)].latencies = []  # nothing answered: no ratio
    line = bench.scale_report(cells, list(bench.OPERATIONS), (1_000, 1_000_000))
    fields = dict(part.split("=") for part in line.removeprefix("bench-views-scale: ").split())
    assert fields == {"cases": "1000000", "full_caseView": "1.10", "small_caseView": "1.10", "caseload_page": "n/a"}


def test_hot_spots_are_read_from_collapsed_stacks(bench: Any) -> None:
    stacks = (
        "run (asyncio/base_events.py:600);handle (app.py:10);walk (case_view.py:5) 30\n"
        "run (asyncio/base_events.py:600);handle (app.py:10);dumps (json/__init__.py:231) 10\n"
        "run (asyncio/base_events.py:600);select (selectors.py:468) 60\n"
    )
    total, own, inclusive = bench.hot_spots(stacks)
    assert total == 100
    assert own[0] == ("select (selectors.py)", 60)
    assert ("handle (app.py)", 40) in inclusive
    assert all(not name.startswith("run ") for name, _ in inclusive)  # on every stack: left out


# --- (c) the peer gateway (tests/perf/hive_peer.py): its pure parts; the peer itself runs only in the benchmark ---


def test_the_peer_is_pinned_and_installed_outside_the_repository(bench: Any) -> None:
    peer = bench.hive_peer
    pinned = json.loads(peer.PACKAGE.read_text())["dependencies"]
    assert {"@graphql-hive/gateway", "@graphql-mesh/compose-cli", "@omnigraph/openapi"} <= set(pinned)
    assert all(version[0].isdigit() for version in pinned.values())  # exact versions, no ranges
    assert PERF.parents[1] not in peer.cache_dir().parents


def test_without_npm_the_peer_says_why_and_installs_nothing(
    bench: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert bench.hive_peer.install(tmp_path / "cache") == "npm is not installed"
    assert not (tmp_path / "cache").exists()


def test_the_mesh_config_gives_each_service_its_endpoint_prefix_and_own_authorization(bench: Any) -> None:
    peer = bench.hive_peer
    sources = {s: Path(f"/run/{s}.openapi.json") for s in peer.SERVICES}
    endpoints = {s: f"http://127.0.0.1:{9000 + n}" for n, s in enumerate(peer.SERVICES)}
    config = peer.mesh_config(sources, endpoints)
    assert "from '@omnigraph/openapi'" in config and "export const composeConfig = defineConfig(" in config
    for service in peer.SERVICES:
        line = next(x for x in config.splitlines() if f'loadOpenAPISubgraph("{service}"' in x)
        options = json.loads(line.split(f'loadOpenAPISubgraph("{service}", ', 1)[1].removesuffix("),"))
        assert options == {
            "source": f"/run/{service}.openapi.json",
            "endpoint": endpoints[service],
            "operationHeaders": {
                "Authorization": f"{{context.headers.x-sop-{service}-authorization}}",
                "X-SOP-Audience": "staff",
            },
        }
        assert f'createPrefixTransform({{ value: "{service}_", includeRootOperations: true }})' in config


def test_the_peer_asks_each_service_s_view_read_as_its_root_field(bench: Any) -> None:
    peer = bench.hive_peer
    contracts = PERF.parents[1] / "docs" / "contract"
    documents = {s: json.loads((contracts / f"{s}.openapi.json").read_text()) for s in peer.SERVICES}
    fields = peer.root_fields(documents)
    assert fields["network"] == "network_access_get_case_view_slice"
    assert fields["plans"] == "plans_case_view_case_view"
    sdl = """
        scalar UUID
        type Query {
          network_view(case_id: UUID!): network_view_response
          assessment_view(case_id: UUID!, language: String): assessment_AssessmentCaseView
          plans_view(case_id: UUID!, check_ins_first: Int): plans_PlansCaseView
        }
        union network_view_response = network_CaseViewSlice | network_Problem
        type network_Problem { title: String status: Int }
        type network_CaseViewSlice { case: network_Case }
        type network_Case { id: UUID status: String county: String members: [network_Member] }
        type network_Member { id: UUID case: network_Case }
        type assessment_AssessmentCaseView { case_id: UUID statements(first: Int!): [String] language: String }
        type plans_PlansCaseView { safety_plan: plans_Plan }
        type plans_Plan { status: String rules: [plans_Rule] }
        type plans_Rule { id: UUID text: String }
    """
    queries = peer.view_queries(
        build_schema(sdl), {"network": "network_view", "assessment": "assessment_view", "plans": "plans_view"}
    )
    schema = build_schema(sdl)
    assert not validate(schema, parse(queries["full caseView"]))  # valid for the schema
    assert not validate(schema, parse(queries["small caseView"]))
    text = queries["full caseView"]
    assert text.startswith("query($id: UUID!) { network: network_view(case_id: $id) { __typename ")
    assert "... on network_CaseViewSlice { case { id status county members { id } } }" in text  # no re-entry
    assert "... on network_Problem { title status }" in text
    assert 'assessment: assessment_view(case_id: $id, language: "en") { case_id language }' in text  # no statements
    assert "plans: plans_view(case_id: $id) { safety_plan { status rules { id text } } }" in text
    small = queries["small caseView"]
    assert "... on network_CaseViewSlice { case { id status county } }" in small
    assert "assessment" not in small  # the small view reads nothing of it, as the gateway and baseline do


def _gateway_view(**overrides: Any) -> dict[str, Any]:
    view = {
        "case": {"recordId": "c1", "status": "OPEN", "county": "Pulaski"},
        "network": {"members": [{"recordId": "m1", "firstName": "Ana", "lastName": "Cruz"}]},
        "worries": {
            "harm": [{"recordId": "s1", "text": "Sofia was hurt", "language": "en", "originalLanguage": "en"}],
            "danger": [{"recordId": "s2", "text": "Sofia may be hurt", "language": "en", "originalLanguage": "es"}],
        },
        "safetyPlan": {
            "status": "ACTIVE",
            "rules": [{"recordId": "r1", "text": "Ana stays", "language": "en", "originalLanguage": "en"}],
        },
    }
    return {**view, **overrides}


def _peer_data() -> dict[str, Any]:
    return {
        "network": {
            "case": {"id": "c1", "status": "open", "county": "Pulaski"},
            "safety_network": {"members": [{"id": "m1", "person": {"first_name": "Ana", "last_name": "Cruz"}}]},
        },
        "assessment": {
            "statements": {
                "harm": [{"id": "s1", "composed_text": "Sofia was hurt"}],
                "danger": [{"id": "s2", "composed_text": "Sofia puede salir herida"}],  # ours is the translation
            }
        },
        "plans": {"safety_plan": {"status": "active", "rules": [{"id": "r1", "text": "Ana stays"}]}},
    }


def test_the_gateway_and_the_peer_agree_on_what_both_carry(bench: Any) -> None:
    compared, differ = bench.hive_peer.compare(_gateway_view(), _peer_data())
    assert differ == []
    assert "harm statements (1 ids, 1 texts)" in compared
    assert "danger statements (1 ids, 0 texts)" in compared  # shown translated: its id only
    assert {"case.id", "case.status", "case.county", "network members (1)", "safety plan.status"} <= set(compared)


def test_a_difference_or_nothing_in_common_fails_the_peer(bench: Any) -> None:
    peer = bench.hive_peer
    harm = [{"recordId": "s1", "text": "Sofia was hurt badly", "language": "en", "originalLanguage": "en"}]
    _, differ = peer.compare(_gateway_view(worries={"harm": harm}), _peer_data())
    assert len(differ) == 1 and differ[0].startswith("harm statements: gateway")
    missing = _peer_data()
    missing["plans"]["safety_plan"]["rules"] = []
    _, differ = peer.compare(_gateway_view(), missing)
    assert [d.split(":")[0] for d in differ] == ["safety plan.rules"]
    _, differ = peer.compare({"language": "en"}, {"assessment": {"case_id": "c1"}})
    assert differ and differ[0].startswith("nothing to compare")


def test_an_upstream_problem_in_the_peer_s_answer_is_an_error(bench: Any) -> None:
    peer = bench.hive_peer
    ok = {
        "network": {"__typename": "network_CaseViewSlice"},
        "assessment": {"__typename": "assessment_AssessmentCaseView"},
        "plans": {"__typename": "plans_PlansCaseView"},
    }
    assert peer.peer_problem(ok) is None
    refused = {**ok, "plans": {"__typename": "plans_Problem", "status": 403}}
    assert (peer.peer_problem(refused) or "").startswith("plans: ")
    assert peer.peer_problem(None) == "no data"


def test_vs_peer_is_our_throughput_over_the_peer_s(bench: Any) -> None:
    ours, theirs = bench.Cell(latencies=[0.1] * 30, seconds=3.0), bench.Cell(latencies=[0.1] * 20, seconds=4.0)
    assert bench.throughput_ratio(ours, theirs) == pytest.approx(2.0)  # 10/s against 5/s
    assert bench.throughput_ratio(ours, bench.Cell()) is None


def test_the_peer_is_measured_only_where_it_can_answer(bench: Any) -> None:
    without = bench.Bench(None, "c", [], "t", None, None)
    assert without.targets("full caseView") == ["gateway", "baseline"]
    with_peer = bench.Bench(None, "c", [], "t", None, None, peer=bench.hive_peer.RunningPeer("u", None, {}, Path()))
    with_peer.peer.queries = {"full caseView": "{ a }", "small caseView": "{ b }"}
    assert with_peer.targets("full caseView") == ["gateway", "baseline", "peer"]
    assert with_peer.targets("caseload page") == ["gateway", "baseline"]
    assert bench.parse_args(["--no-peer"]).no_peer and not bench.parse_args([]).no_peer


def test_a_graphql_answer_is_its_data_or_why_there_is_none(bench: Any) -> None:
    assert bench.graphql_answer(httpx.Response(200, json={"data": {"a": 1}})) == ({"a": 1}, None)
    assert bench.graphql_answer(httpx.Response(200, json={"data": None, "errors": [{"message": "no"}]})) == (
        None,
        "graphql no",
    )
    assert bench.graphql_answer(httpx.Response(502, text="bad gateway")) == (None, "http 502 bad gateway")


def test_the_components_run_on_the_images_dependencies(bench: Any) -> None:
    """`make bench-views` runs the components in an environment synced as deploy/Dockerfile syncs the image (no
    development group: no Rich for structlog to import), so the RSS it prints is the image's."""
    assert bench.parse_args([]).components_python is None  # run by hand: this interpreter, as before
    root = PERF.parents[1]
    target = (root / "Makefile").read_text().split("\nbench-views:", 1)[1].split("\n\n", 1)[0]
    assert "UV_PROJECT_ENVIRONMENT=.venv-image $(UV) sync --frozen --no-dev" in target
    assert "--components-python .venv-image/bin/python" in target
    assert "uv sync --frozen --no-dev" in (root / "deploy" / "Dockerfile").read_text()
