"""(c) the peer gateway of `make bench-views`: Hive Gateway serving a supergraph that Mesh Compose makes from the
three services' OpenAPI documents, in front of the same running services.

- Installed with npm from the npm registry into a cache folder outside the repository (`~/.cache/sop-bench/hive`,
  or `$SOP_BENCH_CACHE/hive`), at the versions pinned in tests/perf/hive/package.json; reused while that file is
  unchanged. No npm, or a failed install, and the benchmark goes on without the peer.
- Composed per run: each service's OpenAPI document (the running service's `/openapi.json`, else the committed
  `docs/contract/<service>.openapi.json`) is one subgraph, with the service's URL as its endpoint, its type and
  root field names prefixed with the service's name, and its upstream `Authorization` taken from a request
  header of its own (`x-sop-<service>-authorization`): the client sends the internal token each service needs,
  minted as the no-gateway baseline mints them, and `X-SOP-Audience: staff` is sent as the baseline sends it.
- Served by `hive-gateway supergraph` as one process (`--fork 1`); the benchmark reads its CPU from /proc like the
  other processes'.

The views asked of it read what the baseline reads: the network slice, the assessment case view in English and
the plans case view, as three root fields of one GraphQL operation (Hive calls them in parallel, as our gateway
does once its access cache holds the case). Before it is measured, its answers are checked against our
gateway's for what both carry (`differences`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_abstract_type,
    is_required_argument,
)

PACKAGE = Path(__file__).resolve().parent / "hive" / "package.json"
SERVICES = ("network", "assessment", "plans")
# The reads of a case view, per service: (path, method) in its OpenAPI document, and its 200 answer's schema.
VIEW_READS = {
    "network": ("/v1/cases/{case_id}/view", "get", "CaseViewSlice"),
    "assessment": ("/v1/cases/{case_id}/case-view", "get", "AssessmentCaseView"),
    "plans": ("/v1/cases/{case_id}/case-view", "get", "PlansCaseView"),
}
AUDIENCE = "staff"


def cache_dir() -> Path:
    """Where the peer is installed: outside the repository, reused between runs."""
    base = os.environ.get("SOP_BENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sop-bench"
    )
    return Path(base) / "hive"


def binaries(cache: Path) -> dict[str, Path]:
    return {name: cache / "node_modules" / ".bin" / name for name in ("mesh-compose", "hive-gateway")}


def install(cache: Path, timeout: float = 900) -> str | None:
    """Install the pinned packages into `cache` with npm, unless they are there already. None when ready, else
    why the peer cannot run (said to the person running the benchmark)."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    wanted = PACKAGE.read_text()
    manifest = cache / "package.json"
    if manifest.exists() and manifest.read_text() == wanted and all(p.exists() for p in binaries(cache).values()):
        return None
    cache.mkdir(parents=True, exist_ok=True)
    manifest.write_text(wanted)
    print(f"installing the peer gateway with npm into {cache} (once; a minute or two)", flush=True)
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=cache,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        manifest.unlink(missing_ok=True)  # not reused next time
        return f"npm install failed: {exc}"
    if done.returncode != 0 or not all(p.exists() for p in binaries(cache).values()):
        manifest.unlink(missing_ok=True)
        tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])[:400]
        return f"npm install failed (exit {done.returncode}): {tail}"
    return None


def authorization_header(service: str) -> str:
    """The request header the peer forwards to `service` as its Authorization."""
    return f"x-sop-{service}-authorization"


