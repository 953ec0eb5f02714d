"""Erlang A (and Erlang C, its limit) against an independent computation: the stationary
distribution of the truncated birth–death chain, multiplied out rate by rate, and each
waiting caller's chance of an answer within the threshold by uniformisation of the tagged
caller's own chain (moving up, or hanging up), with no use of the closed forms."""

import math

import pytest

from services.contact_center.staffing.erlang import Traffic, erlang_b, performance

# The done-when of the staffing work: within half a percentage point of service level.
AGREEMENT = 0.005
WITHIN = 20.0


def chain(agents: int, traffic: Traffic, *, states: int) -> list[float]:
    """π(k) for k = 0 … states, by the balance λ·π(k−1) = death(k)·π(k)."""
    theta = 1 / traffic.patience_seconds if traffic.patience_seconds else 0.0
    mu = 1 / traffic.handle_seconds
    weights = [1.0]
    for k in range(1, states + 1):
        death = min(k, agents) * mu + max(0, k - agents) * theta
        weights.append(weights[-1] * traffic.calls_per_second / death)
    total = sum(weights)
    return [w / total for w in weights]


def answered_within_given_ahead(agents: int, traffic: Traffic, *, ahead: int) -> list[float]:
    """For j = 0 … ahead callers in front: the chance of an answer within ``WITHIN``."""
    theta = 1 / traffic.patience_seconds if traffic.patience_seconds else 0.0
    service = agents / traffic.handle_seconds
    rate = service + (ahead + 1) * theta  # the uniformisation rate, above every state's
    move = [(service + i * theta) / rate for i in range(ahead + 1)]
    stay = [1 - move[i] - theta / rate for i in range(ahead + 1)]
    served = [0.0] * (ahead + 1)  # answered within m steps, from each position
    poisson = math.exp(-rate * WITHIN)
    total = [0.0] * (ahead + 1)
    for m in range(1, int(rate * WITHIN + 12 * math.sqrt(rate * WITHIN) + 30)):
        served = [
            move[i] * (1.0 if i == 0 else served[i - 1]) + stay[i] * served[i]
            for i in range(ahead + 1)
        ]
        poisson *= rate * WITHIN / m
        total = [t + poisson * s for t, s in zip(total, served, strict=True)]
    return total


def by_the_chain(agents: int, traffic: Traffic) -> tuple[float, float]:
    """Service level and abandonment (θ·E[queue] / λ, by Little's law)."""
    states = agents + 400
    pi = chain(agents, traffic, states=states)
    answered = answered_within_given_ahead(agents, traffic, ahead=states - agents)
    level = sum(pi[:agents]) + sum(pi[agents + j] * answered[j] for j in range(states - agents))
    theta = 1 / traffic.patience_seconds if traffic.patience_seconds else 0.0
    queue = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    return level, theta * queue / traffic.calls_per_second


CASES = [
    (10, Traffic(146 / 3600, 180, 120)),  # 7.3 erlangs, patience of two handle-time thirds
    (6, Traffic(146 / 3600, 180, 60)),  # overloaded: abandonment carries the queue
    (25, Traffic(400 / 3600, 200, 300)),
    (3, Traffic(40 / 3600, 240, 45)),
]


class TestErlangA:
    @pytest.mark.parametrize(("agents", "traffic"), CASES)
    def test_service_level_and_abandonment_agree_with_the_chain(
        self, agents: int, traffic: Traffic
    ) -> None:
        model = performance(agents, traffic, within=WITHIN)
        level, abandonment = by_the_chain(agents, traffic)

        assert abs(model.service_level - level) <= AGREEMENT
        assert model.abandonment == pytest.approx(abandonment, abs=1e-6)

    @pytest.mark.parametrize(("agents", "traffic"), CASES)
    def test_abandonment_is_garnett_mandelbaum_reiman_closed_form(
        self, agents: int, traffic: Traffic
    ) -> None:
        # P(Ab) = (1/(ρ·𝒜) + 1 − 1/ρ)·P(W>0), with 𝒜 = Σⱼ yʲ/((x+1)…(x+j)) and
        # P(W>0) = 𝒜·B/(1 + (𝒜 − 1)·B): GMR 2002, section 3.
        assert traffic.patience_seconds is not None
        theta, mu = 1 / traffic.patience_seconds, 1 / traffic.handle_seconds
        x, y = agents * mu / theta, traffic.calls_per_second / theta
        term, series = 1.0, 1.0
        for j in range(1, 2000):
            term *= y / (x + j)
            series += term
        blocking = erlang_b(agents, traffic.load)
        waits = series * blocking / (1 + (series - 1) * blocking)
        rho = traffic.calls_per_second / (agents * mu)
        model = performance(agents, traffic, within=WITHIN)

        assert model.waiting_probability == pytest.approx(waits, rel=1e-9)
        assert model.abandonment == pytest.approx((1 / (rho * series) + 1 - 1 / rho) * waits)

    def test_very_patient_callers_are_erlang_c(self) -> None:
        patient = performance(10, Traffic(146 / 3600, 180, 1e7), within=WITHIN)
        forever = performance(10, Traffic(146 / 3600, 180, None), within=WITHIN)

        assert patient.service_level == pytest.approx(forever.service_level, abs=1e-4)
        assert patient.abandonment < 1e-4
        assert patient.average_speed_of_answer_seconds == pytest.approx(
            forever.average_speed_of_answer_seconds, rel=1e-3
        )

    def test_impatience_raises_the_service_level_of_those_who_stay(self) -> None:
        forever = performance(8, Traffic(146 / 3600, 180, None), within=WITHIN)
        impatient = performance(8, Traffic(146 / 3600, 180, 60), within=WITHIN)

        assert impatient.waiting_probability < forever.waiting_probability
        assert impatient.average_speed_of_answer_seconds < forever.average_speed_of_answer_seconds
        assert impatient.abandonment > 0.02


class TestErlangC:
    @pytest.mark.parametrize(
        ("agents", "traffic"),
        [(10, Traffic(146 / 3600, 180)), (2, Traffic(25 / 3600, 200)), (40, Traffic(0.1, 350))],
    )
    def test_service_level_agrees_with_the_chain(self, agents: int, traffic: Traffic) -> None:
        model = performance(agents, traffic, within=WITHIN)
        level, abandonment = by_the_chain(agents, traffic)

        print(f"\nErlang C {model.service_level:.5f}, chain {level:.5f}")
        assert abs(model.service_level - level) <= AGREEMENT
        assert model.abandonment == abandonment == 0.0
        assert model.occupancy == pytest.approx(traffic.load / agents)
