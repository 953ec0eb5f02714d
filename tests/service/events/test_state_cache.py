"""States kept in memory between runs: reused only while they are the stored ones.

Each case here would leave a wrong figure in the tables if a kept state were reused when it is
not current: another replica's change would be undone, a rolled-back event counted."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import DomainEvent
from services.events import service
from services.events.config import Settings
from services.events.state import CustomerState, DayFigures, forget_days_before
from services.events.state_cache import StateCache
from shared.db import transaction
from shared.envelope import EventEnvelope
from tests.service.conftest import scalar
from tests.service.events.conftest import BANK_TODAY, NOW, posted, registered


class _Replica:
    """One consumer process's handler: its own memory, the shared tables."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions, self.settings = sessions, settings
        self.cache = StateCache(100)

    async def handle(self, session: AsyncSession, event: DomainEvent) -> service.Handled:
        envelope = EventEnvelope(
            id=str(uuid.uuid4()), source="/crm/test", type=event.event_type,
            subject=event.subject, time=NOW,
        )  # fmt: skip
        return await service.handle_events(
            session, [(event, envelope)], rules=[], settings=self.settings, cache=self.cache
        )

    async def feed(self, event: DomainEvent) -> service.Handled:
        async with transaction(self.sessions) as session:
            return await self.handle(session, event)


async def _money_in_today(settings: Settings, customer_id: uuid.UUID) -> object:
    return await scalar(
        settings, "SELECT money_in FROM customer_days WHERE customer_id = :c AND day = :d",
        c=customer_id, d=BANK_TODAY,
    )  # fmt: skip


class TestKeptStates:
    async def test_the_next_run_reuses_the_state_the_last_one_saved(
        self, sessions: async_sessionmaker[AsyncSession], events_settings: Settings
    ) -> None:
        replica = _Replica(sessions, events_settings)
        customer_id = uuid.uuid4()
        first = await replica.feed(registered(customer_id))
        second = await replica.feed(posted(customer_id, 1_000))
        assert (first.states_kept, first.states_read) == (0, 1)
        assert (second.states_kept, second.states_read) == (1, 0)
        assert await _money_in_today(events_settings, customer_id) == Decimal("1000.00")

    async def test_another_replica_s_change_is_read_back_not_undone(
        self, sessions: async_sessionmaker[AsyncSession], events_settings: Settings
    ) -> None:
        # After a rebalance the customer's partition moved to another replica and back.
        first, second = _Replica(sessions, events_settings), _Replica(sessions, events_settings)
        customer_id = uuid.uuid4()
        await first.feed(registered(customer_id))
        await first.feed(posted(customer_id, 10_000))
        await second.feed(posted(customer_id, 20_000))
        back = await first.feed(posted(customer_id, 5_000))
        assert (back.states_kept, back.states_read) == (0, 1)
        assert await _money_in_today(events_settings, customer_id) == Decimal("35000.00")

    async def test_a_rolled_back_run_leaves_nothing_that_passes_for_current(
        self, sessions: async_sessionmaker[AsyncSession], events_settings: Settings
    ) -> None:
        replica = _Replica(sessions, events_settings)
        customer_id = uuid.uuid4()
        await replica.feed(registered(customer_id))
        async with sessions() as session:
            await session.begin()
            await replica.handle(session, posted(customer_id, 10_000))
            await session.rollback()  # the commit never happens
        after = await replica.feed(posted(customer_id, 5_000))
        assert (after.states_kept, after.states_read) == (0, 1)
        assert await _money_in_today(events_settings, customer_id) == Decimal("5000.00")

    async def test_a_late_event_needing_older_days_reads_the_state_back(
        self, sessions: async_sessionmaker[AsyncSession], events_settings: Settings
    ) -> None:
        replica = _Replica(sessions, events_settings)
        customer_id = uuid.uuid4()
        await replica.feed(registered(customer_id))
        await replica.feed(posted(customer_id, 1_000))
        late = await replica.feed(posted(customer_id, 1_000, at=NOW - timedelta(days=30)))
        assert (late.states_kept, late.states_read) == (0, 1)


class TestStateCache:
    def test_keeps_the_most_recently_used_up_to_its_capacity(self) -> None:
        cache = StateCache(2)
        a, b, c = (uuid.uuid4() for _ in range(3))
        since = date(2026, 1, 1)
        cache.keep({a: CustomerState(str(a)), b: CustomerState(str(b))}, 1, since)
        cache.keep({c: CustomerState(str(c))}, 2, since)
        assert len(cache) == 2
        assert cache.take(a, 1, since) is None
        assert cache.take(b, 1, since) is not None
        assert cache.take(c, 2, since) is not None

    def test_a_state_is_handed_out_once(self) -> None:
        cache, customer_id, since = StateCache(10), uuid.uuid4(), date(2026, 1, 1)
        cache.keep({customer_id: CustomerState(str(customer_id))}, 7, since)
        assert cache.take(customer_id, 7, since) is not None
        assert cache.take(customer_id, 7, since) is None

    def test_capacity_zero_keeps_nothing(self) -> None:
        cache, customer_id, since = StateCache(0), uuid.uuid4(), date(2026, 1, 1)
        cache.keep({customer_id: CustomerState(str(customer_id))}, 7, since)
        assert cache.take(customer_id, 7, since) is None


def test_days_no_window_reaches_are_forgotten_but_the_last_balance_before_them() -> None:
    state = CustomerState(str(uuid.uuid4()))
    since = date(2026, 6, 1)
    state.days = {
        date(2026, 3, 1): DayFigures(closing_balance=Decimal(100)),
        date(2026, 4, 1): DayFigures(closing_balance=Decimal(200)),
        date(2026, 5, 1): DayFigures(contacts=1),
        date(2026, 6, 1): DayFigures(money_in=Decimal(5)),
    }
    forget_days_before(state, since)
    assert sorted(state.days) == [date(2026, 4, 1), date(2026, 6, 1)]
    assert state.days[date(2026, 4, 1)].closing_balance == Decimal(200)
