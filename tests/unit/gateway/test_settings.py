import pytest
from pydantic import ValidationError

from gateway.settings import DEV_API_KEYS, Settings

STRONG = "k" * 40


def test_dev_keys_include_an_ingest_key() -> None:
    assert DEV_API_KEYS["dev-ingest-key"] == "ingest"


def test_dev_keys_are_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_PSEUDONYM_KEY", "a-real-secret")
    monkeypatch.setenv("PROMETEO_ENV", "prod")
    with pytest.raises(ValidationError, match="development API keys"):
        Settings()


def test_short_keys_are_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_PSEUDONYM_KEY", "a-real-secret")
    monkeypatch.setenv("PROMETEO_ENV", "prod")
    with pytest.raises(ValidationError, match="at least"):
        Settings(api_keys={"short": "admin"})
    assert Settings(api_keys={STRONG: "admin"}).api_keys == {STRONG: "admin"}


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown role"):
        Settings(api_keys={"k": "root"})


def test_api_keys_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_GATEWAY_API_KEYS", '{"abc": "crm"}')
    assert Settings().api_keys == {"abc": "crm"}


def test_ingest_role_gets_a_batch_sized_rate_limit() -> None:
    settings = Settings(rate_limit_per_minute=600)
    assert settings.limit_for("advisor") == 600
    assert settings.limit_for("ingest") == 120_000
