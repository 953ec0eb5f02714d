"""Erlang C against an independent computation: the stationary distribution of the M/M/N
birth-death chain, summed directly."""

import math

import pytest

from services.contact_center.staffing.erlang import erlang_c, erlang_c_service_level


def waiting_probability_by_the_chain(agents: int, load: float) -> float:
    # p_k ∝ A^k / k! for k ≤ N, and p_N · (A/N)^(k-N) beyond: summed to convergence.
    weights = [load**k / math.factorial(k) for k in range(agents + 1)]
    tail = weights[-1] * sum((load / agents) ** j for j in range(1, 5000))
    return (weights[-1] + tail) / (sum(weights) + tail)


@pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (2, 1.5), (10, 7.3), (25, 21.0)])
def test_erlang_c_matches_the_birth_death_chain(agents: int, load: float) -> None:
    assert erlang_c(agents, load) == pytest.approx(waiting_probability_by_the_chain(agents, load))


def test_one_agent_is_the_m_m_1_queue() -> None:
    # M/M/1: a caller waits with probability ρ, and waits more than t with ρ·e^{-(1-ρ)t/h}.
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    assert erlang_c_service_level(1, 0.6, 100, 50) == pytest.approx(1 - 0.6 * math.exp(-0.2))


def test_an_overloaded_floor_has_everyone_waiting() -> None:
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c_service_level(5, 6.0, 180, 20) == 0.0
