"""Pseudonymous customer keys: a keyed HMAC of the source identifier, so raw ids never leave the edge."""

import hashlib
import hmac
import re

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalise_identifier(raw: str) -> str:
    """'123.456.789-09' and '12345678909' are the same person."""
    return _NON_ALNUM.sub("", raw).upper()


def customer_key(source_identifier: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), normalise_identifier(source_identifier).encode(), hashlib.sha256)
    return "ck_" + digest.hexdigest()[:40]
