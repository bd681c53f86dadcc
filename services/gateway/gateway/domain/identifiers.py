"""Customer identifiers in paths: the bank's own id (e.g. a CPF) or an already-pseudonymous `ck_` key.

Raw ids are turned into the platform's customer_key here, so nothing behind the gateway (upstream
calls, audit events, logs) ever sees them.
"""

from __future__ import annotations

import re

from prometeo.identity import customer_key, normalise_identifier

CUSTOMER_KEY_PREFIX = "ck_"
_CUSTOMER_KEY = re.compile(r"^ck_[A-Za-z0-9_-]{5,125}$")
_MAX_RAW_LENGTH = 64


class InvalidCustomerId(ValueError):
    """The path segment is neither a plausible bank id nor a well-formed customer key."""


def to_customer_key(customer_id: str, secret: str) -> str:
    if customer_id.startswith(CUSTOMER_KEY_PREFIX):
        if not _CUSTOMER_KEY.fullmatch(customer_id):
            raise InvalidCustomerId("malformed customer key")
        return customer_id
    if len(customer_id) > _MAX_RAW_LENGTH or not normalise_identifier(customer_id):
        raise InvalidCustomerId("customer identifier is empty or too long")
    return customer_key(customer_id, secret)
