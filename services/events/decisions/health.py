"""A model's health read from its responses: how well its propensities rank acceptances
(AUC), and whether they are as high as the acceptances they foretell (calibration by decile).
Pure, over (propensity when offered, accepted) pairs."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Decile:
    decile: int  # 1 holds the lowest propensities
    responses: int
    accepted: int
    mean_propensity: float

    @property
    def acceptance(self) -> float:
        return self.accepted / self.responses if self.responses else 0.0


def auc(scored: Sequence[tuple[float, bool]]) -> float | None:
    """The probability that an acceptance was given a higher propensity than a refusal, ties
    counted half (Mann-Whitney by ranks); None while either kind is missing."""
    positives = sum(1 for _, accepted in scored if accepted)
    negatives = len(scored) - positives
    if positives == 0 or negatives == 0:
        return None
    ordered = sorted(scored, key=lambda pair: pair[0])
    rank_sum, position = 0.0, 0
    while position < len(ordered):
        end = position
        while end < len(ordered) and ordered[end][0] == ordered[position][0]:
            end += 1
        mid_rank = (position + 1 + end) / 2  # ranks are 1-based; ties share the mean rank
        rank_sum += mid_rank * sum(1 for _, accepted in ordered[position:end] if accepted)
        position = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def deciles(scored: Sequence[tuple[float, bool]]) -> list[Decile]:
    """The responses in ten groups of (nearly) equal size by propensity."""
    ordered = sorted(scored, key=lambda pair: pair[0])
    groups = []
    for n in range(10):
        part = ordered[n * len(ordered) // 10 : (n + 1) * len(ordered) // 10]
        if not part:
            continue
        groups.append(
            Decile(
                decile=n + 1,
                responses=len(part),
                accepted=sum(1 for _, accepted in part if accepted),
                mean_propensity=sum(p for p, _ in part) / len(part),
            )
        )
    return groups


def calibration_error(groups: Sequence[Decile]) -> float | None:
    """The expected calibration error: the gap between foretold and seen acceptance, weighed
    by each decile's responses."""
    total = sum(g.responses for g in groups)
    if total == 0:
        return None
    return sum(g.responses * abs(g.mean_propensity - g.acceptance) for g in groups) / total
