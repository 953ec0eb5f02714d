"""The pauses between a background loop's failed rounds."""

from shared.backoff import RetryPauses


class TestBackoff:
    def test_pauses_grow_from_the_first_to_the_longest(self) -> None:
        backoff = RetryPauses(first=0.2, longest=5.0).backoff()
        pauses = [backoff.after_failure() for _ in range(12)]
        assert 0.2 <= pauses[0] <= 0.4
        assert pauses[5] > pauses[0]
        assert pauses[-1] == 5.0

    def test_an_outage_of_any_length_keeps_the_pause_at_the_longest(self) -> None:
        # 0.2 * 2**1024 overflows a float: a count this high once ended the relay.
        backoff = RetryPauses(first=0.2, longest=5.0).backoff()
        pauses = [backoff.after_failure() for _ in range(5_000)]
        assert backoff.failures == 5_000
        assert max(pauses) == 5.0
        assert min(pauses[20:]) == 5.0

    def test_a_success_starts_the_schedule_again(self) -> None:
        backoff = RetryPauses(first=0.2, longest=5.0).backoff()
        for _ in range(30):
            backoff.after_failure()
        backoff.succeeded()
        assert backoff.after_failure() <= 0.4

    def test_replicas_do_not_retry_in_step(self) -> None:
        schedules = [RetryPauses().backoff() for _ in range(20)]
        first_pauses = {round(backoff.after_failure(), 6) for backoff in schedules}
        assert len(first_pauses) > 10
