"""A check against theory: the traffic simulator (``crm.traffic``) drives the API with
Poisson arrivals and exponential handle times on ten agents, at 7.3 erlangs, where Erlang C
predicts a service level of 0.800 within 20 s; the service's own statistics are compared
with the prediction.

Two assertions, because they answer different questions:

* Routing is right: the service's service level equals, to the call, that of an ideal
  first-come-first-served floor fed the same draws (computed in-process, without the
  service). A call left waiting while an agent is free, or taken out of order, breaks it.
* The theory holds: the simulated service level is within 0.08 of Erlang C. A finite run
  scatters around the model: over 100 seeds of the ideal floor at this size (4,000 calls,
  the first 400 left out as warm-up) the service level had standard deviation 0.031, so
  0.08 is about 2.5 standard deviations. The seed is fixed, so the run is reproducible.
"""

from datetime import UTC, datetime, timedelta

import pytest

from crm.traffic import (
    Simulation,
    reference_floor,
    reference_interval,
    reference_service_level,
    simulate,
)
from services.contact_center.staffing.erlang import performance
from tests.service.contact_center.conftest import Floor

ERLANG_TOLERANCE = 0.08
# 200,000 calls with patience on the ideal floor: over 30 seeds the service level had standard
# deviation 0.0035 and the abandonment 0.0016, so 0.01 is about three standard deviations.
LONG_RUN_TOLERANCE = 0.01


@pytest.mark.usefixtures("floor")
async def test_the_simulated_service_level_agrees_with_erlang_c(floor: Floor) -> None:
    simulation = Simulation(
        agents=10, calls_per_hour=146, handle_seconds=180, calls=4000, warm_up_calls=400, seed=7
    )
    start = datetime.now(UTC) - timedelta(seconds=simulation.span_seconds * 1.5)

    result = await simulate(floor.client, simulation, start=start)
    assert result.simulated_service_level is not None

    print(
        f"\nErlang C check: {simulation.load:.2f} erlangs on {simulation.agents} agents, "
        f"{result.offered} calls measured; service level through the API "
        f"{result.simulated_service_level:.4f}, ideal FCFS floor on the same draws "
        f"{result.reference_service_level:.4f}, Erlang C {result.predicted_service_level:.4f}"
    )
    assert result.predicted_service_level == pytest.approx(0.80, abs=0.01)
    assert result.offered == simulation.calls - simulation.warm_up_calls
    assert result.simulated_service_level == pytest.approx(result.reference_service_level, abs=1e-4)
    assert abs(result.simulated_service_level - result.predicted_service_level) <= ERLANG_TOLERANCE


async def test_the_same_simulation_twice_prints_the_same_figures(floor: Floor) -> None:
    simulation = Simulation(
        agents=4, calls_per_hour=70, handle_seconds=180, calls=300, warm_up_calls=30, seed=11
    )
    start = datetime.now(UTC) - timedelta(seconds=simulation.span_seconds * 1.5)

    first = await simulate(floor.client, simulation, start=start)
    second = await simulate(floor.client, simulation, start=start)

    assert first.offered == simulation.calls - simulation.warm_up_calls
    assert second == first
    agents = (await floor.client.get("/v1/agents")).json()
    simulated = [agent for agent in agents if agent["id"].startswith("SIM-")]
    assert len(simulated) == 2 * simulation.agents
    assert {agent["state"] for agent in simulated} == {"offline"}


def test_the_interval_of_a_run_holds_its_own_floor_and_narrows_with_size() -> None:
    small = Simulation(10, 146, 180, 500, 50, 7)
    large = Simulation(10, 146, 180, 4000, 400, 7)

    small_low, small_high = reference_interval(small, 20)
    large_low, large_high = reference_interval(large, 20)

    assert small_low <= reference_service_level(small, 20) <= small_high
    assert large_high - large_low < small_high - small_low
    assert large_low < 0.80 < large_high  # Erlang C's long-run figure for this load


class TestCallersWhoHangUp:
    """Erlang A, checked as Erlang C is: callers with an exponential patience of two minutes,
    on fewer agents than Erlang C would need, so that the queue is kept down by those who
    hang up."""

    SIMULATION = Simulation(
        agents=7,
        calls_per_hour=146,
        handle_seconds=180,
        calls=1500,
        warm_up_calls=150,
        seed=5,
        patience_seconds=120,
    )

    async def test_the_service_answers_and_loses_the_callers_the_ideal_floor_does(
        self, floor: Floor
    ) -> None:
        start = datetime.now(UTC) - timedelta(seconds=self.SIMULATION.span_seconds * 1.5)

        result = await simulate(floor.client, self.SIMULATION, start=start)

        print(
            f"\nErlang A check through the API: service level {result.simulated_service_level}, "
            f"abandonment {result.simulated_abandonment}; ideal floor "
            f"{result.reference_service_level:.4f}, {result.reference_abandonment:.4f}; "
            f"Erlang A {result.predicted_service_level:.4f}, {result.predicted_abandonment:.4f}"
        )
        assert result.offered == self.SIMULATION.calls - self.SIMULATION.warm_up_calls
        assert result.reference_abandonment > 0.05
        assert result.simulated_abandonment == pytest.approx(result.reference_abandonment, abs=1e-4)
        assert result.simulated_service_level == pytest.approx(
            result.reference_service_level, abs=1e-4
        )

    def test_the_ideal_floor_over_a_long_run_agrees_with_erlang_a(self) -> None:
        long_run = Simulation(7, 146, 180, 200_000, 2_000, 5, patience_seconds=120)

        floor = reference_floor(long_run, 20)
        model = performance(long_run.agents, long_run.traffic, within=20)

        print(
            f"\nErlang A over 198,000 calls: floor {floor.service_level:.4f} / "
            f"{floor.abandonment:.4f}, model {model.service_level:.4f} / {model.abandonment:.4f}"
        )
        assert abs(floor.service_level - model.service_level) <= LONG_RUN_TOLERANCE
        assert abs(floor.abandonment - model.abandonment) <= LONG_RUN_TOLERANCE
