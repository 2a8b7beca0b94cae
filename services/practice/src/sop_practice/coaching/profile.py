"""The practice profile as data: the SOP practice behaviours a coach observes and rates, by domain, on one rating
scale. A profile lives at `profiles/<key>/<version>.json` (its `key` and `version` must match the path), like the
SDM instruments: a new version is a new file, and a session keeps the version it was rated against."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKAGED_DIR = Path(__file__).parent / "profiles"
DEFAULT_PROFILE = "sop_practice"
KEY = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatingLevel(_Schema):
    value: int = Field(ge=0, le=10)
    label: str = Field(min_length=1, max_length=100)
    meaning: str = Field(min_length=1, max_length=500)


class Domain(_Schema):
    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1, max_length=200)


class Behaviour(_Schema):
    key: str = Field(pattern=KEY)
    domain: str = Field(pattern=KEY)
    text: str = Field(min_length=1, max_length=500)
    observed_in: tuple[str, ...] = Field(min_length=1, description="The kinds of coaching session it is rated in")


class PracticeProfile(_Schema):
    key: str = Field(pattern=KEY)
    version: str = Field(pattern=KEY)
    title: str = Field(min_length=1, max_length=200)
    notice: str | None = Field(default=None, max_length=1000)
    rating_scale: tuple[RatingLevel, ...] = Field(min_length=2)
    domains: tuple[Domain, ...] = Field(min_length=1)
    behaviours: tuple[Behaviour, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PracticeProfile:
        domains = {d.key for d in self.domains}
        keys = [b.key for b in self.behaviours]
        if len(set(keys)) != len(keys):
            raise ValueError("each behaviour key once")
        if len({r.value for r in self.rating_scale}) != len(self.rating_scale):
            raise ValueError("each rating value once")
        unknown = [b.key for b in self.behaviours if b.domain not in domains]
        if unknown:
            raise ValueError(f"behaviours in no domain: {', '.join(unknown)}")
        return self

    def behaviour(self, key: str) -> Behaviour | None:
        return next((b for b in self.behaviours if b.key == key), None)

    @property
    def ratings(self) -> frozenset[int]:
        return frozenset(r.value for r in self.rating_scale)


def _version_order(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)


@dataclass(frozen=True)
class ProfileCatalog:
    profiles: dict[tuple[str, str], PracticeProfile]

    def get(self, key: str, version: str | None = None) -> PracticeProfile | None:
        """The profile `key` at `version`, or its newest version."""
        if version is not None:
            return self.profiles.get((key, version))
        versions = [v for (k, v) in self.profiles if k == key]
        return self.profiles[(key, max(versions, key=_version_order))] if versions else None


def load_profiles(folder: Path = PACKAGED_DIR) -> ProfileCatalog:
    """Every profile file under `folder`; a file whose key or version differs from its path is refused."""
    found: dict[tuple[str, str], PracticeProfile] = {}
    for path in sorted(folder.glob("*/*.json")):
        profile = PracticeProfile.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if (profile.key, profile.version) != (path.parent.name, path.stem):
            raise ValueError(f"{path}: key and version must match the path ({profile.key}/{profile.version})")
        found[(profile.key, profile.version)] = profile
    return ProfileCatalog(found)


@cache
def packaged_profiles() -> ProfileCatalog:
    return load_profiles()
