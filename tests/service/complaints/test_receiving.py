"""Receiving complaints: priority from the customer's tier, duplicates linked, bad input
refused with nothing written, complainants who are not customers, lists and retries."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from contracts.customer import CustomerRegistered, CustomerSegmentChanged
from services.complaints.config import Settings
from services.complaints.models import Complaint
from services.complaints.receiving import receive_complaint
from services.complaints.repository import complaints as complaints_repository
from services.complaints.schemas import ComplaintCreate
from shared.db import create_engine, create_sessionmaker, transaction
from shared.outbox import EVENT_SOURCE
from tests.service.complaints.conftest import complaint_body, file_complaint, outbox_types, walk_to
from tests.service.conftest import publish, scalar
from tests.waiting import wait_until

CUSTOMER_SOURCE = "/crm/customer"


async def _registered(settings: Settings, customer_id: uuid.UUID, tier: str) -> None:
    await publish(
        settings,
        CustomerRegistered(
            customer_id=customer_id, kind="individual", branch_code="0101", value_tier=tier,
            identifiers=[], consent={}, preferred_channel=None, birth_month_day=None,
        ),
        source=CUSTOMER_SOURCE,
    )  # fmt: skip

    async def known() -> bool:
        tier_now = await scalar(
            settings, "SELECT value_tier FROM customer_standing WHERE customer_id = :c",
            c=customer_id,
        )  # fmt: skip
        return tier_now == tier

    await wait_until(known, timeout=20)


class TestPriority:
    async def test_a_premium_customer_s_complaint_is_high(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        premium, ordinary = uuid.uuid4(), uuid.uuid4()
        await _registered(complaints_settings, premium, "premium")
        await _registered(complaints_settings, ordinary, "ordinary")
        assert (await file_complaint(client, customer_id=str(premium)))["priority"] == "high"
        assert (await file_complaint(client, customer_id=str(ordinary)))["priority"] == "normal"

    async def test_the_category_or_the_channel_can_make_it_more_urgent(
        self, client: httpx.AsyncClient
    ) -> None:
        fraud = await file_complaint(client, category="dispute_or_fraud")
        referral = await file_complaint(client, channel="regulator_referral")
        assert (fraud["priority"], referral["priority"]) == ("urgent", "urgent")

    async def test_a_tier_change_is_followed_for_the_next_complaint(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        customer_id = uuid.uuid4()
        await _registered(complaints_settings, customer_id, "ordinary")
        await publish(
            complaints_settings,
            CustomerSegmentChanged(
                customer_id=customer_id, dimension="value_tier", previous="ordinary",
                current="key", direction="upgrade", reason="AUM 250,000", policy=None,
                effective_at=datetime.now(UTC),
            ),
            source=CUSTOMER_SOURCE,
        )  # fmt: skip

        async def upgraded() -> bool:
            tier = await scalar(
                complaints_settings,
                "SELECT value_tier FROM customer_standing WHERE customer_id = :c",
                c=customer_id,
            )
            return tier == "key"

        await wait_until(upgraded, timeout=20)
        case = await file_complaint(client, customer_id=str(customer_id))
        assert case["priority"] == "high"


class TestDuplicates:
    async def test_a_second_complaint_on_the_same_matter_is_linked_not_opened(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        first = await file_complaint(client)
        again = await client.post(
            "/v1/complaints",
            json=complaint_body(
                customer_id=first["customer_id"], channel="web",
                description="I called last week about the card fee and nobody came back.",
            ),
        )  # fmt: skip
        assert again.status_code == 200
        linked = again.json()
        assert linked["id"] == first["id"]
        assert linked["linked_to_open_case"] is True
        assert linked["linked_count"] == 1
        assert again.headers["location"] == f"/v1/complaints/{first['id']}"
        history = (await client.get(f"/v1/complaints/{first['id']}")).json()["history"]
        assert history[-1]["action"] == "linked_submission"
        assert history[-1]["decision"]["channel"] == "web"
        assert "nobody came back" in history[-1]["note"]
        count = await scalar(
            complaints_settings,
            "SELECT count(*) FROM complaints WHERE customer_id = :c",
            c=first["customer_id"],
        )
        assert count == 1
        assert await outbox_types(complaints_settings, first["id"]) == [
            "received", "step_completed", "letter_issued",
        ]  # fmt: skip

    async def test_another_category_is_another_case(self, client: httpx.AsyncClient) -> None:
        first = await file_complaint(client)
        other = await file_complaint(client, customer_id=first["customer_id"], category="product")
        assert other["id"] != first["id"]

    async def test_two_channels_at_once_make_one_case(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        customer_id = str(uuid.uuid4())
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/complaints", json=complaint_body(customer_id=customer_id, channel=channel)
                )
                for channel in ("phone", "web", "mobile", "branch")
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
        assert len({a.json()["id"] for a in answers}) == 1
        count = await scalar(
            complaints_settings,
            "SELECT count(*) FROM complaints WHERE customer_id = :c",
            c=customer_id,
        )
        assert count == 1

    async def test_after_closing_a_new_complaint_is_a_new_case_counted_as_a_repeat(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await file_complaint(client)
        await walk_to(client, first["id"], "closed")
        second = await file_complaint(client, customer_id=first["customer_id"])
        assert second["id"] != first["id"]
        assert second["is_repeat"] is True
        assert first["is_repeat"] is False


class TestComplainants:
    async def test_someone_who_is_not_a_customer_is_answered_by_their_contact(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        body = complaint_body(
            customer_id=None,
            complainant={"name": "王小明", "phone": "13812345678", "email": "wang@example.cn"},
        )
        response = await client.post("/v1/complaints", json=body)
        assert response.status_code == 201, response.text
        case = response.json()
        assert case["complainant"] == {
            "name": "王小明", "phone": "138****5678", "email": "w***@example.cn",
        }  # fmt: skip
        assert case["priority"] == "normal"
        stored = await scalar(
            complaints_settings, "SELECT complainant->>'phone' FROM complaints WHERE id = :id",
            id=case["id"],
        )  # fmt: skip
        assert stored == "13812345678"
        # Events carry identifiers, not the complainant's personal data.
        payloads = await scalar(
            complaints_settings,
            "SELECT string_agg(payload::text, ' ') FROM outbox "
            "WHERE payload->>'complaint_id' = :id",
            id=case["id"],
        )
        assert "13812345678" not in str(payloads)
        assert "王小明" not in str(payloads)

    async def test_opened_from_a_call_keeps_the_call(self, client: httpx.AsyncClient) -> None:
        case = await file_complaint(client, call_id="CALL-20261123-0007")
        assert case["call_id"] == "CALL-20261123-0007"
        history = (await client.get(f"/v1/complaints/{case['id']}")).json()["history"]
        assert history[0]["decision"]["call_id"] == "CALL-20261123-0007"


BAD_INPUT = [
    ({"customer_id": None}, "body"),  # nobody to answer
    ({"customer_id": None, "complainant": {"name": "Li"}}, "complainant"),
    ({"channel": "pigeon"}, "channel"),
    ({"category": "weather"}, "category"),
    ({"description": ""}, "description"),
    ({"disputed_amount": {"amount": "-5.00", "currency": "CNY"}}, "disputed_amount.amount"),
    ({"disputed_amount": {"amount": "5.00", "currency": "XYZ"}}, "disputed_amount.currency"),
    ({"disputed_amount": {"amount": "5.001", "currency": "CNY"}}, "disputed_amount.amount"),
    ({"attachments": [{"name": "a.pdf", "media_type": "pdf", "size_bytes": 1,
                       "document_id": "d"}]}, "attachments[0].media_type"),
    ({"received_at": "2026-11-23T10:00:00"}, "received_at"),
    ({"surprise": 1}, "surprise"),
]  # fmt: skip


class TestBadInput:
    @pytest.mark.parametrize(("change", "field"), BAD_INPUT)
    async def test_is_a_4xx_naming_the_field_and_nothing_is_written(
        self,
        client: httpx.AsyncClient,
        complaints_settings: Settings,
        change: dict[str, Any],
        field: str,
    ) -> None:
        body = complaint_body(**change)
        response = await client.post("/v1/complaints", json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        named = [error["field"] for error in problem.get("errors", [])] + [problem.get("field")]
        assert any(field == n or (n and n.startswith(field)) for n in named), problem
        if body.get("customer_id"):
            count = await scalar(
                complaints_settings,
                "SELECT count(*) FROM complaints WHERE customer_id = :c",
                c=body["customer_id"],
            )
            assert count == 0

    async def test_a_receipt_time_in_the_future_is_refused(self, client: httpx.AsyncClient) -> None:
        later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        response = await client.post("/v1/complaints", json=complaint_body(received_at=later))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "received_at"


class TestListsAndRetries:
    async def test_a_retry_with_the_same_key_gets_the_first_answer(
        self, client: httpx.AsyncClient, complaints_settings: Settings
    ) -> None:
        body = complaint_body()
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        first = await client.post("/v1/complaints", json=body, headers=headers)
        retry = await client.post("/v1/complaints", json=body, headers=headers)
        assert (first.status_code, retry.status_code) == (201, 201)
        assert retry.json()["id"] == first.json()["id"]
        assert retry.headers["idempotent-replayed"] == "true"
        history = (await client.get(f"/v1/complaints/{first.json()['id']}")).json()["history"]
        assert [e["action"] for e in history] == ["record"]

    async def test_a_customer_s_cases_page_newest_first(self, client: httpx.AsyncClient) -> None:
        customer_id = str(uuid.uuid4())
        made = [
            (await file_complaint(client, customer_id=customer_id, category=category))["id"]
            for category in ("fees", "product", "service_attitude")
        ]
        first = (
            await client.get("/v1/complaints", params={"customer_id": customer_id, "limit": 2})
        ).json()
        assert [c["id"] for c in first["items"]] == made[::-1][:2]
        second = (
            await client.get(
                "/v1/complaints",
                params={"customer_id": customer_id, "limit": 2, "cursor": first["next_cursor"]},
            )
        ).json()
        assert [c["id"] for c in second["items"]] == made[:1]
        assert second["next_cursor"] is None
        bad = await client.get("/v1/complaints", params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "cursor"


class TestOneOpenCaseRule:
    async def test_holds_when_postgresql_plans_the_insert_generically(
        self, complaints_settings: Settings
    ) -> None:
        """A prepared statement goes generic after a few runs; the ON CONFLICT that finds the
        partial unique index must not depend on a bound value then."""
        engine = create_engine(complaints_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: complaints_settings.event_source})
        try:
            async with transaction(sessions) as session:
                await session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
                body = ComplaintCreate.model_validate(complaint_body())
                received = await receive_complaint(
                    session, body, settings=complaints_settings, now=datetime.now(UTC)
                )
                case = received.complaint
                twin = {
                    column.key: getattr(case, column.key) for column in Complaint.__table__.columns
                } | {"id": uuid.uuid4()}
                assert await complaints_repository.insert_unless_open_case(session, twin) is False
        finally:
            await engine.dispose()
