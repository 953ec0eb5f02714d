"""Queueing models of an interval of the contact centre: Erlang C and Erlang A.

Both assume Poisson arrivals at rate λ, exponential handle times of mean h (μ = 1/h) and N
agents serving one queue first come, first served; A = λ·h is the offered load in erlangs.

Erlang C (A. K. Erlang, 1917): callers wait as long as it takes. With Erlang B by the
recursion B₀ = 1, Bₖ = A·Bₖ₋₁ / (k + A·Bₖ₋₁), a caller waits with probability
C = N·B / (N − A·(1 − B)) (for A < N), waits longer than t with C·exp(−(N − A)·t/h), and the
average speed of answer is C·h / (N − A).

Erlang A, M/M/N+M (C. Palm, 1943; O. Garnett, A. Mandelbaum and M. Reiman, "Designing a call
center with impatient customers", Manufacturing & Service Operations Management 4(3), 2002;
A. Mandelbaum and S. Zeltyn, "The M/M/n+G queue: summary of performance measures", 2009):
each caller also has an exponential patience of mean 1/θ and hangs up when it runs out. The
queue is a birth–death chain with death rate Nμ + jθ when j wait, so, with x = Nμ/θ and
y = λ/θ, π(N+j) = π(N)·yʲ / ((x+1)…(x+j)). Writing 𝒜 = Σⱼ yʲ / ((x+1)…(x+j)) (GMR's A(x, y),
the series of x·eʸ·y⁻ˣ·γ(x, y)), a caller waits with probability 𝒜·B / (1 + (𝒜 − 1)·B).

A caller who finds j waiting ahead leaves the queue at rate θ and moves up at rate θ(x + i)
with i ahead, so they are answered with probability x / (x + j + 1), and, given that, after
a sum of exponential stages of rates θ(x + 1) … θ(x + j + 1), whose e^(−θ·sum) is Beta(x + 1,
j + 1) distributed. That gives the share answered within t from the regularised incomplete
beta function with an integer second argument, a finite sum; the abandonment probability is
Σⱼ π(N+j)·(j + 1)/(x + j + 1), which is GMR's (1/(ρ𝒜) + 1 − 1/ρ)·P(wait), ρ = λ/(Nμ).

The service level, as the statistics define it, is answered within t over offered: callers
who hang up count against it.
"""

import math
from dataclasses import dataclass

# The chain's tail is summed until its terms fall below this share of what has been summed.
_TAIL = 1e-13
_LONGEST_TAIL = 100_000


def erlang_b(agents: int, load: float) -> float:
    """The probability that all ``agents`` are busy when ``load`` erlangs meet no queue."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(agents: int, load: float) -> float:
    """The probability that a caller waits (Erlang C), for ``load`` erlangs on ``agents``."""
    if load >= agents:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1 - blocking))


def erlang_c_service_level(agents: int, load: float, handle_seconds: float, within: float) -> float:
    if load >= agents:
        return 0.0
    wait = erlang_c(agents, load)
    return 1 - wait * math.exp(-(agents - load) * within / handle_seconds)


@dataclass(frozen=True)
class Performance:
    """What an interval's callers can expect of a number of agents."""

    service_level: float  # answered within the threshold over offered
    waiting_probability: float
    abandonment: float  # the share of callers who hang up before an answer
    average_speed_of_answer_seconds: float  # over answered calls
    occupancy: float  # the agents' time on calls over their time staffed


@dataclass(frozen=True)
class Traffic:
    """An interval's offered traffic: arrivals per second, handle time and, when known, how
    long callers wait before hanging up (the mean of an exponential patience)."""

    calls_per_second: float
    handle_seconds: float
    patience_seconds: float | None = None

    @property
    def load(self) -> float:
        return self.calls_per_second * self.handle_seconds


def performance(agents: int, traffic: Traffic, *, within: float) -> Performance:
    """Erlang A where callers' patience is known, Erlang C where they wait for ever."""
    if traffic.calls_per_second <= 0:
        return Performance(1.0, 0.0, 0.0, 0.0, 0.0)
    if agents <= 0:
        return Performance(0.0, 1.0, 1.0 if traffic.patience_seconds else 0.0, math.inf, 1.0)
    if traffic.patience_seconds is None:
        return _erlang_c_performance(agents, traffic, within=within)
    return _erlang_a_performance(agents, traffic, within=within)


def _erlang_c_performance(agents: int, traffic: Traffic, *, within: float) -> Performance:
    load, handle = traffic.load, traffic.handle_seconds
    if load >= agents:
        return Performance(0.0, 1.0, 0.0, math.inf, 1.0)
    wait = erlang_c(agents, load)
    return Performance(
        service_level=erlang_c_service_level(agents, load, handle, within),
        waiting_probability=wait,
        abandonment=0.0,
        average_speed_of_answer_seconds=wait * handle / (agents - load),
        occupancy=load / agents,
    )


def _erlang_a_performance(agents: int, traffic: Traffic, *, within: float) -> Performance:
    assert traffic.patience_seconds is not None
    theta = 1 / traffic.patience_seconds
    x = agents / traffic.handle_seconds / theta
    y = traffic.calls_per_second / theta
    u = math.exp(-theta * within)
    # Per j waiting ahead: r = π(N+j)/π(N); the answered-within share uses the incomplete
    # beta I_u(x+1, j+1) = u^(x+1)·Σₖ₌₀ʲ C(x+k, k)·(1−u)^k, its terms built as j grows.
    r, beta_term = 1.0, u ** (x + 1)
    beta_sum = beta_term
    stage_mean = 1 / (theta * (x + 1))
    queued = abandoned = answered_within = answered_wait = 0.0
    for j in range(_LONGEST_TAIL):
        answered = x / (x + j + 1)
        queued += r
        abandoned += r * (j + 1) / (x + j + 1)
        answered_within += r * answered * (1 - min(beta_sum, 1.0))
        answered_wait += r * answered * stage_mean
        if j > y and r < _TAIL * queued:
            break
        r *= y / (x + j + 1)
        beta_term *= (x + j + 1) / (j + 1) * (1 - u)
        beta_sum += beta_term
        stage_mean += 1 / (theta * (x + j + 2))
    blocking = erlang_b(agents, traffic.load)
    at_n = 1 / (1 / blocking - 1 + queued)  # π(N): Σ_{k<N} π(k)/π(N) = 1/B − 1
    waiting = at_n * queued
    abandonment = at_n * abandoned
    served = 1 - abandonment
    return Performance(
        service_level=1 - waiting + at_n * answered_within,
        waiting_probability=waiting,
        abandonment=abandonment,
        average_speed_of_answer_seconds=at_n * answered_wait / served if served > 0 else math.inf,
        occupancy=min(1.0, traffic.load * served / agents),
    )
