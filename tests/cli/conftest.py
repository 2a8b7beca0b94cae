"""Running the `sop` command as a user would: a separate Python process (`python -m sop_shared.cli`), with
no SOP_* variables inherited from the environment the tests run in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

SOP = [sys.executable, "-m", "sop_shared.cli"]


@pytest.fixture
def sop_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SOP_")}


@pytest.fixture
def sop(sop_env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `sop ARGS...` to completion; returns the completed process (stdout and stderr as text)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*SOP, *args],
            env={**sop_env, **(env or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def free_port() -> Callable[[], int]:
    def pick() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    return pick


class Server:
    """A long-running `sop` process whose output goes to a file, stopped (terminate, then kill) at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen([*SOP, *args], env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    # `sop dev` migrates and seeds four databases before its banner: on a loaded 2-core machine (other suites
    # running beside this one) that has taken more than 30 s, so the default only guards against a hang.
    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"sop exited ({self.process.returncode}) before {what}:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"no {what} within {timeout} s:\n{self.output()[-3000:]}")

    def wait_until_answering(self, url: str, timeout: float = 30) -> None:
        def answers() -> bool:
            try:
                return httpx.get(url, timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        self.wait_for(answers, f"answer at {url}", timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()


@pytest.fixture
def start_sop(sop_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `sop ARGS...` in the background; every process started is stopped when the test ends."""
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(list(args), {**sop_env, **(env or {})}, tmp_path / f"sop-{len(started)}.log", tmp_path)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
