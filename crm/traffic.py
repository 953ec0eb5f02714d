"""A traffic simulator for the contact centre, and the Erlang models to check it against.

The simulator drives the real HTTP API with Poisson arrivals and exponential handle times
for a given number of agents. It runs in simulated time: each request carries ``at``, the
moment the switch would report, and the events are sent in time order, so hours of traffic
take seconds and the result does not depend on how fast the machine is. Agents answer the
moment a call is offered and wrap up as it ends. Without a patience, nobody abandons (Erlang
C assumes callers wait); with one, each caller draws an exponential patience of that mean and
hangs up when it runs out before an answer (Erlang A). Either way the service's own service
level can be compared with the model's (``services.contact_center.staffing.erlang``).
"""

import asyncio
import heapq
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx

from crm.tokens import bearer_headers, token_option
from services.contact_center.staffing.erlang import Traffic, performance


@dataclass(frozen=True)
class Simulation:
    agents: int
    calls_per_hour: float
    handle_seconds: float
    calls: int
    warm_up_calls: int
    seed: int
    # The mean of callers' exponential patience; None: nobody hangs up before an answer.
    patience_seconds: float | None = None

    @property
    def load(self) -> float:
        return self.calls_per_hour / 3600 * self.handle_seconds

    @property
    def traffic(self) -> Traffic:
        return Traffic(self.calls_per_hour / 3600, self.handle_seconds, self.patience_seconds)

    @property
    def span_seconds(self) -> float:
        """Roughly how long the traffic lasts in simulated time, with room to finish."""
        return self.calls / self.calls_per_hour * 3600 + 20 * self.handle_seconds


@dataclass(frozen=True)
class Draw:
    arrival: float  # seconds from the start
    handle: float
    patience: float  # math.inf when callers wait for ever


def draws(simulation: Simulation) -> list[Draw]:
    """Each call's arrival, handle time and patience, from the seed. Patience comes from a
    stream of its own, so that a seed gives the same arrivals and handle times with and
    without it."""
    rng = random.Random(simulation.seed)
    patience_rng = random.Random(f"patience-{simulation.seed}")
    rate = simulation.calls_per_hour / 3600
    moment, drawn = 0.0, []
    for _ in range(simulation.calls):
        moment += rng.expovariate(rate)
        handle = rng.expovariate(1 / simulation.handle_seconds)
        patience = (
            patience_rng.expovariate(1 / simulation.patience_seconds)
            if simulation.patience_seconds
            else float("inf")
        )
        drawn.append(Draw(moment, handle, patience))
    return drawn


@dataclass(frozen=True)
class FloorFigures:
    offered: int
    service_level: float  # answered within the threshold over offered
    abandonment: float


def reference_floor(
    simulation: Simulation, within: float, *, calls: list[Draw] | None = None
) -> FloorFigures:
    """The draws (or ``calls``) through an ideal first-come-first-served floor of N agents,
    computed here without the service: what a correct router must reproduce call for call.
    A caller whose patience runs out before an agent is free hangs up and takes no agent's
    time. The warm-up calls are left out of the figures (the floor starts empty)."""
    free_at = [float("-inf")] * simulation.agents  # free from before the first arrival
    answered_within = abandoned = 0
    for number, call in enumerate(calls if calls is not None else draws(simulation)):
        measured = number >= simulation.warm_up_calls
        if not free_at:  # nobody to answer: no call is answered, whatever the callers do
            abandoned += measured and call.patience < float("inf")
            continue
        start = max(call.arrival, free_at[0])
        if start - call.arrival > call.patience:
            abandoned += measured
            continue
        heapq.heapreplace(free_at, start + call.handle)
        if measured and start - call.arrival <= within:
            answered_within += 1
    offered = max(0, (simulation.calls if calls is None else len(calls)) - simulation.warm_up_calls)
    return FloorFigures(
        offered,
        answered_within / offered if offered else 1.0,
        abandoned / offered if offered else 0.0,
    )


def reference_service_level(simulation: Simulation, within: float) -> float:
    return reference_floor(simulation, within).service_level


def reference_interval(
    simulation: Simulation, within: float, *, replications: int = 200
) -> tuple[float, float]:
    """Where 95% of runs of this many calls fall: the ideal floor's service level over
    ``replications`` other seeds, its 2.5th and 97.5th percentiles. A run of a few thousand
    calls varies well beyond Erlang C's long-run figure, and this says by how much."""
    levels = sorted(
        reference_service_level(replace(simulation, seed=seed), within)
        for seed in range(simulation.seed + 1, simulation.seed + 1 + replications)
    )
    return levels[int(0.025 * replications)], levels[int(0.975 * replications) - 1]


