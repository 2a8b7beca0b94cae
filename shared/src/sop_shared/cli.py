"""The `sop` command: run everything (`sop dev`), one component (`sop serve`), migrations, dev tokens, keys,
and the audit trail (`sop audit verify <component>`, `sop audit rotate-key <directory>`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from contextlib import AsyncExitStack
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sop_shared.component import Component, load_component, load_components
from sop_shared.dev_identity import DEMO_USERS, mint_dev_token
from sop_shared.keys import ensure_keys
from sop_shared.settings import SERVER_KEEP_ALIVE_SECONDS, ComponentSettings


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("SOP_DATA_DIR", ".sop-data")).resolve()


async def _dev(args: argparse.Namespace) -> None:
    import uvicorn

    from sop_shared.events import InProcessBus
    from sop_shared.migrations import upgrade
    from sop_shared.service import running

    components = load_components()
    data_dir = _data_dir(args.data_dir)
    ensure_keys(data_dir / "keys")
    bus = InProcessBus()
    apps = {}
    gateway: Component | None = None
    for name, component in components.items():
        settings = component.settings_class(
            data_dir=data_dir, environment="development", events_url="memory://", log_json=False
        )
        await upgrade(component.package, settings.resolved_database_url)
        if component.kind == "gateway":
            gateway = component
            gateway_settings = settings
        else:
            apps[name] = component.create_app(settings, bus=bus)
    if gateway is None:
        raise SystemExit("no gateway component installed")
    gateway_app = gateway.create_app(gateway_settings, bus=bus, service_apps=apps)
    async with AsyncExitStack() as stack:
        for app in [*apps.values(), gateway_app]:
            await stack.enter_async_context(running(app))
        demo_case = None
        if gateway.seed_demo is not None and not args.no_seed:
            demo_case = await gateway.seed_demo(gateway_app)
        token = mint_dev_token(data_dir / "keys", "fsw.rivera")
        print(_dev_banner(f"http://{args.host}:{args.port}", data_dir, demo_case, token), flush=True)
        server = uvicorn.Server(
            uvicorn.Config(
                gateway_app, host=args.host, port=args.port, lifespan="off", log_level="warning", log_config=None
            )
        )
        await server.serve()


def _dev_banner(base: str, data_dir: Path, demo_case: object, token: str) -> str:
    query = (
        '{ caseView(caseId: \\"' + str(demo_case) + '\\") { case { county } children { firstName } '
        "worries { danger { text } } safetyPlan { status rules { text monitors } } } }"
    )
    lines = [
        "",
        f"SOP Platform (embedded) — data in {data_dir}",
        f"  GraphiQL:  {base}/graphql",
        f"  REST docs: {base}/docs",
    ]
    if demo_case:
        lines.append(f"  Demo family's case id: {demo_case}")
    lines += [
        "  Development token for fsw.rivera, the family's worker (others: sop token --list):",
        "",
        token,
        "",
        "  Try it (in another shell):",
        f"    TOKEN=$(.venv/bin/sop token fsw.rivera --data-dir {data_dir})",
        f"    curl -s {base}/graphql -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        f'      -d \'{{"query": "{query}"}}\'' if demo_case else "",
        "",
        "  The family's side: sign in as Maria Lopez (the mother) or Rosa Delgado (safety network):",
        f"    TOKEN=$(.venv/bin/sop token maria.lopez --data-dir {data_dir})   # or rosa.delgado",
        "    (docs/members.md: what a member sees, signs, rates, checks in on and says)",
        "",
        "  The practice dashboards (docs/practice.md), as the unit's supervisor and as its coach:",
        f"    SUP=$(.venv/bin/sop token sup.okafor --data-dir {data_dir})",
        f'    curl -s "{base}/dashboards/practice?unit=Pulaski-3" -H "Authorization: Bearer $SUP" > unit.html',
        f"    COACH=$(.venv/bin/sop token coach.tran --data-dir {data_dir})",
        f'    curl -s "{base}/dashboards/coaching" -H "Authorization: Bearer $COACH" > coaching.html',
        "",
    ]
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> None:
    from sop_shared.observability import configure_logging

    component, settings, app = served_app(args.component)
    import uvicorn

    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(app, **server_options(settings, args.host, args.port or component.default_port))


def served_app(name: str) -> tuple[Component, ComponentSettings, Any]:
    """The component, its settings from the environment and its app, as `sop serve` loads them: without the
    modules only their loading would import (`sop_shared.runtime.UNUSED_WHEN_SERVED`)."""
    from sop_shared.runtime import modules_hidden

    with modules_hidden():
        import uvicorn  # noqa: F401  # with the reloader it would not use

        component = _component(name)
        settings = component.settings_class()
        return component, settings, component.create_app(settings)


def server_options(settings: ComponentSettings, host: str, port: int) -> dict[str, Any]:
    """uvicorn's settings for `sop serve`. Its own logging set-up is skipped (log_config=None): its lines go
    through the same JSON as the app's (sop_shared.observability), at LOG_LEVEL; the app logs one line per
    request instead of its access log. No component serves WebSockets: `ws="none"` keeps uvicorn from importing
    the `websockets` library for them, which every replica would otherwise hold (docs/performance.md, "Memory
    per replica")."""
    return {
        "host": host,
        "port": port,
        "log_config": None,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "access_log": False,
        "timeout_keep_alive": SERVER_KEEP_ALIVE_SECONDS,
        "ws": "none",
    }


def _component(name: str) -> Component:
    try:
        return load_component(name)
    except LookupError as exc:
        raise SystemExit(str(exc)) from exc


def _settings(component: Component, data_dir: str | None) -> ComponentSettings:
    """The component's settings from its environment; `--data-dir` wins over SOP_DATA_DIR when given."""
    if data_dir:
        return component.settings_class(data_dir=_data_dir(data_dir))
    return component.settings_class()


async def _migrate(args: argparse.Namespace) -> None:
    from sop_shared.migrations import downgrade, new_revision, upgrade

    names = list(load_components()) if args.component == "all" else [args.component]
    for name in names:
        component = _component(name)
        settings = _settings(component, args.data_dir)
        url = settings.resolved_database_url
        if args.revision:
            await new_revision(component.package, url, args.revision)
        elif args.to and args.to.startswith("-"):
            await downgrade(component.package, url, args.to)
        else:
            await upgrade(component.package, url, args.to or "heads")
        print(f"{name}: migrated", file=sys.stderr)


def _token(args: argparse.Namespace) -> None:
    if args.list or not args.user:
        for user in DEMO_USERS.values():
            print(f"{user.subject:16} {user.actor_type:12} {','.join(user.roles) or '-':12} {user.description}")
        return
    data_dir = _data_dir(args.data_dir)
    ensure_keys(data_dir / "keys")
    try:
        print(mint_dev_token(data_dir / "keys", args.user, lifetime_seconds=args.lifetime))
    except KeyError as exc:
        raise SystemExit(str(exc)) from exc


def _keys(args: argparse.Namespace) -> None:
    from sop_shared.audit_keys import ensure_audit_keys

    ensure_keys(Path(args.directory))
    for name in load_components():  # each component's own audit chain key and checkpoint signing key
        ensure_audit_keys(Path(args.directory), name)
    print(f"keys in {args.directory}", file=sys.stderr)


async def _audit_verify(args: argparse.Namespace) -> int:
    """Recompute the component's keyed chain from its database and compare it with the newest signed
    checkpoint on its event bus; print the verdict as JSON; exit status 0 only when it is intact."""
    from sop_shared.audit import AuditTrail
    from sop_shared.audit_keys import AuditKeyError, load_audit_keys
    from sop_shared.db import Database
    from sop_shared.events import InProcessBus, connect_bus
    from sop_shared.platform_tables import platform_tables_of

    component = _component(args.component)
    settings = _settings(component, args.data_dir)
    try:
        # A verifier needs the chain keys (HMAC is symmetric) and the checkpoint *public* key only.
        keys = load_audit_keys(
            component=component.name,
            keys_dir=settings.keys_dir(),
            chain_keys_dir=settings.audit_keys_dir,
            signing_key_file=settings.audit_signing_key_file,
            development=settings.is_development,
            need_signing_key=False,
        )
    except AuditKeyError as exc:
        raise SystemExit(f"audit keys: {exc}") from exc
    tables = platform_tables_of(component.metadata)
    database = Database(settings.resolved_database_url)
    bus = (
        InProcessBus()
        if settings.events_url.startswith("memory://")
        else await connect_bus(settings.events_url, stream=settings.events_stream, namespace=settings.events_namespace)
    )
    try:
        verdict = await AuditTrail(component.name, database, tables, keys, bus).verify()
    finally:
        await bus.close()
        await database.dispose()
    body = {"component": component.name, **verdict.to_dict()}
    if verdict.checkpoint_seq is None:
        body["note"] = (
            "no signed checkpoint found on the event bus: truncation of the tail, and a rewrite by "
            "someone holding the chain key, cannot be ruled out"
        )
    print(json.dumps(body, indent=2))
    return 0 if verdict.intact else 1


def _audit(args: argparse.Namespace) -> None:
    from sop_shared.audit_keys import new_audit_key

    if args.audit_command == "verify":
        raise SystemExit(asyncio.run(_audit_verify(args)))
    key_id = new_audit_key(Path(args.directory))
    print(f"{key_id}: new records are keyed with it; keep the older keys for verification", file=sys.stderr)


def _contract(args: argparse.Namespace) -> None:
    from sop_shared.contract import contract_differences, write_contract

    directory = Path(args.directory)
    if args.contract_command == "write":
        changed = write_contract(directory)
        print(f"{directory}: " + (", ".join(changed) + " updated" if changed else "up to date"), file=sys.stderr)
        return
    diff = contract_differences(directory)
    if diff:
        sys.stdout.write(diff)
        print(f"the code's contract differs from {directory}: review the diff, then `make contracts`", file=sys.stderr)
        raise SystemExit(1)
    print(f"{directory}: the code's contract is the committed one", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sop", description="SOP Platform")
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run everything in one process on the embedded default, with a demo family")
    dev.add_argument("--data-dir")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--no-seed", action="store_true")

    serve = sub.add_parser("serve", help="run one component (network, assessment, plans, practice, gateway)")
    serve.add_argument("component")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int)

    migrate = sub.add_parser("migrate", help="apply a component's migrations (or 'all')")
    migrate.add_argument("component")
    migrate.add_argument("--data-dir")
    migrate.add_argument("--to", help="target revision (default head; -1 to step back)")
    migrate.add_argument("--revision", metavar="SLUG", help="autogenerate a new revision named SLUG")

    token = sub.add_parser("token", help="print a development bearer token for a demo user")
    token.add_argument("user", nargs="?")
    token.add_argument("--list", action="store_true")
    token.add_argument("--data-dir")
    token.add_argument("--lifetime", type=int, default=8 * 3600)

    keys = sub.add_parser("keys", help="signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_init = keys_sub.add_parser("init", help="create key pairs in DIRECTORY if missing")
    keys_init.add_argument("directory")

    audit = sub.add_parser("audit", help="the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="recompute a component's keyed audit chain and compare it with "
        "its newest signed checkpoint (exit 0 only if intact)",
    )
    verify.add_argument("component")
    verify.add_argument("--data-dir")
    rotate = audit_sub.add_parser(
        "rotate-key",
        help="add a new chain key to DIRECTORY and make it current (older keys stay, to verify older records)",
    )
    rotate.add_argument("directory")

    contract = sub.add_parser(
        "contract", help="the public contract (OpenAPI documents, GraphQL SDL) committed under docs/contract"
    )
    contract_sub = contract.add_subparsers(dest="contract_command", required=True)
    for name, help_text in (
        ("check", "print the diff from the committed contract to the code's; exit 1 if they differ"),
        ("write", "write the code's contract to DIRECTORY"),
    ):
        contract_sub.add_parser(name, help=help_text).add_argument("directory", nargs="?", default="docs/contract")

    # Components' own commands (`sop practice rebuild-fidelity`…): entry point group `sop.commands`, each a
    # function given the subparsers that adds its parser with `set_defaults(run=…)`.
    for ep in entry_points(group="sop.commands"):
        ep.load()(sub)

    args = parser.parse_args(argv)
    if getattr(args, "run", None) is not None:
        args.run(args)
    elif args.command == "dev":
        try:
            asyncio.run(_dev(args))
        except KeyboardInterrupt:
            pass
    elif args.command == "serve":
        _serve(args)
    elif args.command == "migrate":
        asyncio.run(_migrate(args))
    elif args.command == "token":
        _token(args)
    elif args.command == "keys":
        _keys(args)
    elif args.command == "audit":
        _audit(args)
    elif args.command == "contract":
        _contract(args)


if __name__ == "__main__":
    main()
