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


@dataclass(frozen=True)
class SimulationResult:
    predicted_service_level: float
    reference_service_level: float
    simulated_service_level: float
    offered: int
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None


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
            answer = await self._client.put(
                f"/v1/agents/{agent_id}/state", json={"state": "available", "at": self.at(-1)}
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

    async def play(self) -> None:
        while self._events:
            when, number, kind, subject = heapq.heappop(self._events)
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


async def simulate(
    client: httpx.AsyncClient, simulation: Simulation, *, start: datetime, queue: str = "general"
) -> SimulationResult:
    """Run the traffic through the API from ``start`` (simulated time) and read the service
    level back from ``/v1/stats``, leaving out the warm-up calls (the floor starts empty)."""
    floor = _Floor(client, start, queue)
    run = uuid.uuid4().hex[:6]
    await floor.staff([f"SIM-{run}-{i:02d}" for i in range(simulation.agents)])
    traffic = _Traffic(floor, simulation, queue=queue)
    await traffic.play()
    stats = await client.get(
        "/v1/stats",
        params={"from": floor.at(traffic.warm_up_end), "to": floor.at(traffic.last_arrival + 1)},
    )
    stats.raise_for_status()
    figures = next(q for q in stats.json()["queues"] if q["queue"] == queue)
    within = stats.json()["service_level_seconds"]
    return SimulationResult(
        predicted_service_level=erlang_c_service_level(
            simulation.agents, simulation.load, simulation.handle_seconds, within
        ),
        reference_service_level=reference_service_level(simulation, within),
        simulated_service_level=figures["service_level"],
        offered=figures["offered"],
        average_speed_of_answer_seconds=figures["average_speed_of_answer_seconds"],
        average_handle_time_seconds=figures["average_handle_time_seconds"],
    )


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
    Erlang C's prediction. It adds agents and calls to the service it is pointed at."""
    simulation = Simulation(agents, calls_per_hour, handle_seconds, calls, calls // 10, seed)
    start = datetime.now(UTC) - timedelta(seconds=simulation.span_seconds * 1.5)

    async def go() -> SimulationResult:
        async with httpx.AsyncClient(
            base_url=url, timeout=30, headers=bearer_headers(token)
        ) as client:
            return await simulate(client, simulation, start=start)

    result = asyncio.run(go())
    click.echo(
        f"load {simulation.load:.2f} erlangs on {agents} agents, {result.offered} calls: "
        f"service level through the API {result.simulated_service_level:.3f}, "
        f"ideal FCFS floor on the same draws {result.reference_service_level:.3f}, "
        f"Erlang C {result.predicted_service_level:.3f}"
    )
