"""A progress bar for long commands (`sop practice rebuild-fidelity`…): `ProgressBar(label)(done, total)`, drawn
on standard error, redrawn in place on a terminal and every few seconds as a line elsewhere (CI logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(
        self, label: str, *, stream: TextIO | None = None, width: int = 30, every_seconds: float = 5.0
    ) -> None:
        self.label, self.width, self.every = label, width, every_seconds
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.drawn_at = -1e9
        self.done = 0

    def line(self, done: int, total: int | None) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        rate = f"{done / seconds:,.0f}/s"
        if not total:
            return f"{self.label} {done:,} {rate}"
        share = min(done / total, 1.0)
        filled = round(share * self.width)
        return f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} {done:,}/{total:,} {rate}"

    def __call__(self, done: int, total: int | None) -> None:
        self.done = done
        now = time.monotonic()
        finished = total is not None and done >= total
        if self.tty:
            if now - self.drawn_at >= 0.1 or finished:
                self.drawn_at = now
                self.stream.write("\r" + self.line(done, total))
                self.stream.flush()
        elif now - self.drawn_at >= self.every or finished:
            self.drawn_at = now
            self.stream.write(self.line(done, total) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
