"""E-mail over SMTP. The recipient is `<customer_key>@<recipient_domain>`: the bank's mail relay maps the
pseudonymous key to the real address, so no e-mail address ever enters Prometeo.

Idempotency: the Message-ID is derived from the delivery's idempotency key (RFC 5322 relays and most
ESPs de-duplicate on it) and repeated in `X-Prometeo-Idempotency-Key`. Connection errors, timeouts and
4xx replies are retried with backoff, then transient; 5xx replies (recipient or content refused) are
permanent.
"""

from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage

from pydantic import BaseModel, Field, SecretStr

from campaigns.adapters.base import (
    ChannelAdapter,
    Delivery,
    DeliveryReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from campaigns.adapters.http_delivery import backoff_delay

IDEMPOTENCY_HEADER = "X-Prometeo-Idempotency-Key"


class SmtpConfig(BaseModel):
    host: str = Field(min_length=1)
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str = "ofertas@prometeo.local"
    recipient_domain: str = "customers.relay.local"
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=5.0, ge=0)


def message_id(key: str) -> str:
    # Only atext in the local part: a ':' would make parsers cut the id short.
    return f"<{re.sub(r'[^A-Za-z0-9._-]', '.', key)}@prometeo>"


def compose(delivery: Delivery, config: SmtpConfig) -> EmailMessage:
    product = delivery.product.replace("_", " ")
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = f"{delivery.customer_key}@{config.recipient_domain}"
    msg["Subject"] = "Una oferta para usted / An offer for you"
    msg["Message-ID"] = message_id(delivery.key)
    msg[IDEMPOTENCY_HEADER] = delivery.key
    msg["X-Prometeo-Offer-Id"] = delivery.offer_id
    msg.set_content(
        f"Tenemos una propuesta de {product} pensada para usted.\n"
        f"We have a {product} proposal chosen for you.\n\nRef: {delivery.offer_id}\n"
    )
    return msg


class SmtpAdapter(ChannelAdapter):
    name = "smtp"

    def __init__(self, config: SmtpConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self._config = config
        self._sleep = sleep

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self._config.host, self._config.port, timeout=self._config.timeout_s)
        if self._config.starttls:
            smtp.starttls()
        if self._config.username and self._config.password:
            smtp.login(self._config.username, self._config.password.get_secret_value())
        return smtp

    def send(self, delivery: Delivery) -> DeliveryReceipt:
        msg = compose(delivery, self._config)
        last_error = ""
        for attempt in range(1, self._config.max_attempts + 1):
            try:
                with self._connect() as smtp:
                    smtp.send_message(msg)
                return DeliveryReceipt(adapter=self.name, reference=msg["Message-ID"])
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    raise PermanentDeliveryError(f"SMTP refused the message: {exc.smtp_code}") from exc
                last_error = f"SMTP {exc.smtp_code}"
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                if all(code >= 500 for code in codes):
                    raise PermanentDeliveryError(f"SMTP refused the recipient: {codes}") from exc
                last_error = f"SMTP recipients {codes}"
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if attempt < self._config.max_attempts:
                self._sleep(backoff_delay(attempt, self._config.backoff_s, self._config.backoff_max_s))
        raise TransientDeliveryError(f"SMTP unavailable after {self._config.max_attempts} attempts: {last_error}")

    def health(self) -> tuple[bool, str]:
        try:
            with self._connect() as smtp:
                code, _ = smtp.noop()
        except (smtplib.SMTPException, OSError) as exc:
            return False, f"SMTP unreachable: {type(exc).__name__}"
        return code == 250, f"SMTP NOOP {code}"
