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
    moved.add_argument("rest", nargs=argparse.REMAINDER)
    moved.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    rest = " ".join(args.rest)
    print(
        "`sop network extract` has moved: the federal extract is the practice service's now. Run "
        f"`sop practice extract {rest}`.".replace("  ", " ").replace(" `.", "`."),
        file=sys.stderr,
    )
    raise SystemExit(2)