def mesh_config(sources: Mapping[str, Path], endpoints: Mapping[str, str]) -> str:
    """mesh.config.ts: one OpenAPI subgraph per service, prefixed with its name, calling `endpoints[service]`
    with the Authorization its own request header carries."""
    subgraphs = []
    for service in SERVICES:
        options = {
            "source": str(sources[service]),
            "endpoint": endpoints[service],
            "operationHeaders": {
                "Authorization": f"{{context.headers.{authorization_header(service)}}}",
                "X-SOP-Audience": AUDIENCE,
            },
        }
        subgraphs.append(
            "    {\n"
            f"      sourceHandler: loadOpenAPISubgraph({json.dumps(service)}, {json.dumps(options)}),\n"
            f"      transforms: [createPrefixTransform({{ value: {json.dumps(service + '_')}, "
            "includeRootOperations: true })],\n"
            "    },"
        )
    return (
        "// Written by tests/perf/hive_peer.py for make bench-views: the peer gateway's composition.\n"
        "import { createPrefixTransform, defineConfig } from '@graphql-mesh/compose-cli'\n"
        "import { loadOpenAPISubgraph } from '@omnigraph/openapi'\n\n"
        "export const composeConfig = defineConfig({\n  subgraphs: [\n" + "\n".join(subgraphs) + "\n  ],\n})\n"
    )


