"""What every demo seeding step shares: the case being built, the ids made so far, demo users' tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sop_shared.dev_identity import mint_dev_token


@dataclass
class DemoSeed:
    keys_dir: Path
    case_id: str = ""
    ids: dict[str, Any] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_dev_token(self.keys_dir, user)}"}


def check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"seeding the demo family failed at {what}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()  # every endpoint the demo calls answers an object
    return body
