"""Every service's `X | None` setting reads `null` and an empty value as None (off); pydantic-settings
alone decodes a JSON `null` and then drops it as unset, so a non-None default silently stayed."""

from __future__ import annotations

import importlib
from datetime import time

import pytest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from prometeo.quiet_hours import QuietHours
from prometeo.settings import SharedSettings, _optional

SERVICES = ["campaigns", "feature_store", "gateway", "ingest_openfinance", "next_best_action", "scoring"]


class _Window(BaseModel):
    start: str


class _Demo(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="PROMETEO_DEMO_", extra="ignore")

    quiet_hours: QuietHours | None = QuietHours(start=time(21), end=time(8))
    limits: dict[str, int] | None = Field(default={"a": 1})
    window: _Window | None = _Window(start="x")
    label: str | None = "default"


def _settings_class(package: str) -> type[BaseSettings]:
    return importlib.import_module(f"{package}.settings").Settings


@pytest.mark.parametrize("value", ["null", ""], ids=["null", "empty"])
def test_null_and_empty_switch_optional_settings_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    for name in ("QUIET_HOURS", "LIMITS", "WINDOW", "LABEL"):
        monkeypatch.setenv(f"PROMETEO_DEMO_{name}", value)
    demo = _Demo()
    assert (demo.quiet_hours, demo.limits, demo.window, demo.label) == (None, None, None, None)


def test_json_and_unset_still_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_DEMO_LIMITS", '{"b": 2}')
    demo = _Demo()
    assert demo.limits == {"b": 2} and demo.window == _Window(start="x") and demo.quiet_hours is not None


@pytest.mark.parametrize("package", SERVICES)
@pytest.mark.parametrize("value", ["null", ""], ids=["null", "empty"])
def test_every_services_optional_settings_read_null_and_empty_as_none(
    monkeypatch: pytest.MonkeyPatch, package: str, value: str
) -> None:
    cls = _settings_class(package)
    prefix = cls.model_config.get("env_prefix", "")
    optional = [name for name, field in cls.model_fields.items() if _optional(field.annotation)]
    for name in optional:
        monkeypatch.setenv(f"{prefix}{name}".upper(), value)
    settings = cls()
    assert {name: getattr(settings, name) for name in optional} == dict.fromkeys(optional)
