"""The active policy, reloaded when its file's mtime changes.

An invalid edit never replaces a working policy: the error is kept (and shown by GET /v1/policy)
while decisions continue under the last valid version.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from next_best_action.domain.policy import Policy, PolicyError, load_policy
from prometeo import clock

log = logging.getLogger(__name__)


class PolicySource:
    def __init__(self, path: Path, check_interval_s: float = 1.0) -> None:
        self.path = path
        self._check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._policy = load_policy(path)  # a service never starts on an invalid policy
        self._mtime = self._stat()
        self._checked = clock.monotonic()
        self.loaded_at = clock.now()
        self.last_error: str | None = None

    def current(self) -> Policy:
        now = clock.monotonic()
        if now - self._checked >= self._check_interval_s:
            with self._lock:
                self._checked = now
                self._reload_if_changed()
        return self._policy

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def _reload_if_changed(self) -> None:
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            policy = load_policy(self.path)
        except PolicyError as exc:
            self.last_error = str(exc)
            log.error(
                "policy reload refused; keeping the previous policy",
                extra={"path": str(self.path), "error": str(exc)[:1000]},
            )
            return
        self._policy, self.loaded_at, self.last_error = policy, clock.now(), None
        log.info("policy reloaded", extra={"path": str(self.path), "version": policy.version})
