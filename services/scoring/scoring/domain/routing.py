"""Which model serves a customer: a configured share of customers, chosen by a stable hash of the
customer key, is scored by the challenger (the same customer always gets the same model, so their
offers and outcomes measure one version)."""

from __future__ import annotations

import hashlib


def serves_challenger(customer_key: str, share: float) -> bool:
    if share <= 0:
        return False
    digest = hashlib.blake2b(f"challenger:{customer_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share
