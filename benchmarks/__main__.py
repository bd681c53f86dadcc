"""Runs every benchmark and prints one table. `python -m benchmarks [name ...]`."""

from __future__ import annotations

import importlib
import os
import signal
import sys

SUITES = ("ingest", "features", "scoring", "recommendations", "decisions", "console", "assistant")
# BENCH=soak: only the request path's 10-minute memory soak (with its rate steps).
SOAK_SUITES = ("recommendations",)


def _terminate(*_: object) -> None:
    raise SystemExit(143)  # unwinds the suites' context managers: no server left behind


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    chosen = argv or list(SOAK_SUITES if os.environ.get("BENCH", "").lower() == "soak" else SUITES)
    print("Prometeo benchmarks — each figure against a baseline measured in the same run\n")
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"[{name}]")
        for figure in module.run():
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
