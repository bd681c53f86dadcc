import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from gateway.settings import DEV_API_KEYS, Settings

STRONG = "k" * 40
PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


def test_dev_keys_include_an_ingest_key() -> None:
    assert DEV_API_KEYS["dev-ingest-key"] == "ingest"


def test_dev_keys_are_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETEO_PSEUDONYM_KEY", "a-real-secret")
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_KEY", "a-real-service-token-secret-of-32-bytes")
    monkeypatch.setenv("PROMETEO_ENV", "prod")
    with pytest.raises(ValidationError, match="development API keys"):
        Settings()


def test_no_api_key_at_all_is_accepted_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    """API keys are for dev/test only: outside them machine clients use OAuth2 client credentials."""
    monkeypatch.setenv("PROMETEO_PSEUDONYM_KEY", "a-real-secret")
    monkeypatch.setenv("PROMETEO_SERVICE_TOKEN_KEY", "a-real-service-token-secret-of-32-bytes")
    monkeypatch.setenv("PROMETEO_ENV", "prod")
    with pytest.raises(ValidationError, match="development API keys"):
        Settings(api_keys={STRONG: "admin"})
    signing = [{"kid": "k1", "private_key_pem": PEM}]
    with pytest.raises(ValidationError, match="TOKEN_SIGNING_KEYS"):
        Settings(api_keys={}, local_idp_enabled=False)
    with pytest.raises(ValidationError, match="built-in OIDC issuer"):
        Settings(api_keys={}, token_signing_keys=signing)
    prod = Settings(api_keys={}, token_signing_keys=signing, local_idp_enabled=False)
    assert not prod.api_keys_enabled


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
