"""Settings: one env prefix per component, the embedded SQLite default under data_dir, and production
refusing to start without a configured database and internal-token keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from sop_shared.settings import ComponentSettings, Environment, ServiceSettings


class XSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_X_", extra="ignore")
    component: str = "x"


class YSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="SOP_Y_", extra="ignore")
    component: str = "y"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SOP_") and not name.startswith("SOP_TEST_"):
            monkeypatch.delenv(name)


def test_each_component_reads_only_its_own_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOP_X_DATABASE_URL", "postgresql+asyncpg://db/x")
    monkeypatch.setenv("SOP_X_EVENTS_URL", "nats://nats:4222")
    monkeypatch.setenv("SOP_X_RELAY_INTERVAL_SECONDS", "0.25")
    monkeypatch.setenv("SOP_X_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SOP_Y_DATABASE_URL", "postgresql+asyncpg://db/y")
    monkeypatch.setenv("SOP_DATABASE_URL", "postgresql+asyncpg://db/unprefixed")

    x, y = XSettings(), YSettings()
    assert x.database_url == "postgresql+asyncpg://db/x"
    assert x.resolved_database_url == "postgresql+asyncpg://db/x"
    assert x.events_url == "nats://nats:4222"
    assert x.relay_interval_seconds == 0.25
    assert x.data_dir == tmp_path
    assert y.database_url == "postgresql+asyncpg://db/y"
    assert y.events_url == "memory://"  # SOP_X_ settings do not leak into Y


def test_default_database_is_a_sqlite_file_named_after_the_component_under_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOP_Y_DATA_DIR", str(tmp_path / "data"))
    settings = YSettings()
    assert settings.database_url == ""
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'y.db').as_posix()}"
    assert settings.keys_dir() == tmp_path / "data" / "keys"
    assert settings.is_development


def test_service_development_defaults_need_nothing_configured(tmp_path: Path) -> None:
    settings = XSettings(data_dir=tmp_path)
    assert settings.environment == Environment.development
    assert settings.resolved_internal_jwks_file() == tmp_path / "keys" / "internal.jwks.json"


def test_production_refuses_to_start_without_a_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOP_X_ENVIRONMENT", "production")
    monkeypatch.setenv("SOP_X_INTERNAL_JWKS_FILE", str(tmp_path / "jwks.json"))
    with pytest.raises(ValidationError, match="SOP_X_DATABASE_URL is required in production"):
        XSettings()


def test_production_refuses_to_start_without_internal_jwks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_X_ENVIRONMENT", "production")
    monkeypatch.setenv("SOP_X_DATABASE_URL", "postgresql+asyncpg://db/x")
    with pytest.raises(ValidationError, match="SOP_X_INTERNAL_JWKS_FILE is required in production"):
        XSettings()


def test_production_starts_when_both_are_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOP_X_ENVIRONMENT", "production")
    monkeypatch.setenv("SOP_X_DATABASE_URL", "postgresql+asyncpg://db/x")
    monkeypatch.setenv("SOP_X_INTERNAL_JWKS_FILE", str(tmp_path / "jwks.json"))
    settings = XSettings()
    assert not settings.is_development
    assert settings.resolved_internal_jwks_file() == tmp_path / "jwks.json"
    assert settings.resolved_database_url == "postgresql+asyncpg://db/x"


def test_an_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOP_X_ENVIRONMENT", "staging-ish")
    with pytest.raises(ValidationError, match="environment"):
        XSettings()
