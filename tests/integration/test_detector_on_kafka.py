"""The detector on the real Kafka broker: opportunities name the Kafka position of the event
that raised them, two replicas in one group lose and double nothing when one leaves, and
rules on the satisfaction/loyalty quadrant and on the attrition risk band reach those who
enter them."""

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta

import httpx
import pytest

from contracts.catalogue import Topic
from contracts.customer import CustomerSegmentChanged
from services.events.app import create_app
from services.events.config import Settings
from services.events.detector import in_control_group
from shared.bus.kafka import KafkaBus
from shared.envelope import EventEnvelope
from tests.integration.mechanics import read_for_keys
from tests.service.conftest import publish, scalar, serving
from tests.service.events.conftest import NOW, debit, observed, registered, wait_observed

pytestmark = pytest.mark.kafka
SOURCE = "/crm/customer"


@pytest.fixture
def kafka_settings(events_database: str, kafka_bootstrap: str) -> Settings:
    return Settings(
        database_url=events_database,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        relay_poll_interval_seconds=0.05,
        rule_cache_seconds=0,
        consumer_batch_size=5,
        schedule_interval_seconds=3600,
    )


async def test_an_opportunity_names_the_kafka_position_of_its_event(
    kafka_settings: Settings, kafka_bootstrap: str
) -> None:
    # A customer outside the rule's control group, whose opportunity is published.
    customer_id = next(
        c for c in iter(uuid.uuid4, None) if not in_control_group("large_withdrawal", str(c), 0.1)
    )
    async with serving(create_app(kafka_settings)) as client:
        await publish(kafka_settings, registered(customer_id), source=SOURCE)
        await wait_observed(kafka_settings, [customer_id], 1)
        await publish(kafka_settings, debit(customer_id, 150_000), source=SOURCE)
        (message,) = await read_for_keys(
            kafka_bootstrap, Topic.OPPORTUNITIES, {str(customer_id)}, expected=1
        )
        opportunities = (
            await client.get("/v1/opportunities", params={"customer_id": str(customer_id)})
        ).json()["items"]
    assert EventEnvelope.from_headers(message.headers).type == "crm.opportunity.created.v1"
    body = json.loads(message.value)
    assert body["rule_id"] == "large_withdrawal"
    (opportunity,) = [o for o in opportunities if o["rule_id"] == "large_withdrawal"]
    (source,) = opportunity["lineage"]["events"]
    assert source["topic"] == Topic.TRANSACTIONS
    assert isinstance(source["partition"], int)
    assert isinstance(source["offset"], int)
    # The position is the real one: that offset of that partition holds the event.
    bus = KafkaBus(kafka_bootstrap, client_id="detector-test", partitions=6, replication_factor=1)
    await bus.start()
    reader = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [Topic.TRANSACTIONS])
    await reader.start()
    try:
        async with asyncio.timeout(60):
            while True:
                batch = await reader.poll(max_records=500, timeout=0.5)
                position = (source["partition"], source["offset"])
                hit = [m for m in batch if (m.partition, m.offset) == position]
                if hit:
                    break
    finally:
        await reader.stop()
        await bus.stop()
    assert EventEnvelope.from_headers(hit[0].headers).id == source["id"]


async def test_two_replicas_and_one_leaving_mid_stream_lose_and_double_nothing(
    kafka_settings: Settings, kafka_bootstrap: str
) -> None:
    customers = [uuid.uuid4() for _ in range(30)]
    # Two large withdrawals each, 20 days apart (past the 14-day cool-down).
    stream = [
        debit(c, 150_000 + n, at=NOW - timedelta(days=days))
        for days in (21, 1)
        for n, c in enumerate(customers)
    ]
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(serving(create_app(kafka_settings)))
        await publish(kafka_settings, *(registered(c) for c in customers), source=SOURCE)
        await wait_observed(kafka_settings, customers, len(customers))
        leaving = contextlib.AsyncExitStack()
        await leaving.enter_async_context(stack.pop_all())  # the first replica, to leave
        second = await stack.enter_async_context(serving(create_app(kafka_settings)))
        for chunk in range(6):
            await publish(kafka_settings, *stream[chunk * 10 : chunk * 10 + 10], source=SOURCE)
            if chunk == 3:
                handled_by_first = await _handled_by(first)
                await leaving.aclose()  # a member leaves mid-stream
            await asyncio.sleep(0.3)
        await wait_observed(kafka_settings, customers, 3 * len(customers))
        rows = await scalar(
            kafka_settings,
            "SELECT count(*) FROM opportunities WHERE customer_id = ANY(:c) "
            "AND rule_id = 'large_withdrawal'",
            c=customers,
        )
        firings = await scalar(
            kafka_settings,
            "SELECT count(*) FROM rule_firings WHERE customer_id = ANY(:c) "
            "AND rule_id = 'large_withdrawal'",
            c=customers,
        )
        handled_by_second = await _handled_by(second)
    assert rows == 2 * len(customers)  # none lost, none doubled
    assert firings == 2 * len(customers)
    # Both members really worked: the partitions moved from the first to the second.
    assert handled_by_first > 0
    assert handled_by_second > 0


