"""Redis adapter for moments that matter (docs: the service README's key table):

nba:customer:{ck}:triggers   hash  "{trigger_key}" → the action JSON (claimed), "{trigger_key}|done" → "1" once
                                   published, "last|{trigger}" → ISO time it last acted; erased with the
                                   customer, TTL 400 d (longer than any trigger's key can recur)
nba:customer:{ck}:acquired   hash  product → ISO date acquired here (post-acquisition trigger); TTL 400 d
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import redis

from next_best_action.domain.triggers import TriggerName
from prometeo import keys
from prometeo.contracts import ProductCode

TTL_S = 400 * 24 * 3600

# Claim a trigger key: the first caller stores its action; later ones get the stored action back (to
# republish it if the first never finished) or nothing when it was published.
_CLAIM = """
if redis.call('HGET', KEYS[1], ARGV[1] .. '|done') then return {2, ''} end
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then return {1, stored} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {0, ARGV[2]}
"""


class TriggerStore:
    CLAIMED, RESUMED, DONE = 0, 1, 2

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._claim = client.register_script(_CLAIM)

    def claim(self, customer_key: str, trigger_key: str, action_json: str) -> tuple[int, str]:
        """→ (CLAIMED: ours to publish | RESUMED: an unfinished earlier claim's action | DONE, action JSON)."""
        state, stored = self._claim(keys=[_triggers(customer_key)], args=[trigger_key, action_json, TTL_S])
        return int(state), stored.decode() if isinstance(stored, bytes) else str(stored)

    def done(self, customer_key: str, trigger_key: str, trigger: TriggerName, at: datetime) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            _triggers(customer_key), mapping={f"{trigger_key}|done": "1", f"last|{trigger.value}": at.isoformat()}
        )
        pipe.expire(_triggers(customer_key), TTL_S)
        pipe.execute()

    def last_fired(self, customer_key: str) -> dict[TriggerName, datetime]:
        out = {}
        for field, value in self._redis.hgetall(_triggers(customer_key)).items():
            name = field.decode() if isinstance(field, bytes) else str(field)
            if name.startswith("last|"):
                raw = value.decode() if isinstance(value, bytes) else str(value)
                out[TriggerName(name.removeprefix("last|"))] = datetime.fromisoformat(raw)
        return out

    def record_acquisition(self, customer_key: str, product: ProductCode, since: date) -> None:
        key = keys.customer(keys.NBA, customer_key, "acquired")
        self._redis.hsetnx(key, product.value, since.isoformat())
        self._redis.expire(key, TTL_S)

    def acquired(self, customer_key: str) -> dict[ProductCode, date]:
        return self.acquired_from(self._redis.hgetall(keys.customer(keys.NBA, customer_key, "acquired")))

    @staticmethod
    def queue_acquired(pipe: Any, customer_key: str) -> None:
        pipe.hgetall(keys.customer(keys.NBA, customer_key, "acquired"))

    @staticmethod
    def acquired_from(raw: Mapping[Any, Any]) -> dict[ProductCode, date]:
        return {
            ProductCode(k.decode() if isinstance(k, bytes) else str(k)): date.fromisoformat(
                v.decode() if isinstance(v, bytes) else str(v)
            )
            for k, v in raw.items()
        }


def _triggers(customer_key: str) -> str:
    return keys.customer(keys.NBA, customer_key, "triggers")
