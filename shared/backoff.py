"""Pauses between the rounds of a background loop that keeps failing: the relay while the bus is
away, a consumer while the database is.

tenacity's exponential wait with jitter computes each pause. It caps before it can overflow,
which matters here: an outage can last for hours, and the count of failures grows all that
time (``0.2 * 2**1024`` raises ``OverflowError``, which once ended a relay after about
85 minutes of outage). The jitter keeps the replicas of a service from retrying in step.
"""

from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential_jitter


@dataclass(frozen=True)
class RetryPauses:
    """The shortest and longest pause between consecutive failed rounds, in seconds."""

    first: float = 0.2
    longest: float = 5.0

    def backoff(self) -> "Backoff":
        return Backoff(self)


class Backoff:
    """One loop's pauses: longer after each consecutive failure, back to the first after a
    success."""

    def __init__(self, pauses: RetryPauses) -> None:
        self._wait = wait_exponential_jitter(
            multiplier=pauses.first, max=pauses.longest, jitter=pauses.first
        )
        self._state = RetryCallState(Retrying(), None, (), {})
        self.failures = 0

    def after_failure(self) -> float:
        """Count one more failure; the pause to take before the next round."""
        self.failures += 1
        self._state.attempt_number = self.failures
        return self._wait(self._state)

    def succeeded(self) -> None:
        self.failures = 0


# What the relay and the consumers use unless a test gives them a faster schedule.
BACKGROUND_PAUSES = RetryPauses()