def _placed(
    customer_id: uuid.UUID, previous: str | None, current: str, *, dimension: str = "quadrant"
) -> CustomerSegmentChanged:
    return CustomerSegmentChanged(
        customer_id=customer_id,
        dimension=dimension,
        previous=previous,
        current=current,
        direction="initial" if previous is None else "lateral",
        reason="survey answered" if dimension == "quadrant" else "attrition risk read again",
        policy=None,
        effective_at=NOW,
    )


async def test_a_quadrant_rule_fires_for_who_enters_the_quadrant_and_no_one_else(
    kafka_settings: Settings,
) -> None:
    rule_id = f"quadrant_{uuid.uuid4().hex[:8]}"
    rule = {
        "name": "Satisfied but drifting: keep them",
        "trigger": {"events": ["customer.segment_changed"]},
        "conditions": [
            {"kind": "event_field", "field": "dimension", "op": "==", "value": "quadrant"},
            {"kind": "quadrant", "quadrants": ["satisfied_drifting"]},
        ],
        "action": {"kind": "retention_call"},
        "holdout_share": "0",
    }
    entering, staying_loyal, leaving = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with serving(create_app(kafka_settings)) as client:
        body = {"rule_id": rule_id, "definition": rule, "status": "active"}
        created = await client.post("/v1/rules", json=body)
        assert created.status_code == 201, created.text
        customers = [entering, staying_loyal, leaving]
        await publish(kafka_settings, *(registered(c) for c in customers), source=SOURCE)
        await wait_observed(kafka_settings, customers, 3)
        await publish(
            kafka_settings,
            _placed(entering, "satisfied_loyal", "satisfied_drifting"),
            _placed(staying_loyal, None, "satisfied_loyal"),
            _placed(leaving, "satisfied_drifting", "unplaced"),
            source=SOURCE,
        )
        await wait_observed(kafka_settings, customers, 6)
        opportunities = {
            c: [
                o
                for o in (
                    await client.get("/v1/opportunities", params={"customer_id": str(c)})
                ).json()["items"]
                if o["rule_id"] == rule_id
            ]
            for c in customers
        }
    (opportunity,) = opportunities[entering]
    assert opportunity["facts"]["quadrant"] == "satisfied_drifting"
    assert opportunities[staying_loyal] == []
    assert opportunities[leaving] == []


async def test_an_attrition_risk_rule_fires_for_who_moves_into_high_and_no_one_else(
    kafka_settings: Settings,
) -> None:
    rule_id = f"attrition_{uuid.uuid4().hex[:8]}"
    rule = {
        "name": "Likely to leave: call before they do",
        "trigger": {"events": ["customer.segment_changed"]},
        "conditions": [
            {"kind": "event_field", "field": "dimension", "op": "==", "value": "attrition_risk"},
            {"kind": "attrition_risk", "bands": ["high"]},
        ],
        "action": {"kind": "retention_call"},
        "holdout_share": "0",
    }
    rising, steady, easing = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    customers = [rising, steady, easing]
    async with serving(create_app(kafka_settings)) as client:
        body = {"rule_id": rule_id, "definition": rule, "status": "active"}
        created = await client.post("/v1/rules", json=body)
        assert created.status_code == 201, created.text
        await publish(kafka_settings, *(registered(c) for c in customers), source=SOURCE)
        await wait_observed(kafka_settings, customers, 3)
        await publish(
            kafka_settings,
            _placed(rising, "medium", "high", dimension="attrition_risk"),
            _placed(steady, None, "medium", dimension="attrition_risk"),
            _placed(easing, "high", "low", dimension="attrition_risk"),
            source=SOURCE,
        )
        await wait_observed(kafka_settings, customers, 6)
        opportunities = {
            c: [
                o
                for o in (
                    await client.get("/v1/opportunities", params={"customer_id": str(c)})
                ).json()["items"]
                if o["rule_id"] == rule_id
            ]
            for c in customers
        }
    (opportunity,) = opportunities[rising]
    assert opportunity["facts"]["attrition_risk"] == "high"
    assert opportunities[steady] == []
    assert opportunities[easing] == []


async def _assigned(replica: httpx.AsyncClient) -> bool:
    metrics = (await replica.get("/metrics")).text
    return 'crm_consumer_lag{group="crm-events"' in metrics


async def _handled_by(replica: httpx.AsyncClient) -> float:
    """Events this replica applied, from its own /metrics."""
    total = 0.0
    for line in (await replica.get("/metrics")).text.splitlines():
        if line.startswith("crm_events_consumed_total") and 'outcome="applied"' in line:
            total += float(line.split()[-1])
    return total


async def _some_observed(settings: Settings, customers: list[uuid.UUID]) -> bool:
    return await observed(settings, customers) > len(customers) + 5
