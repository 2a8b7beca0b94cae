"""The public contract under review: each component's OpenAPI document and the gateway's GraphQL schema (SDL),
committed as files (`docs/contract/`). `sop contract check` (and the test suite) fails when the code's
contract differs from the committed one, so every change to what integrators rely on shows up as a diff in
review; `sop contract write` (`make contracts`) brings the files up to date."""

from __future__ import annotations

import difflib
import json
import tempfile
from pathlib import Path

from sop_shared.component import Component, load_components

DEFAULT_DIRECTORY = Path("docs/contract")


def component_contract(component: Component, data_dir: Path) -> dict[str, str]:
    """File name -> text of one component's contract, as the code defines it now."""
    settings = component.settings_class(data_dir=data_dir, environment="test")
    document = component.create_app(settings).openapi()
    files = {f"{component.name}.openapi.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n"}
    if component.graphql_sdl is not None:
        files[f"{component.name}.graphql"] = component.graphql_sdl(settings).rstrip("\n") + "\n"
    return files


def current_contract() -> dict[str, str]:
    """Every installed component's contract (apps are built, not started: nothing is opened or written)."""
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sop-contract-") as data_dir:
        for component in load_components().values():
            files |= component_contract(component, Path(data_dir))
    return files


def write_contract(directory: Path = DEFAULT_DIRECTORY, current: dict[str, str] | None = None) -> list[str]:
    """Write the current contract to `directory`; returns the names of the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in (current_contract() if current is None else current).items():
        path = directory / name
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
    diff: list[str] = []
    for name in sorted(current.keys() | committed.keys()):
        diff += difflib.unified_diff(
            committed.get(name, "").splitlines(keepends=True),
            current.get(name, "").splitlines(keepends=True),
            fromfile=f"committed/{name}",
            tofile=f"code/{name}",
        )
    return "".join(diff)
