"""Champion vs challenger on live traffic: realised quality per version, and promotion in one command.

    python -m scoring.promotion report  [--campaigns-url URL]
    python -m scoring.promotion promote [--campaigns-url URL] [--margin 0.01] [--min-outcomes 500]

Realised quality (acceptance, AUC, calibration) comes from campaigns' `GET /v1/model-quality`, counted
from the outcomes of the offers each version's scores decided. `promote` moves the `champion` alias to
the challenger's version (and `previous-champion` to the old one, for a rollback) only when the
challenger wins by the margin over enough outcomes; the scoring service's watcher then loads it.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

from mlflow import MlflowClient

from prometeo.model_quality import Quality, Verdict, challenger_verdict
from prometeo.service_tokens import internal_client
from prometeo.settings import SharedSettings
from scoring.models import RegistryLoader
from scoring.settings import get_settings
from scoring.training.registry import CHALLENGER, CHAMPION

PREVIOUS_CHAMPION = "previous-champion"


@dataclass(frozen=True)
class Comparison:
    champion: Quality
    challenger: Quality | None
    verdict: Verdict

    def table(self) -> str:
        rows = [("champion", self.champion)] + ([("challenger", self.challenger)] if self.challenger else [])
        lines = [f"{'alias':<11} {'version':>7} {'sent':>7} {'accepted':>8} {'accept%':>8} {'auc':>6} {'ece':>6}"]
        for alias, q in rows:
            lines.append(
                f"{alias:<11} {q.version:>7} {q.sent:>7} {q.accepted:>8} {_pct(q.acceptance_rate):>8} "
                f"{_num(q.auc):>6} {_num(q.ece):>6}"
            )
        return "\n".join([*lines, ("PROMOTE: " if self.verdict.promote else "keep champion: ") + self.verdict.reason])


def compare(
    qualities: dict[str, Quality],
    champion: str,
    challenger: str | None,
    *,
    margin: float,
    min_outcomes: int,
) -> Comparison:
    empty = Quality(champion, 0, 0, math.nan, math.nan, math.nan)
    own = qualities.get(champion, empty)
    if challenger is None:
        return Comparison(own, None, Verdict(False, "no challenger registered"))
    other = qualities.get(challenger, Quality(challenger, 0, 0, math.nan, math.nan, math.nan))
    return Comparison(own, other, challenger_verdict(own, other, margin=margin, min_outcomes=min_outcomes))


def fetch_qualities(campaigns_url: str, settings: SharedSettings) -> dict[str, Quality]:
    """campaigns is internal: the call carries a scoring → campaigns service token."""
    with internal_client(settings, "scoring", audience="campaigns", timeout=15.0) as client:
        response = client.get(f"{campaigns_url.rstrip('/')}/v1/model-quality")
    response.raise_for_status()
    return {
        v["model_version"]: Quality(
            version=v["model_version"],
            sent=v["sent"],
            accepted=v["accepted"],
            auc=math.nan if v["auc"] is None else v["auc"],
            ece=math.nan if v["ece"] is None else v["ece"],
            mean_propensity=math.nan if v["mean_propensity"] is None else v["mean_propensity"],
        )
        for v in response.json()["versions"]
    }


def promote_challenger(tracking_uri: str, model_name: str) -> tuple[str, str]:
    """Challenger → champion, old champion → previous-champion; → (new champion, old champion)."""
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    loader = RegistryLoader(tracking_uri, model_name)
    champion, challenger = loader.version_of(CHAMPION), loader.version_of(CHALLENGER)
    if champion is None or challenger is None:
        raise SystemExit("both a champion and a challenger must be registered")
    client.set_registered_model_alias(model_name, PREVIOUS_CHAMPION, champion)
    client.set_registered_model_alias(model_name, CHAMPION, challenger)
    client.delete_registered_model_alias(model_name, CHALLENGER)
    return challenger, champion


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m scoring.promotion", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=["report", "promote"])
    parser.add_argument("--campaigns-url", default=settings.campaigns_url)
    parser.add_argument("--tracking-uri", default=settings.mlflow_tracking_uri)
    parser.add_argument("--model-name", default=settings.model_name)
    parser.add_argument("--margin", type=float, default=settings.promotion_margin, help="realised AUC to win by")
    parser.add_argument("--min-outcomes", type=int, default=settings.promotion_min_outcomes)
    args = parser.parse_args(argv)
    loader = RegistryLoader(args.tracking_uri, args.model_name)
    champion = loader.version_of(CHAMPION)
    if champion is None:
        print(f"{args.model_name} has no champion", file=sys.stderr)
        return 2
    comparison = compare(
        fetch_qualities(args.campaigns_url, settings),
        champion,
        loader.version_of(CHALLENGER),
        margin=args.margin,
        min_outcomes=args.min_outcomes,
    )
    print(comparison.table())
    if args.command == "promote":
        if not comparison.verdict.promote:
            return 1
        new, old = promote_challenger(args.tracking_uri, args.model_name)
        print(f"{args.model_name}: champion v{old} → v{new} (v{old} kept as @{PREVIOUS_CHAMPION})")
    return 0


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"


def _num(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
