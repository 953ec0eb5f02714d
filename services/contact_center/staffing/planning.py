"""Agents per interval for the bank's targets, and what a given number of agents would give.

The requirement is the fewest agents whose interval meets every target at once: the service
level (answered within the threshold over offered), the abandonment ceiling where callers'
patience is known (Erlang A; Erlang C otherwise, where nobody hangs up) and the occupancy cap
(agents kept busy above it burn out, whatever the queue says). Rostered staff is that
divided by what shrinkage (breaks, training, absence) leaves of a rostered agent's time.
"""

import math
from dataclasses import dataclass

from services.contact_center.staffing.erlang import Performance, Traffic, performance

# No interval of one queue needs more; a forecast that asks for more is refused by the search.
MOST_AGENTS = 5000


@dataclass(frozen=True)
class Targets:
    service_level: float
    within_seconds: float
    max_abandonment: float
    occupancy_cap: float
    shrinkage: float


def meets(figures: Performance, targets: Targets) -> bool:
    return (
        figures.service_level >= targets.service_level
        and figures.abandonment <= targets.max_abandonment
        and figures.occupancy <= targets.occupancy_cap
    )


def agents_required(traffic: Traffic, targets: Targets) -> int:
    """The fewest agents that meet the targets; every figure improves with each agent, so
    the search starts near the load and walks up or down from there."""
    if traffic.calls_per_second <= 0:
        return 0
    agents = max(1, math.floor(traffic.load - 2 * math.sqrt(traffic.load)))
    if meets(performance(agents, traffic, within=targets.within_seconds), targets):
        while agents > 1 and meets(
            performance(agents - 1, traffic, within=targets.within_seconds), targets
        ):
            agents -= 1
        return agents
    while not meets(performance(agents, traffic, within=targets.within_seconds), targets):
        agents += 1
        if agents > MOST_AGENTS:
            raise ValueError(f"more than {MOST_AGENTS} agents for {traffic.load:.1f} erlangs")
    return agents


def rostered(agents: int, shrinkage: float) -> int:
    """Agents to roster so that ``agents`` are at their desks after shrinkage."""
    return math.ceil(agents / (1 - shrinkage) - 1e-9)
