"""What channels read: the 360 view, lookup, search; and segments kept current by events."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from services.customer.app import create_app
from services.customer.config import Settings
from shared.db import create_engine
from tests.service.conftest import serving
from tests.service.customer.factories import (
    create_customer,
    individual,
    open_account,
    transaction,
)
from tests.waiting import wait_until


class TestLookupAndSearch:
    async def test_a_caller_is_identified_by_phone_in_any_written_form(
        self, client: httpx.AsyncClient
    ) -> None:
        body = individual()
        phone = body["profile"]["phones"][0]
        created = (await client.post("/v1/customers", json=body)).json()

        found = await client.get(
            "/v1/customers/lookup", params={"phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"}
        )

        assert found.status_code == 200
        assert [m["id"] for m in found.json()["matches"]] == [created["id"]]
        assert found.json()["matches"][0]["name"] == "张*"

    async def test_lookup_needs_exactly_one_identifier(self, client: httpx.AsyncClient) -> None:
        answer = await client.get(
            "/v1/customers/lookup",
            params={"phone": "13800000000", "id_number": "11010519491231002X"},
        )

        assert answer.status_code == 422
        assert answer.json()["type"].endswith("/lookup-needs-one-key")
        assert [e["field"] for e in answer.json()["errors"]] == ["phone", "id_number"]

    async def test_search_pages_with_a_cursor(self, client: httpx.AsyncClient) -> None:
        marker = f"翻页{datetime.now(UTC).strftime('%H%M%S%f')}"
        ids = [(await create_customer(client, name=f"{marker}{i}"))["id"] for i in range(5)]

        first = (await client.get("/v1/customers", params={"name": marker, "limit": 2})).json()
        second = (
            await client.get(
                "/v1/customers", params={"name": marker, "limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        third = (
            await client.get(
                "/v1/customers",
                params={"name": marker, "limit": 2, "cursor": second["next_cursor"]},
            )
        ).json()

        seen = [c["id"] for page in (first, second, third) for c in page["items"]]
        assert seen == ids
        assert third["next_cursor"] is None

    async def test_a_forged_cursor_is_a_422_naming_it(self, client: httpx.AsyncClient) -> None:
        answer = await client.get("/v1/customers", params={"cursor": "bm90LWEtY3Vyc29y"})

        assert answer.status_code == 422
        assert answer.json()["type"].endswith("/invalid-cursor")
        assert answer.json()["errors"][0]["field"] == "cursor"


async def _segments(client: httpx.AsyncClient, customer_id: str, **params: Any) -> dict[str, Any]:
    answer = await client.get(f"/v1/customers/{customer_id}/segments", params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


class TestSegmentsFollowTheMoney:
    async def test_a_large_deposit_upgrades_the_tier_with_its_reason_and_history(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        before = datetime.now(UTC).isoformat()
        account = (await open_account(client, created["id"]))["full_number"]
        await asyncio.sleep(0.01)

        await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="1200000.00")]},
        )

        async def upgraded() -> bool:
            tier = (await _segments(client, created["id"]))["segments"]["value_tier"]
            return bool(tier["current"] == "premium")

        await wait_until(upgraded, timeout=20)
        now = await _segments(client, created["id"])
        then = await _segments(client, created["id"], as_of=before)
        tier = now["segments"]["value_tier"]
        assert tier["previous"] == "ordinary"
        assert "1,200,000.00" in tier["reason"]
        assert now["policy"]["manager_required"] is True
        assert then["segments"]["value_tier"]["current"] == "ordinary"
        assert then["policy"]["manager_required"] is False
        view = (await client.get(f"/v1/customers/{created['id']}/view")).json()
        assert view["customer"]["segments"]["value_tier"] == "premium"
        assert view["total_balance_cny"] == "1200000.00"

    async def test_customers_valued_together_each_get_their_own_figures(
        self, client: httpx.AsyncClient
    ) -> None:
        """One batch of deposits for several customers is one consumer run, and the run reads
        all their accounts and flows at once: each must be valued on its own."""
        deposits = {"1500000.00": "premium", "300000.00": "key", "100.00": "ordinary"}
        customers: dict[str, tuple[str, str]] = {}
        rows = []
        for amount, tier in deposits.items():
            created = await create_customer(client)
            account = (await open_account(client, created["id"]))["full_number"]
            customers[created["id"]] = (amount, tier)
            rows.append(transaction(account, amount=amount))
        answer = await client.post("/v1/transactions", json={"transactions": rows})
        assert answer.status_code == 200

        async def valued() -> bool:
            for customer_id, (_, tier) in customers.items():
                segments = (await _segments(client, customer_id))["segments"]
                if segments["value_tier"]["current"] != tier:
                    return False
            return True

        await wait_until(valued, timeout=20)
        for customer_id, (amount, _) in customers.items():
            view = (await client.get(f"/v1/customers/{customer_id}/view")).json()
            assert view["total_balance_cny"] == amount

    async def test_as_of_needs_a_time_zone(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)

        answer = await client.get(
            f"/v1/customers/{created['id']}/segments", params={"as_of": "2026-01-01T10:00:00"}
        )

        assert answer.status_code == 422
        assert [error["field"] for error in answer.json()["errors"]] == ["as_of"]

    async def test_as_of_a_date_alone_is_the_end_of_that_day_at_the_bank(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await create_customer(client)
        path = f"/v1/customers/{created['id']}/segments"

        day = await client.get(path, params={"as_of": "2026-06-30"})

        assert day.status_code == 200, day.text
        assert day.json()["as_of"] == "2026-06-30T16:00:00Z"  # 2026-07-01 00:00 in Shanghai


class TestViewLists:
    async def test_lists_come_in_order_with_exact_amounts_and_utc_times_whatever_the_servers_zone(
        self, customer_settings: Settings
    ) -> None:
        # The view's lists are built as JSON by the database, which writes times in its
        # session's zone: a server set up in Beijing time must not change the answer.
        engine = create_engine(customer_settings)
        async with engine.begin() as conn:
            database = (await conn.execute(text("SELECT current_database()"))).scalar_one()
            await conn.execute(
                text(f"ALTER DATABASE \"{database}\" SET TimeZone = 'Asia/Shanghai'")
            )
        try:
            async with serving(create_app(customer_settings)) as client:
                created = await create_customer(client)
                account = (await open_account(client, created["id"]))["full_number"]
                booked = [f"2026-03-0{day}T01:02:03.456789+00:00" for day in (1, 3, 2)]
                batch = [
                    transaction(account, amount=amount, booked_at=at)
                    for amount, at in zip(("0.10", "123456789.20", "7.30"), booked, strict=True)
                ]
                assert (
                    await client.post("/v1/transactions", json={"transactions": batch})
                ).status_code == 200

                view = (await client.get(f"/v1/customers/{created['id']}/view")).json()
        finally:
            async with engine.begin() as conn:
                await conn.execute(text(f'ALTER DATABASE "{database}" RESET TimeZone'))
            await engine.dispose()

        assert [(t["booked_at"], t["amount"]) for t in view["recent_transactions"]] == [
            ("2026-03-03T01:02:03.456789Z", "123456789.20"),
            ("2026-03-02T01:02:03.456789Z", "7.30"),
            ("2026-03-01T01:02:03.456789Z", "0.10"),
        ]
        assert [t["balance_after"] for t in view["recent_transactions"]] == [
            "123456789.30",
            "123456796.60",
            "0.10",
        ]