@dataclass(frozen=True)
class SimulationResult:
    predicted_service_level: float  # Erlang C, or Erlang A when callers have a patience
    predicted_abandonment: float
    reference_service_level: float
    reference_abandonment: float
    simulated_service_level: float | None
    simulated_abandonment: float | None
    offered: int
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None
    within_seconds: float


class _Floor:
    """Sends the switch's and the agents' side of each call to the API."""

    def __init__(self, client: httpx.AsyncClient, start: datetime, queue: str) -> None:
        self._client = client
        self._start = start
        self._queue = queue

    def at(self, seconds: float) -> str:
        return (self._start + timedelta(seconds=seconds)).isoformat()

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._client.post(path, json=body)
        if answer.status_code >= 300:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
        result: dict[str, Any] = answer.json()
        return result

    async def staff(self, agent_ids: list[str]) -> None:
        for agent_id in agent_ids:
            await self.post(
                "/v1/agents",
                {"id": agent_id, "name": agent_id, "skills": [self._queue], "at": self.at(-2)},
            )
            await self.set_state(agent_id, "available", seconds=-1)

    async def set_state(self, agent_id: str, state: str, *, seconds: float) -> None:
        answer = await self._client.put(
            f"/v1/agents/{agent_id}/state", json={"state": state, "at": self.at(seconds)}
        )
        answer.raise_for_status()


class _Traffic:
    """The simulation's events in time order, each sent to the API as it comes: (time, order,
    kind, subject), where arrivals carry their draw, and ends and give-ups, added as calls are
    answered or left waiting, carry the call id."""

    def __init__(self, floor: _Floor, simulation: Simulation, *, queue: str) -> None:
        self._floor = floor
        self._queue = queue
        self._warm_up_calls = simulation.warm_up_calls
        self._events: list[tuple[float, int, str, Any]] = [
            (call.arrival, order, "arrive", call) for order, call in enumerate(draws(simulation))
        ]
        self.last_arrival = self._events[-1][0]
        heapq.heapify(self._events)
        # Calls not yet answered, with their handle time: a give-up finds its call here.
        self._handle_of: dict[str, float] = {}
        self._order = simulation.calls
        self.warm_up_end = 0.0
        self.finished = 0.0

    async def play(self) -> None:
        while self._events:
            when, number, kind, subject = heapq.heappop(self._events)
            self.finished = when
            if kind == "arrive":
                await self._arrive(when, number, subject)
            elif kind == "give_up":
                await self._give_up(when, subject)
            else:
                await self._end(when, subject)

    def _schedule(self, when: float, kind: str, call_id: str) -> None:
        self._order += 1
        heapq.heappush(self._events, (when, self._order, kind, call_id))

    async def _arrive(self, when: float, number: int, draw: Draw) -> None:
        if number == self._warm_up_calls:
            self.warm_up_end = when
        arrived = await self._floor.post(
            "/v1/calls",
            {"dialled_number": "95588", "queue": self._queue, "at": self._floor.at(when)},
        )
        call = arrived["call"]
        self._handle_of[call["id"]] = draw.handle
        if call["status"] == "offered":
            await self._take(call, when)
        elif draw.patience < float("inf"):
            self._schedule(when + draw.patience, "give_up", call["id"])

    async def _give_up(self, when: float, call_id: str) -> None:
        if self._handle_of.pop(call_id, None) is None:
            return  # answered before the caller's patience ran out
        await self._floor.post(f"/v1/calls/{call_id}/hang-up", {"at": self._floor.at(when)})

    async def _end(self, when: float, call_id: str) -> None:
        done = await self._floor.post(
            f"/v1/calls/{call_id}/wrap-up",
            {"wrap_up_code": "simulated", "at": self._floor.at(when)},
        )
        if done["next_call"] is not None:
            await self._take(done["next_call"], when)

    async def _take(self, call: dict[str, Any], when: float) -> None:
        await self._floor.post(
            f"/v1/calls/{call['id']}/answer",
            {"agent_id": call["agent_id"], "at": self._floor.at(when)},
        )
        self._schedule(when + self._handle_of.pop(call["id"]), "end", call["id"])


SIMULATION_QUEUE = "simulation"
# How many earlier windows to try before giving up on finding one no run has used.
WINDOWS_TO_TRY = 50


