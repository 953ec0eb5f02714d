"""A backtest over the live period reaches the live detector's decisions: it replays each
customer's history in the order the detector consumed it, not by the events' own times."""

import random
import uuid
from collections import Counter
from datetime import timedelta

from services.events.backtest import backtest
from tests.service.events.conftest import NOW, Detector, builtin, posted, registered


async def _backtest_large_withdrawal(detector: Detector) -> tuple[int, dict[str, int]]:
    rule = builtin("large_withdrawal")
    async with detector.sessions() as session:
        run = await backtest(
            session,
            rule.rule_id,
            1,
            rule.definition,
            start=NOW - timedelta(days=1),
            end=NOW + timedelta(days=1),
            settings=detector.settings,
        )
    return run.report.opportunities, dict(run.report.suppressed)


class TestParity:
    async def test_the_readme_scenario_a_transaction_booked_before_the_consent_arrived(
        self, detector: Detector
    ) -> None:
        # The registration (with consent) is consumed first; the withdrawal's booking time
        # is a few seconds earlier, as a core system's whole-second booked_at often is.
        rule = builtin("large_withdrawal")
        customer_id = uuid.uuid4()
        await detector.feed(registered(customer_id, consent={"phone": True}))
        live = await detector.feed(
            posted(
                customer_id,
                250_000,
                direction="debit",
                kind="withdrawal",
                at=NOW - timedelta(seconds=3),
            ),
            rule,
        )

        opened, suppressed = await _backtest_large_withdrawal(detector)

        assert live == ["created"]
        assert opened >= 1
        assert "no_consent" not in suppressed

    async def test_a_stream_with_consent_changes_interleaved_is_decided_alike(
        self, detector: Detector
    ) -> None:
        rule = builtin("large_withdrawal")
        draw = random.Random(20261206)
        live: Counter[str] = Counter()
        # The history is shared with other tests: what this stream adds is the difference.
        opened_before, suppressed_before = await _backtest_large_withdrawal(detector)
        for _ in range(40):
            customer_id = uuid.uuid4()
            await detector.feed(registered(customer_id, consent={"phone": draw.random() < 0.5}))
            for _ in range(draw.randint(1, 3)):
                # Booked up to a minute before or after the moment it is consumed.
                booked = NOW - timedelta(seconds=draw.randint(-60, 60))
                amount = draw.choice([50_000, 150_000, 300_000])
                decisions = await detector.feed(
                    posted(customer_id, amount, direction="debit", kind="withdrawal", at=booked),
                    rule,
                )
                live.update(decisions)

        opened, suppressed = await _backtest_large_withdrawal(detector)

        assert live["created"] > 0
        assert live["suppressed:no_consent"] > 0
        assert opened - opened_before == live["created"] + live["held_out"]
        assert (
            suppressed.get("no_consent", 0) - suppressed_before.get("no_consent", 0)
            == (live["suppressed:no_consent"])
        )
