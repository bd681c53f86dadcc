"""Presentations the broker has already acknowledged, kept a short while per process.

Showing the same offers again records nothing new: the event id is derived from the decision id, and the
decision id from the customer, their scores, the day and the objective, so campaigns treats a repeat as
the event it already holds. Re-publishing it still cost a produce request and its ack wait (next-best-action's
sender thread, the broker) and a consumption of the duplicate in campaigns. A presentation whose exact
payload (offers, ranking, whom it was shown to) was acknowledged less than `ttl_s` ago is therefore answered
without a second record: the record it would write is already durable. Any difference in the payload
(another offer, a lever, another advisor) is a new fingerprint and is published and acknowledged first; new
scores (after an erasure too) make a new decision id, so a new fingerprint.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

TTL_S = 60.0
MAX_ENTRIES = 50_000


class AckedPresentations:
    def __init__(
        self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._monotonic = monotonic
        self._acked: dict[tuple[str, bytes], float] = {}  # insertion order = acknowledgement order

    def acked(self, customer_key: str, payload: bytes) -> bool:
        """True when this customer's presentation with exactly this payload was acknowledged within `ttl_s`."""
        at = self._acked.get(_key(customer_key, payload))
        return at is not None and self._monotonic() - at < self._ttl_s

    def remember(self, customer_key: str, payload: bytes) -> None:
        """Called only once the broker acknowledged the presentation's record."""
        key = _key(customer_key, payload)
        self._acked.pop(key, None)  # re-inserted last: the dict stays in acknowledgement order
        if len(self._acked) >= self._max:
            del self._acked[next(iter(self._acked))]
        self._acked[key] = self._monotonic()


def _key(customer_key: str, payload: bytes) -> tuple[str, bytes]:
    # A 16-byte digest, not the payload: a presentation's JSON is kilobytes, and the table holds 50,000.
    return customer_key, hashlib.blake2b(payload, digest_size=16).digest()
