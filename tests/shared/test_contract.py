"""The public contract is under review: the committed OpenAPI documents and GraphQL SDL (docs/contract/) are
exactly what the code defines, so a change to what integrators rely on shows up as a diff in review."""

from __future__ import annotations

from pathlib import Path

import pytest

from sop_shared.contract import contract_differences, current_contract, write_contract

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "docs" / "contract"


@pytest.fixture(scope="module")
def code_contract() -> dict[str, str]:
    return current_contract()


def test_the_committed_contract_is_the_codes_contract(code_contract: dict[str, str]) -> None:
    diff = contract_differences(CONTRACT_DIR, code_contract)
    assert not diff, (
        "The public contract changed: review the diff below, run `make contracts`, commit docs/contract/ and say "
        "what changed for integrators in CHANGELOG.md.\n" + diff[:20000]
    )


def test_the_contract_covers_every_component_and_a_change_shows_as_a_diff(
    code_contract: dict[str, str], tmp_path: Path
) -> None:
    files = code_contract
    public = {name for name in files if not Path(name).is_absolute()}
    assert public == {
        "gateway.graphql",
        "gateway.openapi.json",
        "network.openapi.json",
        "assessment.openapi.json",
        "plans.openapi.json",
        "practice.openapi.json",
    }
    # the services' write operations the gateway derives its mutations from, kept in its package
    kept = {Path(name) for name in files} - {Path(name) for name in public}
    assert {(p.parent.name, p.name) for p in kept} == {
        ("upstream", f"{service}.openapi.json") for service in ("network", "assessment", "plans", "practice")
    }
    assert "caseView(" in files["gateway.graphql"]
    write_contract(tmp_path, files)
    assert contract_differences(tmp_path, files) == ""
    sdl = tmp_path / "gateway.graphql"
    sdl.write_text(sdl.read_text(encoding="utf-8").replace("caseView(", "familyView("), encoding="utf-8")
    diff = contract_differences(tmp_path, files)
    assert "committed/gateway.graphql" in diff and "+  caseView(" in diff


def test_every_openapi_document_is_valid_and_tells_the_truth_about_errors_and_auth(
    code_contract: dict[str, str],
) -> None:
    """What a generated client needs (issue 13): a valid document; every error as RFC 9457 problem details (what
    the platform sends); path parameters never nullable; security declared on every operation."""
    import json

    from openapi_spec_validator import validate

    for name, text in code_contract.items():
        if not name.endswith(".openapi.json") or Path(name).is_absolute():
            continue
        document = json.loads(text)
        validate(document)
        schemes = document["components"]["securitySchemes"]
        assert schemes, name
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                where = f"{name} {method.upper()} {path}"
                for status, response in operation["responses"].items():
                    if status[0] in "45":
                        content = response.get("content") or document["components"]["responses"][
                            response["$ref"].rsplit("/", 1)[-1]
                        ].get("content", {})
                        # Only OAuth 2's token endpoint answers its own RFC 6749 format, and says so.
                        own = response.get("x-sop-error-format") == "rfc6749" and path == "/oauth/token"
                        expected = ["application/json"] if own else ["application/problem+json"]
                        assert list(content) == expected, (where, status)
                public = path in {"/healthz", "/readyz", "/oauth/token", "/metrics"}
                assert public or {"401", "404", "422", "503"} <= operation["responses"].keys(), where
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        assert parameter["required"] and "anyOf" not in parameter["schema"], (where, parameter)
                assert operation["security"] == ([] if public else [{s: []} for s in schemes]), where
