"""In-memory application of mutations: the same semantics as the Redis Lua script, for training
snapshots and replays without a Redis (tests prove the two agree)."""

from __future__ import annotations

from dataclasses import dataclass, field

from feature_store.domain.aggregation import LAST_EVENT_AT, CustomerState, Increment, Mutation


@dataclass
class MemoryCustomer:
    months: dict[str, dict[str, str]] = field(default_factory=dict)
    profile: dict[str, str] = field(default_factory=dict)
    txns: dict[str, list[Increment]] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)

    def _incr(self, ops: list[Increment], sign: int) -> None:
        for month, fld, delta in ops:
            bucket = self.months.setdefault(month, {})
            bucket[fld] = str(int(bucket.get(fld, "0")) + sign * delta)

    def apply(self, event_id: str, mutation: Mutation) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        if mutation.transaction_id:
            old = self.txns.pop(mutation.transaction_id, None)
            if old:
                self._incr(old, -1)
            if not mutation.delete_transaction:
                self._incr(mutation.increments, 1)
                self.txns[mutation.transaction_id] = list(mutation.increments)
        for month, fld, ts, value in mutation.newest:
            bucket = self.months.setdefault(month, {})
            current = bucket.get(fld)
            if current is None or float(current.split("|", 1)[0]) <= ts:
                bucket[fld] = f"{ts!r}|{value}"
        self.profile.update(mutation.profile)
        if mutation.occurred_at is not None:
            seen = self.profile.get(LAST_EVENT_AT)
            if seen is None or float(seen) < mutation.occurred_at:
                self.profile[LAST_EVENT_AT] = repr(mutation.occurred_at)
        return True

    def state(self) -> CustomerState:
        return CustomerState(months={m: dict(f) for m, f in self.months.items()}, profile=dict(self.profile))
