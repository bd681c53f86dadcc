"""The presentation's read of the stored scores (orjson where it can) gives what json.loads gave."""

from __future__ import annotations

import json
import math
from typing import Any

from next_best_action.store import _loads
from prometeo.contracts.events import ScoresComputedV1
from tests.unit.next_best_action.factories import scores


def test_stored_scores_read_as_json_loads_read_them() -> None:
    payload: dict[str, Any] = scores().model_dump(mode="json")
    stored = {"occurred_at": "2026-03-01T10:00:00+00:00", "scores": payload}
    for raw in (json.dumps(stored).encode(), '{"a": "é", "b": [1, 2.5e-3, true, null], "a": "last"}'.encode()):
        assert _loads(raw) == json.loads(raw)
    # Integers past 64 bits: orjson reads a float, json an int; every number in the scores is a float field
    # (frozen, no extra fields), so the validated scores are the same.
    payload["features"] = {"balance": 123456789012345678901234567890}
    raw = json.dumps(stored).encode()
    assert ScoresComputedV1.model_validate(_loads(raw)["scores"]) == ScoresComputedV1.model_validate(
        json.loads(raw)["scores"]
    )
    # save_scores writes with json.dumps, which writes NaN; orjson refuses it, json reads it back.
    assert math.isnan(_loads(json.dumps({"p": float("nan")}).encode())["p"])
