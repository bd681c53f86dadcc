"""Runs benchmarks and prints one table. `python -m benchmarks [name ...]`; without names, `BENCH` chooses:

- unset (or `quick`, shorter steps): every suite but `run`, the request path's soak short (90 s);
- `run`: `make run` to first recommendations, then event-to-offer latency at 200 and 1,000 events/s;
- `soak`: only the request path's rate steps and its 10-minute memory soak;
- `all`: every figure — each suite, the 10-minute soak, then `run` — about an hour on two cores.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

SUITES = ("ingest", "features", "scoring", "recommendations", "decisions", "console", "assistant")
MODES: dict[str, tuple[str, ...]] = {
    "run": ("run",),
    "soak": ("recommendations",),  # benchmarks/recommendations.py soaks 10 minutes under BENCH=soak or all
    "all": (*SUITES, "run"),
}


def _terminate(*_: object) -> None:
    raise SystemExit(143)  # unwinds the suites' context managers: no server left behind


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    chosen = argv or list(MODES.get(os.environ.get("BENCH", "").lower(), SUITES))
    print("Prometeo benchmarks — each figure against a baseline measured in the same run\n")
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"[{name}]")
        for figure in module.run():
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
