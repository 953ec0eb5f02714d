"""Customers whose tier requires a manager and who have none: listed with since when and why,
announced to the branch head once, and served by the next manager with room."""

import uuid
from typing import Any

import httpx

from services.customer.config import Settings
from tests.service.customer.conftest import event_types
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

UNSERVED = "crm.customer.unserved.v1"


async def _unserved(client: httpx.AsyncClient, branch: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/analytics/unserved", params={"branch_code": branch})
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()
    return listed


class TestUnservedPremiumCustomers:
    async def test_a_premium_customer_without_a_manager_is_listed_until_one_has_room(
        self, desk: httpx.AsyncClient, desk_settings: Settings
    ) -> None:
        branch = f"B{uuid.uuid4().hex[:8].upper()}"
        customer = await create_customer(desk, branch_code=branch, name="王小明")
        account = (await open_account(desk, customer["id"]))["full_number"]
        posted = await desk.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="3000000.00")]},
        )
        assert posted.status_code == 200, posted.text

        async def listed() -> bool:
            return bool(await _unserved(desk, branch))

        await wait_until(listed, timeout=20)
        (entry,) = await _unserved(desk, branch)
        assert entry["customer_id"] == customer["id"]
        assert entry["name"] == "王**"
        assert (entry["branch_code"], entry["value_tier"]) == (branch, "premium")
        assert entry["reason"].startswith(f"no active manager has room, in branch {branch}")
        assert entry["since"]
        assert (await event_types(desk_settings, customer["id"])).count(UNSERVED) == 1
        without = await desk.get(
            "/v1/customers", params={"manager": "none", "value_tier": "premium"}
        )
        assert customer["id"] in [c["id"] for c in without.json()["items"]]

        manager = await desk.post(
            "/v1/managers",
            json={
                "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                "name": "陈静",
                "branch_code": branch,
                "capacity": 1,
            },
        )
        assert manager.status_code == 201, manager.text

        read = (await desk.get(f"/v1/customers/{customer['id']}")).json()
        assert read["manager_id"] == manager.json()["id"]
        assert await _unserved(desk, branch) == []
        without = await desk.get(
            "/v1/customers", params={"manager": "none", "value_tier": "premium"}
        )
        assert customer["id"] not in [c["id"] for c in without.json()["items"]]


class TestWithoutManagerFilter:
    async def test_manager_none_lists_only_customers_without_one(
        self, client: httpx.AsyncClient
    ) -> None:
        branch = f"B{uuid.uuid4().hex[:8].upper()}"
        family = f"Desk{uuid.uuid4().hex[:10]}"
        served = await create_customer(client, branch_code=branch, name=f"{family} One")
        alone = await create_customer(client, branch_code=branch, name=f"{family} Two")
        manager = await client.post(
            "/v1/managers",
            json={
                "employee_number": f"E{uuid.uuid4().hex[:8].upper()}",
                "name": "陈静",
                "branch_code": branch,
                "capacity": 5,
            },
        )
        await client.put(
            f"/v1/customers/{served['id']}/manager", json={"manager_id": manager.json()["id"]}
        )

        answer = await client.get("/v1/customers", params={"name": family, "manager": "none"})
        everyone = await client.get("/v1/customers", params={"name": family})

        assert [c["id"] for c in answer.json()["items"]] == [alone["id"]]
        assert {c["id"] for c in everyone.json()["items"]} == {alone["id"], served["id"]}
