"""`sop network extract` moved: the federal extract is the practice service's (`sop practice extract`). The command
stays one release to say so, then goes."""

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
