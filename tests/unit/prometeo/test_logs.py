import json
import logging
from collections.abc import Iterator

import pytest

from prometeo.identity import customer_key
from prometeo.telemetry.logs import NOISY_LOGGERS, REDACTED, configure_logging, redact_text


@pytest.mark.parametrize(
    "text",
    ["cpf 123.456.789-09 here", "cnpj 12.345.678/0001-95", "mail ana.silva@example.com", "tel +55 11 98765-4321"],
)
def test_personal_data_is_redacted(text: str) -> None:
    assert REDACTED in redact_text(text)


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    """configure_logging replaces the root handlers; later tests (caplog) need them back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


def test_json_logs_never_carry_documents(capsys: pytest.CaptureFixture[str], restore_root_logger: None) -> None:
    configure_logging("test-service")
    logging.getLogger("t").warning(
        "customer %s failed", "123.456.789-09", extra={"full_name": "Ana Silva", "note": "ana@example.com"}
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert "123.456.789" not in line and "Ana Silva" not in line and "ana@example.com" not in line
    assert record["service"] == "test-service" and record["level"] == "WARNING" and record["logger"] == "t"


def test_customer_key_is_stable_keyed_and_formatting_insensitive() -> None:
    a = customer_key("123.456.789-09", "secret-a")
    assert a == customer_key("12345678909", "secret-a")
    assert a != customer_key("12345678909", "secret-b")
    assert a.startswith("ck_") and "12345678909" not in a