async def simulate(
    client: httpx.AsyncClient,
    simulation: Simulation,
    *,
    start: datetime,
    queue: str = SIMULATION_QUEUE,
) -> SimulationResult:
    """Run the traffic through the API on a queue and in a window of its own, and read the
    service level back from ``/v1/stats``, leaving out the warm-up calls (the floor starts
    empty). ``start`` (simulated time) moves earlier, a window at a time, while the queue
    already has calls there (an earlier run's); the run's agents are signed out at its end,
    so that the next run finds the floor as this one did."""
    start = await _free_window(client, simulation, start=start, queue=queue)
    floor = _Floor(client, start, queue)
    run = uuid.uuid4().hex[:6]
    agent_ids = [f"SIM-{run}-{i:02d}" for i in range(simulation.agents)]
    await floor.staff(agent_ids)
    traffic = _Traffic(floor, simulation, queue=queue)
    try:
        await traffic.play()
    finally:
        for agent_id in agent_ids:
            await floor.set_state(agent_id, "offline", seconds=traffic.finished + 1)
    stats = await client.get(
        "/v1/stats",
        params={"from": floor.at(traffic.warm_up_end), "to": floor.at(traffic.last_arrival + 1)},
    )
    stats.raise_for_status()
    figures: dict[str, Any] = next((q for q in stats.json()["queues"] if q["queue"] == queue), {})
    within = stats.json()["service_level_seconds"]
    predicted = performance(simulation.agents, simulation.traffic, within=within)
    reference = reference_floor(simulation, within)
    return SimulationResult(
        predicted_service_level=predicted.service_level,
        predicted_abandonment=predicted.abandonment,
        reference_service_level=reference.service_level,
        reference_abandonment=reference.abandonment,
        simulated_service_level=figures.get("service_level"),
        simulated_abandonment=figures.get("abandonment_rate"),
        offered=figures.get("offered", 0),
        average_speed_of_answer_seconds=figures.get("average_speed_of_answer_seconds"),
        average_handle_time_seconds=figures.get("average_handle_time_seconds"),
        within_seconds=within,
    )


async def _free_window(
    client: httpx.AsyncClient, simulation: Simulation, *, start: datetime, queue: str
) -> datetime:
    span = timedelta(seconds=simulation.span_seconds)
    for _ in range(WINDOWS_TO_TRY):
        # From a span before: an earlier run's calls may still be in progress at ``start``.
        window = {"from": (start - span).isoformat(), "to": (start + span).isoformat()}
        stats = await client.get("/v1/stats", params=window)
        stats.raise_for_status()
        used = any(q["queue"] == queue and q["offered"] for q in stats.json()["queues"])
        if not used:
            return start
        start -= 2 * span
    raise click.ClickException(f"no free window for queue {queue} in {WINDOWS_TO_TRY} tries")


@click.command("simulate-calls")
@click.option("--url", default="http://127.0.0.1:8004", show_default=True)
@click.option("--agents", default=10, show_default=True)
@click.option("--calls-per-hour", default=146.0, show_default=True)
@click.option("--handle-seconds", default=180.0, show_default=True)
@click.option("--calls", default=2000, show_default=True)
@click.option("--seed", default=7, show_default=True)
@token_option
def simulate_calls(
    url: str,
    agents: int,
    calls_per_hour: float,
    handle_seconds: float,
    calls: int,
    seed: int,
    token: str | None,
) -> None:
    """Drive a running contact centre with simulated traffic; print its service level beside
    Erlang C's prediction and the interval a run of that size falls in. It runs on the
    simulation queue, in a window of simulated time no earlier run used, with agents of its
    own that it signs out at the end: the same command twice prints the same figures."""
    simulation = Simulation(agents, calls_per_hour, handle_seconds, calls, calls // 10, seed)
    start = datetime.now(UTC) - timedelta(seconds=simulation.span_seconds * 1.5)

    async def go() -> SimulationResult:
        async with httpx.AsyncClient(
            base_url=url, timeout=30, headers=bearer_headers(token)
        ) as client:
            return await simulate(client, simulation, start=start)

    result = asyncio.run(go())
    low, high = reference_interval(simulation, result.within_seconds)
    measured = result.simulated_service_level
    click.echo(
        f"load {simulation.load:.2f} erlangs on {agents} agents, {result.offered} calls: "
        f"service level through the API "
        f"{'not measured (no calls)' if measured is None else f'{measured:.3f}'}, "
        f"ideal FCFS floor on the same draws {result.reference_service_level:.3f}, "
        f"Erlang C {result.predicted_service_level:.3f}; 95% of runs of "
        f"{calls - simulation.warm_up_calls} calls fall within "
        f"{low:.3f}-{high:.3f} on the ideal floor"
    )