def root_fields(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The supergraph's root field of each service's case view read: the prefix and the operation's id."""
    fields = {}
    for service, (path, method, _) in VIEW_READS.items():
        fields[service] = f"{service}_{documents[service]['paths'][path][method]['operationId']}"
    return fields


def every_field(
    schema: GraphQLSchema, type_: Any, max_depth: int, fragments: bool = True, path: tuple[str, ...] = ()
) -> str:
    """The selection of every field that needs no argument, down through object types (a type already on the
    path is not entered again). A union or interface: one inline fragment per possible type, or with
    `fragments` False its __typename alone. Both full views are made by it (ours: case_views.full_view_query)."""
    named = get_named_type(type_)
    if is_abstract_type(named):
        if not fragments:
            return " { __typename }"
        inner_fragments = [
            f"... on {member.name}{inner}"
            for member in schema.get_possible_types(named)
            if (inner := every_field(schema, member, max_depth, fragments, path))
        ]
        return " { __typename " + " ".join(inner_fragments) + " }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    if named.name in path or len(path) >= max_depth:
        return ""
    parts = []
    for name, field_ in named.fields.items():
        if any(is_required_argument(a) for a in field_.args.values()):
            continue
        inner = every_field(schema, field_.type, max_depth, fragments, (*path, named.name))
        if inner or not isinstance(get_named_type(field_.type), GraphQLObjectType):
            parts.append(name + inner)
    return " { " + " ".join(parts) + " }" if parts else ""


def view_queries(schema: GraphQLSchema, fields: Mapping[str, str], max_depth: int = 8) -> dict[str, str]:
    """The peer's operations: `full caseView` asks every field of the three reads' answers, `small caseView`
    the case's id, status and county and the plan's status: the network and plans reads, as the gateway and
    the baseline make for it. Both alias the root fields they read by service name."""
    query = schema.query_type
    assert query is not None
    id_type = str(query.fields[fields["network"]].args["case_id"].type)
    arguments = {"network": "case_id: $id", "assessment": 'case_id: $id, language: "en"', "plans": "case_id: $id"}
    full = " ".join(
        f"{service}: {fields[service]}({arguments[service]})"
        + every_field(schema, query.fields[fields[service]].type, max_depth)
        for service in SERVICES
    )
    small_parts = {"network": "case { id status county }", "plans": "safety_plan { status }"}
    small = " ".join(
        f"{service}: {fields[service]}({arguments[service]}) {{ __typename "
        f"... on {service}_{VIEW_READS[service][2]} {{ {small_parts[service]} }} }}"
        for service in SERVICES
        if service in small_parts
    )
    return {
        "full caseView": f"query($id: {id_type}) {{ {full} }}",
        "small caseView": f"query($id: {id_type}) {{ {small} }}",
    }


def peer_problem(data: Mapping[str, Any] | None) -> str | None:
    """None when each read the operation asked (all three for the full view; the small one asks network and plans)
    answered its view; else which did not (an upstream Problem)."""
    if not data:
        return "no data"
    for service in (s for s in SERVICES if s in data):
        answer = data[service]
        if not answer or answer.get("__typename") != f"{service}_{VIEW_READS[service][2]}":
            return f"{service}: {json.dumps(answer)[:200]}"
    return None


# --- (a) and (c) carry the same data ----------------------------------------------------------------------------


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _texts(items: list[dict[str, Any]], id_key: str, text_key: str, as_written: bool | None = None) -> dict[str, Any]:
    """Each item's id and its text; None for the text of our gateway's items shown in a translation (the peer
    passes the original on, and says nothing of translations)."""
    return {
        str(i[id_key]): i[text_key] if as_written or i.get("language") == i.get("originalLanguage") else None
        for i in items
    }


def gateway_facts(view: Mapping[str, Any]) -> dict[str, Any]:
    """What our gateway's `caseView` carries that the peer's answer carries too: the case's id, status and
    county; the network members' ids and names; each statement's id and text, and the plan's status and its
    rules' ids and texts (a text only where shown as written)."""
    facts: dict[str, Any] = {}
    case = view.get("case") or {}
    for ours, theirs in (("recordId", "id"), ("status", "status"), ("county", "county")):
        if ours in case:
            facts[f"case.{theirs}"] = _lower(case[ours])
    members = (view.get("network") or {}).get("members")
    if members is not None:
        facts["network members"] = sorted([m["recordId"], m["firstName"], m["lastName"]] for m in members)
    for kind in ("harm", "danger"):
        statements = (view.get("worries") or {}).get(kind)
        if statements is not None:
            facts[f"{kind} statements"] = _texts(statements, "recordId", "text")
    plan = view.get("safetyPlan")
    if plan is not None and "status" in plan:
        facts["safety plan.status"] = _lower(plan["status"])
    if plan is not None and "rules" in plan:
        facts["safety plan.rules"] = _texts(plan["rules"], "recordId", "text")
    return facts


def peer_facts(data: Mapping[str, Any]) -> dict[str, Any]:
    """The same facts from the peer's answer (the services' own JSON, as Hive passes it on)."""
    facts: dict[str, Any] = {}
    case = (data.get("network") or {}).get("case") or {}
    for key in ("id", "status", "county"):
        if key in case:
            facts[f"case.{key}"] = _lower(case[key])
    members = ((data.get("network") or {}).get("safety_network") or {}).get("members")
    if members is not None:
        facts["network members"] = sorted(
            [m["id"], m["person"]["first_name"], m["person"]["last_name"]] for m in members
        )
    statements = (data.get("assessment") or {}).get("statements") or {}
    for kind in ("harm", "danger"):
        if statements.get(kind) is not None:
            facts[f"{kind} statements"] = _texts(statements[kind], "id", "composed_text", as_written=True)
    plan = (data.get("plans") or {}).get("safety_plan")
    if plan is not None and "status" in plan:
        facts["safety plan.status"] = _lower(plan["status"])
    if plan is not None and "rules" in plan:
        facts["safety plan.rules"] = _texts(plan["rules"], "id", "text", as_written=True)
    return facts


def _same(ours: Any, theirs: Any) -> bool:
    """Equal; for texts by id, the same ids and the same text wherever ours is shown as written."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(t is None or t == theirs[i] for i, t in ours.items())
    return bool(ours == theirs)


def compare(gateway_view: Mapping[str, Any], peer_data: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What was compared (each fact both carry, with how many ids and texts) and where (a) and (c) disagree. Carrying
    nothing in common is a difference too: comparing nothing would prove nothing."""
    ours, theirs = gateway_facts(gateway_view), peer_facts(peer_data)
    common = sorted(set(ours) & set(theirs))
    if not common:
        return [], [f"nothing to compare (gateway: {sorted(ours)}, peer: {sorted(theirs)})"]
    compared = [
        f"{key} ({len(ours[key])} ids, {sum(t is not None for t in ours[key].values())} texts)"
        if isinstance(ours[key], dict)
        else f"{key} ({len(ours[key])})"
        if isinstance(ours[key], list)
        else key
        for key in common
    ]
    differ = [
        f"{key}: gateway {_short(ours[key])} != peer {_short(theirs[key])}"
        for key in common
        if not _same(ours[key], theirs[key])
    ]
    return compared, differ


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "…"


def descendants(pid: int) -> Iterator[int]:
    """The process and its children, grandchildren… (from /proc/<pid>/task/*/children)."""
    yield pid
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            yield from descendants(int(child))


# --- running it -------------------------------------------------------------------------------------------------


class PeerUnavailable(Exception):
    """The peer cannot run here; the benchmark says why and goes on without it."""


@dataclass
class RunningPeer:
    url: str
    process: subprocess.Popen[bytes]
    queries: dict[str, str]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _documents(endpoints: Mapping[str, str], contracts: Path, into: Path) -> dict[str, Path]:
    """Each service's OpenAPI document: the running service's own, else the committed contract."""
    sources = {}
    for service in SERVICES:
        target = into / f"{service}.openapi.json"
        try:
            response = httpx.get(f"{endpoints[service]}/openapi.json", timeout=60)
            response.raise_for_status()
            target.write_bytes(response.content)
        except httpx.HTTPError:
            shutil.copyfile(contracts / f"{service}.openapi.json", target)
        sources[service] = target
    return sources


def start(
    cache: Path, run_dir: Path, endpoints: Mapping[str, str], contracts: Path, ready_seconds: float = 300
) -> RunningPeer:
    """Install (once), compose, serve and introspect the peer; PeerUnavailable says why it cannot."""
    reason = install(cache)
    if reason:
        raise PeerUnavailable(reason)
    bins = binaries(cache)
    compose = run_dir / "compose"
    serve = run_dir / "serve"  # an empty working directory: no configuration file is found there
    for folder in (compose, serve):
        folder.mkdir(parents=True, exist_ok=True)
    (compose / "node_modules").symlink_to(cache / "node_modules")  # the config's imports resolve from here
    sources = _documents(endpoints, contracts, compose)
    (compose / "mesh.config.ts").write_text(mesh_config(sources, endpoints))
    supergraph = compose / "supergraph.graphql"
    try:
        done = subprocess.run(
            [str(bins["mesh-compose"]), "-o", str(supergraph)],
            cwd=compose,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailable(f"mesh-compose failed: {exc}") from exc
    if done.returncode != 0 or not supergraph.exists():
        raise PeerUnavailable(f"mesh-compose failed (exit {done.returncode}): {(done.stderr or done.stdout)[-600:]}")
    port = _free_port()
    log = run_dir / "hive-gateway.log"
    command = [str(bins["hive-gateway"]), "supergraph", str(supergraph), "--fork", "1", "--no-masked-errors"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=serve,
        env={**os.environ, "NODE_ENV": "production"},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    peer = RunningPeer(f"http://127.0.0.1:{port}", process, {}, log)
    try:
        deadline = time.monotonic() + ready_seconds
        while True:
            if process.poll() is not None:
                raise PeerUnavailable(f"hive-gateway exited ({process.returncode}); see {log}")
            try:
                if httpx.get(f"{peer.url}/readiness", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise PeerUnavailable(f"hive-gateway not ready after {ready_seconds:g} s; see {log}")
            time.sleep(0.5)
        answer = httpx.post(f"{peer.url}/graphql", json={"query": get_introspection_query()}, timeout=60)
        schema = build_client_schema(answer.json()["data"])
        documents = {s: json.loads(path.read_text()) for s, path in sources.items()}
        peer.queries = view_queries(schema, root_fields(documents))
    except BaseException:
        peer.stop()
        raise
    return peer
