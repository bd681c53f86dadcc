"""The same-run baseline of the request benchmarks: a bare FastAPI endpoint on the same uvicorn setup
as the services (`uvicorn.run` defaults, one worker), answering a recommendation-sized JSON body.

python -m benchmarks.bare_app PORT
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from fastapi import FastAPI

app = FastAPI(title="bare")

_BODY: dict[str, Any] = {
    "customer_key": "ck_" + "0" * 32,
    "decision_id": "dc_" + "0" * 32,
    "model_version": "7",
    "generated_at": "2026-12-01T12:00:00+00:00",
    "objective": "expected_value",
    "recommendations": [
        {
            "rank": rank,
            "offer_id": f"of_{rank:032d}",
            "product": "credit_card",
            "channel": "app",
            "propensity": 0.42,
            "expected_value": 120.5,
            "reasons": [{"code": f"r{i}", "text": "Reason text of a usual length for an advisor"} for i in range(3)],
            "rules_passed": ["eligible", "consented", "not_held"],
        }
        for rank in (1, 2, 3)
    ],
    "blocked": {"loan": ["already_held"]},
}


@app.get("/v1/customers/{customer_id}/recommendations")
async def recommendations(customer_id: str, lang: str = "es") -> dict[str, Any]:
    return _BODY


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
