"""A real headless Chromium for page tests: screenshot a page and dump its rendered DOM.

Debian's `chromium` (`/usr/bin/chromium`, or `SOP_TEST_CHROMIUM`). Without it a test skips with the reason,
unless `CI` is set: CI must never skip a browser test (`.ci/run` installs chromium), so there it fails.
Each run gets its own throwaway profile, no network features (no sync, updates, QUIC or background
requests) and no sandbox (containers run as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# A safety net for a wedged browser, not a performance assertion.
RUN_LIMIT_SECONDS = 180


def chromium_path() -> str:
    """The browser to drive; skips (or, under CI, fails) the calling test when there is none."""
    candidate = os.environ.get("SOP_TEST_CHROMIUM") or DEFAULT_CHROMIUM
    found = candidate if Path(candidate).is_file() and os.access(candidate, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    reason = f"no Chromium at {candidate} (install Debian's `chromium`: apt-get install chromium; .ci/run does this)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests, not skip them", pytrace=False)
    pytest.skip(reason)


def _run(page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    browser = chromium_path()
    with tempfile.TemporaryDirectory(prefix="sop-chromium-") as profile:
        result = subprocess.run(
            [browser, *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=RUN_LIMIT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise AssertionError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def dump_dom(page: Path) -> str:
    """The DOM after Chromium parsed and laid out the page, serialised."""
    return _run(page, "--dump-dom").stdout


def screenshot(page: Path, png: Path, *, width: int = 1000, height: int = 1400) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    _run(page, f"--screenshot={png.resolve()}", f"--window-size={width},{height}")
    if not png.is_file() or png.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise AssertionError(f"chromium wrote no PNG at {png}")
    return png
