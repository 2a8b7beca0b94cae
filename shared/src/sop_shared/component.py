"""Components register themselves through the `sop.components` entry point group; sop_shared names none."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from sqlalchemy import MetaData

from sop_shared.settings import ComponentSettings


@dataclass(frozen=True)
class Component:
    name: str
    kind: Literal["service", "gateway"]
    default_port: int
    settings_class: type[ComponentSettings]
    create_app: Callable[..., FastAPI]
    metadata: MetaData
    package: str  # the package holding migrations/
    # Gateway only: seeds the demo family through the public API once everything is running.
    seed_demo: Callable[[FastAPI], Awaitable[Any]] | None = None
    # Gateway only: its GraphQL schema as SDL, for the committed contract (sop_shared.contract), given the
    # services' operations it derives its mutations and lists from (None: the ones it keeps).
    graphql_sdl: Callable[[Any, dict[str, Any] | None], str] | None = None
    # Gateway only: the folder in its package where `sop contract write` keeps each service's operations
    # (sop_shared.contract.operation_contract), which its GraphQL mutations and lists are derived from.
    upstream_contracts: Path | None = None
    # Gateway only: its OpenAPI document given the services' operations its REST façade describes (None: the
    # ones it keeps); without it the contract is `create_app(settings).openapi()`.
    openapi: Callable[[Any, dict[str, Any] | None], dict[str, Any]] | None = None


def load_components() -> dict[str, Component]:
    found: dict[str, Component] = {}
    for ep in entry_points(group="sop.components"):
        component = ep.load()
        found[component.name] = component
    order = {"network": 0, "assessment": 1, "plans": 2, "practice": 3, "gateway": 4}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], 99)))


def load_component(name: str) -> Component:
    for ep in entry_points(group="sop.components", name=name):
        component: Component = ep.load()
        return component
    installed = ", ".join(ep.name for ep in entry_points(group="sop.components"))
    raise LookupError(f"unknown component {name!r}; installed: {installed}")
