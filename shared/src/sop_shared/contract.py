"""The public contract under review: each component's OpenAPI document and the gateway's GraphQL schema (SDL),
committed as files (`docs/contract/`). `sop contract check` (and the test suite) fails when the code's
contract differs from the committed one, so every change to what integrators rely on shows up as a diff in
review; `sop contract write` (`make contracts`) brings the files up to date."""

from __future__ import annotations

import difflib
import json
import tempfile
from pathlib import Path
from typing import Any

from sop_shared.component import Component, load_components

DEFAULT_DIRECTORY = Path("docs/contract")
DERIVED_METHODS = ("get", "post", "put", "patch", "delete")


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


KEPT_OPERATION_KEYS = ("operationId", "summary", "tags", "description", "deprecated", "parameters", "requestBody")


def operation_contract(document: dict[str, Any]) -> dict[str, Any]:
    """What a caller of a service relies on: each operation's id, tags, parameters, request body and success
    answers (the other statuses by number only), and every schema they reference. The gateway derives its
    mutations and lists, and its REST façade's paths, from this (`Component.upstream_contracts`)."""
    paths: dict[str, Any] = {}
    for path, operations in document["paths"].items():
        kept = {}
        for method, operation in operations.items():
            if method not in DERIVED_METHODS:
                continue
            kept[method] = {
                **{k: operation[k] for k in KEPT_OPERATION_KEYS if k in operation},
                "responses": {
                    status: response if status.startswith("2") else {}
                    for status, response in operation["responses"].items()
                },
            }
        if kept:
            paths[path] = kept
    schemas = document.get("components", {}).get("schemas", {})
    needed: dict[str, Any] = {}
    pending = [paths]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in needed:
                    needed[name] = schemas[name]
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return {"paths": paths, "components": {"schemas": dict(sorted(needed.items()))}}


def component_contract(
    component: Component, data_dir: Path, upstream: dict[str, dict[str, Any]] | None = None
) -> dict[str, str]:
    """File name -> text of one component's contract, as the code defines it now. A component that derives
    from the services' writes (`upstream_contracts`) gets them from `upstream` and keeps them under that
    folder: those files are named by their absolute path."""
    settings = component.settings_class(data_dir=data_dir, environment="test")
    if component.openapi is not None:
        document = component.openapi(settings, upstream)
    else:
        document = component.create_app(settings).openapi()
    files = {f"{component.name}.openapi.json": _text(document)}
    if component.upstream_contracts is not None and upstream is not None:
        for name, operations in upstream.items():
            files[str(component.upstream_contracts / f"{name}.openapi.json")] = _text(operations)
    if component.graphql_sdl is not None:
        files[f"{component.name}.graphql"] = component.graphql_sdl(settings, upstream).rstrip("\n") + "\n"
    return files


def current_contract() -> dict[str, str]:
    """Every installed component's contract (apps are built, not started: nothing is opened or written). The
    services come first: the gateway's mutations are derived from their writes as the code defines them now."""
    files: dict[str, str] = {}
    upstream: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sop-contract-") as data_dir:
        components = load_components().values()
        for component in (c for c in components if c.kind == "service"):
            files |= component_contract(component, Path(data_dir))
            upstream[component.name] = operation_contract(json.loads(files[f"{component.name}.openapi.json"]))
        for component in (c for c in components if c.kind != "service"):
            files |= component_contract(component, Path(data_dir), upstream)
    return files


def write_contract(directory: Path = DEFAULT_DIRECTORY, current: dict[str, str] | None = None) -> list[str]:
    """Write the current contract to `directory`; returns the names of the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in (current_contract() if current is None else current).items():
        path = directory / name  # an absolute name stays itself (a file a component keeps in its package)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def contract_differences(directory: Path = DEFAULT_DIRECTORY, current: dict[str, str] | None = None) -> str:
    """A unified diff from the committed contract in `directory` to the code's (`current`, else built now);
    empty when they agree."""
    current = current_contract() if current is None else current
    committed = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*")) if p.is_file()}
    committed.pop("README.md", None)
    for name in current:
        kept = Path(name)
        if kept.is_absolute():  # a file a component keeps in its package (upstream_contracts)
            committed[name] = kept.read_text(encoding="utf-8") if kept.exists() else ""
    diff: list[str] = []
    for name in sorted(current.keys() | committed.keys()):
        diff += difflib.unified_diff(
            committed.get(name, "").splitlines(keepends=True),
            current.get(name, "").splitlines(keepends=True),
            fromfile=f"committed/{name}",
            tofile=f"code/{name}",
        )
    return "".join(diff)
