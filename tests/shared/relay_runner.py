"""A stand-alone outbox relay process for the crash tests (run as a script: it imports only sop_shared).

    python relay_runner.py DATABASE_URL NATS_URL STREAM NAMESPACE [--delay S] [--batch-size N]
                           [--exit-after-publish K] [--parent-pid PID]

It relays the platform outbox of DATABASE_URL to the JetStream STREAM (subjects under NAMESPACE) until it is
killed. `--delay` sleeps after each publish so that a kill lands mid-stream; `--exit-after-publish K` makes
the process die (os._exit, no cleanup, like a crash) right after the bus acknowledged its K-th publish —
before the relay could mark that event published.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from sop_shared.db import Database, service_metadata
from sop_shared.events import Event, EventBus, NatsJetStreamBus
from sop_shared.outbox import OutboxRelay
from sop_shared.platform_tables import define_platform_tables


class CrashingBus:
    def __init__(self, bus: EventBus, delay: float, exit_after: int | None) -> None:
        self.bus, self.delay, self.exit_after, self.published = bus, delay, exit_after, 0

    async def publish(self, event: Event) -> None:
        await self.bus.publish(event)
        self.published += 1
        if self.exit_after is not None and self.published >= self.exit_after:
            sys.stdout.write(f"crashing after publish {self.published} ({event.id})\n")
            sys.stdout.flush()
            os._exit(70)
        if self.delay:
            await asyncio.sleep(self.delay)

    async def subscribe(self, *args, **kwargs):  # pragma: no cover - a relay never subscribes
        return await self.bus.subscribe(*args, **kwargs)

    async def ping(self) -> None:
        await self.bus.ping()

    async def close(self) -> None:
        await self.bus.close()


def _die_with(parent_pid: int) -> None:
    """Never outlive the test run that started this relay (Linux: SIGKILL when the parent goes)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        os._exit(1)


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("nats_url")
    parser.add_argument("stream")
    parser.add_argument("namespace")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--exit-after-publish", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    if args.parent_pid is not None:
        _die_with(args.parent_pid)

    tables = define_platform_tables(service_metadata())
    database = Database(args.database_url)
    nats_bus = await NatsJetStreamBus(args.nats_url, stream=args.stream, namespace=args.namespace).connect()
    bus = CrashingBus(nats_bus, args.delay, args.exit_after_publish)
    relay = OutboxRelay(database, tables, bus, batch_size=args.batch_size, interval_seconds=0.05)
    sys.stdout.write("relay running\n")
    sys.stdout.flush()
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
