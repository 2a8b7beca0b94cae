"""The network service's commands: `sop network announce-reporting-facts` (every case's reporting facts announced
again, for a practice service that came after the cases), and `sop network extract`, which moved: the federal
extract is the practice service's (`sop practice extract`); the command stays one release to say so, then goes."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    network = subparsers.add_parser("network", help="the network service's operations")
    commands = network.add_subparsers(dest="network_command", required=True)
    moved = commands.add_parser("extract", help="moved: use `sop practice extract` (this one is removed next release)")
    for option in ("--period", "--county", "--out", "--by", "--data-dir"):
        moved.add_argument(option)
    moved.set_defaults(run=run)
    register_announce(commands)


def run(args: argparse.Namespace) -> None:
    given = " ".join(
        f"--{name.replace('_', '-')} {value}"
        for name in ("period", "county", "out", "by", "data_dir")
        if (value := getattr(args, name)) is not None
    )
    print(
        "`sop network extract` has moved: the federal extract is the practice service's now. Run "
        f"`{' '.join(['sop practice extract', given]).strip()}`.",
        file=sys.stderr,
    )
    raise SystemExit(2)


def register_announce(commands: Any) -> None:
    announce = commands.add_parser(
        "announce-reporting-facts",
        help="announce every case's reporting facts again (after upgrading: the practice service's outcomes)",
    )
    announce.add_argument("--data-dir")
    announce.set_defaults(run=run_announce)


def run_announce(args: argparse.Namespace) -> None:
    import asyncio
    import os
    from pathlib import Path

    from sop_network.settings import NetworkSettings

    data_dir = args.data_dir or os.environ.get("SOP_DATA_DIR")
    settings = NetworkSettings(data_dir=Path(data_dir).resolve()) if data_dir else NetworkSettings()
    count = asyncio.run(announce_all(settings.resolved_database_url))
    print(f"announced the reporting facts of {count:,} cases (the outbox relay publishes them)")


async def announce_all(database_url: str, *, chunk: int = 500) -> int:
    """`sop.network.case.reporting_facts` for every case, `chunk` cases a transaction (in the outbox and the change
    log, as any change): what a practice service that came after the cases needs to count them."""
    import uuid

    from sqlalchemy import select
    from sqlmodel import col

    from sop_network.cases.reporting import reporting_changes
    from sop_network.changes.service import record_changes
    from sop_network.models import Case
    from sop_shared.db import Database

    database = Database(database_url)
    done = 0
    last: uuid.UUID | None = None
    try:
        while True:
            async with database.session() as session:
                query = select(col(Case.id)).order_by(col(Case.id)).limit(chunk)
                if last is not None:
                    query = query.where(col(Case.id) > last)
                ids = list((await session.execute(query)).scalars())
                if not ids:
                    return done
                await record_changes(session, await reporting_changes(session, ids))
            done, last = done + len(ids), ids[-1]
    finally:
        await database.dispose()
