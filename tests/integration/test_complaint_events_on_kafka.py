"""The complaints service on the real Kafka broker: a case's events reach
``crm.complaints.v1`` in order, keyed by the customer, in CloudEvents binary mode."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from contracts.catalogue import Topic
from services.complaints.app import create_app
from services.complaints.config import Settings
from shared.envelope import EventEnvelope
from tests.integration.mechanics import read_for_keys
from tests.service.complaints.conftest import file_complaint, walk_to
from tests.service.conftest import serving
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka


async def test_a_case_s_events_arrive_on_kafka_in_order(
    migrated_database: str, kafka_bootstrap: str
) -> None:
    settings = Settings(
        database_url=migrated_database,
        bus="kafka",
        kafka_bootstrap_servers=kafka_bootstrap,
        relay_poll_interval_seconds=0.05,
        deadline_sweep_interval_seconds=0.2,
    )
    async with serving(create_app(settings)) as client:
        late = (datetime.now(UTC) - timedelta(days=10)).isoformat()
        case = await file_complaint(client, received_at=late)

        # The sweep escalates the missed acknowledgement while the case waits at validity.
        async def escalated() -> bool:
            case_now = (await client.get(f"/v1/complaints/{case['id']}")).json()
            return bool(case_now["escalation_level"] >= 1)

        await wait_until(escalated, timeout=30)
        await walk_to(client, case["id"], "closed")
        messages = await read_for_keys(
            kafka_bootstrap, Topic.COMPLAINTS, {case["customer_id"]}, expected=13
        )

    envelopes = [EventEnvelope.from_headers(m.headers) for m in messages]
    assert [e.type.split(".")[2] for e in envelopes] == [
        "received", "step_completed", "letter_issued", "escalated", *["step_completed"] * 5,
        "letter_issued", *["step_completed"] * 2, "closed",
    ]  # fmt: skip
    assert {e.subject for e in envelopes} == {case["customer_id"]}
    assert {e.source for e in envelopes} == {"/crm/complaints"}
    assert len({m.partition for m in messages}) == 1  # one customer, one partition, in order
    bodies = [json.loads(m.value) for m in messages]
    assert {b["complaint_id"] for b in bodies} == {case["id"]}
    steps = [b["step"] for b in bodies if "step" in b]
    assert steps == [
        "record", "validity", "assignment", "cause_analysis", "resolution_proposal",
        "approval", "implementation", "evaluation",
    ]  # fmt: skip
    assert bodies[3]["level"] == 1
    assert bodies[-1]["outcome"] == "resolved"
