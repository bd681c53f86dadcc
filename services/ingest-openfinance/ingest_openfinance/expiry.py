"""Background sweep that ends consents whose expiry time has passed (no status update will come)."""

from __future__ import annotations

import logging
import threading

from ingest_openfinance.usecases.consents import ConsentRegistration

log = logging.getLogger(__name__)


class ExpirySweeper:
    def __init__(self, consents: ConsentRegistration, interval_s: float) -> None:
        self._consents = consents
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consent-expiry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                if expired := self._consents.expire_due():
                    log.info("consents expired by time", extra={"count": expired})
            except Exception:
                log.exception("consent expiry sweep failed")
