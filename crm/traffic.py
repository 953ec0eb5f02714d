"""A traffic simulator for the contact centre, and the Erlang C model to check it against.

The simulator drives the real HTTP API with Poisson arrivals and exponential handle times
for a given number of agents. It runs in simulated time: each request carries ``at``, the
moment the switch would report, and the events are sent in time order, so hours of traffic
take seconds and the result does not depend on how fast the machine is. Agents answer the
moment a call is offered and wrap up as it ends; nobody abandons (Erlang C assumes callers
wait), so the service's own service level can be compared with the model's.

Erlang C (A. K. Erlang, 1917): with N agents and offered load A = λ × mean handle time
(in erlangs, A < N), the probability a caller waits is

    C(N, A) = N·B / (N − A·(1 − B)),  where B is Erlang B, by B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁)

and the share answered within t is 1 − C(N, A) · exp(−(N − A) · t / mean handle time).
"""

import asyncio
import heapq
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx

from crm.tokens import bearer_headers, token_option


def erlang_c(agents: int, load: float) -> float:
    """The probability that a caller waits (Erlang C), for ``load`` erlangs on ``agents``."""
    if load >= agents:
        return 1.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return agents * blocking / (agents - load * (1 - blocking))


def erlang_c_service_level(agents: int, load: float, handle_seconds: float, within: float) -> float:
    if load >= agents:
        return 0.0
    wait = erlang_c(agents, load)
    return 1 - wait * math.exp(-(agents - load) * within / handle_seconds)


@dataclass(frozen=True)
class Simulation:
    agents: int
    calls_per_hour: float
    handle_seconds: float
    calls: int
    warm_up_calls: int
    seed: int

    @property
    def load(self) -> float:
        return self.calls_per_hour / 3600 * self.handle_seconds

    @property
    def span_seconds(self) -> float:
        """Roughly how long the traffic lasts in simulated time, with room to finish."""
        return self.calls / self.calls_per_hour * 3600 + 20 * self.handle_seconds


def draws(simulation: Simulation) -> list[tuple[float, float]]:
    """Each call's arrival (seconds from the start) and handle time, from the seed."""
    rng = random.Random(simulation.seed)
    rate = simulation.calls_per_hour / 3600
    moment, drawn = 0.0, []
    for _ in range(simulation.calls):
        moment += rng.expovariate(rate)
        drawn.append((moment, rng.expovariate(1 / simulation.handle_seconds)))
    return drawn


def reference_service_level(simulation: Simulation, within: float) -> float:
    """The same draws through an ideal first-come-first-served floor of N agents, computed
    here without the service: what a correct router must reproduce call for call."""
    free_at = [0.0] * simulation.agents
    answered_within = 0
    for number, (arrival, handle) in enumerate(draws(simulation)):
        start = max(arrival, heapq.heappop(free_at))
        heapq.heappush(free_at, start + handle)
        if number >= simulation.warm_up_calls and start - arrival <= within:
            answered_within += 1
    return answered_within / (simulation.calls - simulation.warm_up_calls)


def reference_interval(
    simulation: Simulation, within: float, *, replications: int = 200
) -> tuple[float, float]:
    """Where 95% of runs of this many calls fall: the ideal floor's service level over
    ``replications`` other seeds, its 2.5th and 97.5th percentiles. A run of a few thousand
    calls varies well beyond Erlang C's long-run figure, and this says by how much."""
    levels = sorted(
        reference_service_level(
            Simulation(
                simulation.agents,
                simulation.calls_per_hour,
                simulation.handle_seconds,
                simulation.calls,
                simulation.warm_up_calls,
                seed,
            ),
            within,
        )
        for seed in range(simulation.seed + 1, simulation.seed + 1 + replications)
    )
    return levels[int(0.025 * replications)], levels[int(0.975 * replications) - 1]


@dataclass(frozen=True)
class SimulationResult:
    predicted_service_level: float
    reference_service_level: float
    simulated_service_level: float | None
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
    kind, subject), where arrivals carry their handle time and ends, added as calls are
    answered, carry the call id."""

    def __init__(self, floor: _Floor, simulation: Simulation, *, queue: str) -> None:
        self._floor = floor
        self._queue = queue
        self._warm_up_calls = simulation.warm_up_calls
        self._events: list[tuple[float, int, str, Any]] = [
            (arrival, order, "arrive", handle)
            for order, (arrival, handle) in enumerate(draws(simulation))
        ]
        self.last_arrival = self._events[-1][0]
        heapq.heapify(self._events)
        self._handle_of: dict[str, float] = {}
        self._order = simulation.calls
        self.warm_up_end = 0.0
        self.finished = 0.0

    async def play(self) -> None:
        while self._events:
            when, number, kind, subject = heapq.heappop(self._events)
            self.finished = when
            if kind == "arrive":
                await self._arrive(when, number, handle=subject)
            else:
                await self._end(when, subject)

    async def _arrive(self, when: float, number: int, *, handle: float) -> None:
        if number == self._warm_up_calls:
            self.warm_up_end = when
        arrived = await self._floor.post(
            "/v1/calls",
            {"dialled_number": "95588", "queue": self._queue, "at": self._floor.at(when)},
        )
        call = arrived["call"]
        self._handle_of[call["id"]] = handle
        if call["status"] == "offered":
            await self._take(call, when)

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
        self._order += 1
        ends_at = when + self._handle_of.pop(call["id"])
        heapq.heappush(self._events, (ends_at, self._order, "end", call["id"]))


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
    return SimulationResult(
        predicted_service_level=erlang_c_service_level(
            simulation.agents, simulation.load, simulation.handle_seconds, within
        ),
        reference_service_level=reference_service_level(simulation, within),
        simulated_service_level=figures.get("service_level"),
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
