"""A customer's last activity: the latest of their postings and contacts, whenever recorded."""

from datetime import UTC, datetime, timedelta

import httpx

from tests.service.customer.factories import (
    create_customer,
    open_account,
    record_contact,
    transaction,
)


async def _last_activity(client: httpx.AsyncClient, customer_id: str) -> str | None:
    answer = await client.get(f"/v1/customers/{customer_id}")
    assert answer.status_code == 200, answer.text
    value = answer.json()["last_activity_at"]
    return None if value is None else str(value)


def _same_moment(shown: str | None, expected: datetime) -> bool:
    return shown is not None and datetime.fromisoformat(shown) == expected


class TestLastActivity:
    async def test_it_is_the_latest_posting_or_contact(self, client: httpx.AsyncClient) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        assert created["last_activity_at"] is None
        posted_at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        contacted_at = posted_at + timedelta(days=1)

        answer = await client.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, booked_at=posted_at.isoformat())]},
        )
        assert answer.status_code == 200, answer.text
        assert _same_moment(await _last_activity(client, created["id"]), posted_at)

        await record_contact(client, created["id"], contacted_at)
        assert _same_moment(await _last_activity(client, created["id"]), contacted_at)

        # An older contact recorded late does not move it back.
        await record_contact(client, created["id"], posted_at - timedelta(days=10))
        assert _same_moment(await _last_activity(client, created["id"]), contacted_at)
