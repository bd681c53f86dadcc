"""Realised model quality from offer outcomes: acceptance, AUC and calibration (ECE) per model version.

Outcomes arrive one by one and are counted in fixed propensity bins (what campaigns keeps in Redis:
offers sent, acceptances and Σ propensity per bin and version), so the measures come from counters,
not from a scan of every offer. Binned AUC treats scores within one bin as ties (the error is below
1/BINS of the ranking information; 50 bins keep it negligible for promotion decisions).

Shared by campaigns (which counts and exports the gauges) and scoring's promotion CLI (which reads
campaigns' `GET /v1/model-quality`). Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BINS = 50
PROPENSITY_SCALE = 1_000_000  # Σ propensity is counted in millionths (Redis HINCRBY takes integers)


def bin_of(propensity: float) -> int:
    return min(BINS - 1, max(0, int(propensity * BINS)))


@dataclass(frozen=True)
class Bin:
    sent: int = 0
    accepted: int = 0
    propensity_sum: float = 0.0


@dataclass(frozen=True)
class Quality:
    version: str
    sent: int
    accepted: int
    auc: float  # NaN until both classes are seen
    ece: float  # expected calibration error: Σ_bins n/N · |mean propensity − acceptance rate|
    mean_propensity: float

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.sent if self.sent else math.nan


def quality(version: str, bins: Mapping[int, Bin]) -> Quality:
    sent = sum(b.sent for b in bins.values())
    accepted = sum(min(b.accepted, b.sent) for b in bins.values())
    ece = 0.0
    for b in bins.values():
        if b.sent:
            ece += b.sent / sent * abs(b.propensity_sum / b.sent - min(b.accepted, b.sent) / b.sent)
    return Quality(
        version=version,
        sent=sent,
        accepted=accepted,
        auc=binned_auc(bins),
        ece=ece if sent else math.nan,
        mean_propensity=sum(b.propensity_sum for b in bins.values()) / sent if sent else math.nan,
    )


def binned_auc(bins: Mapping[int, Bin]) -> float:
    """P(an accepted offer's score > a not-accepted one's), ties (same bin) counting one half."""
    positives = sum(min(b.accepted, b.sent) for b in bins.values())
    negatives = sum(b.sent - min(b.accepted, b.sent) for b in bins.values())
    if not positives or not negatives:
        return math.nan
    wins, negatives_below = 0.0, 0
    for index in sorted(bins):
        b = bins[index]
        pos = min(b.accepted, b.sent)
        neg = b.sent - pos
        wins += pos * (negatives_below + 0.5 * neg)
        negatives_below += neg
    return wins / (positives * negatives)


def bins_from(rows: Iterable[tuple[float, int]]) -> dict[int, Bin]:
    """(propensity, accepted 0/1) rows → bins (for batch callers: the simulator, tests)."""
    sent: dict[int, int] = {}
    accepted: dict[int, int] = {}
    total: dict[int, float] = {}
    for propensity, hit in rows:
        i = bin_of(propensity)
        sent[i] = sent.get(i, 0) + 1
        accepted[i] = accepted.get(i, 0) + int(hit)
        total[i] = total.get(i, 0.0) + propensity
    return {i: Bin(sent[i], accepted[i], total[i]) for i in sent}


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reason: str


def challenger_verdict(champion: Quality, challenger: Quality, *, margin: float, min_outcomes: int) -> Verdict:
    """Promote when each version has `min_outcomes` offers sent and the challenger's realised AUC beats
    the champion's by `margin` without worse calibration than the champion's ECE + margin."""
    if min(champion.sent, challenger.sent) < min_outcomes:
        return Verdict(False, f"not enough outcomes yet (need {min_outcomes} per version)")
    if math.isnan(champion.auc) or math.isnan(challenger.auc):
        return Verdict(False, "AUC not measurable yet (no acceptances or no refusals)")
    if challenger.auc < champion.auc + margin:
        return Verdict(False, f"challenger AUC {challenger.auc:.3f} not ≥ champion {champion.auc:.3f} + {margin}")
    if challenger.ece > champion.ece + margin:
        return Verdict(False, f"challenger ECE {challenger.ece:.3f} worse than champion {champion.ece:.3f}")
    return Verdict(True, f"challenger AUC {challenger.auc:.3f} beats champion {champion.auc:.3f} by ≥ {margin}")
