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


async def _premium_unserved(desk: httpx.AsyncClient, branch: str) -> dict[str, Any]:
    """A customer made premium by a deposit, with no manager who has room: on the list."""
    customer = await create_customer(desk, branch_code=branch, name="周小红")
    account = (await open_account(desk, customer["id"]))["full_number"]
    posted = await desk.post(
        "/v1/transactions", json={"transactions": [transaction(account, amount="3000000.00")]}
    )
    assert posted.status_code == 200, posted.text

    async def listed() -> bool:
        return customer["id"] in [e["customer_id"] for e in await _unserved(desk, branch)]

    await wait_until(listed, timeout=20)
    return {**customer, "account": account}


async def _manager(desk: httpx.AsyncClient, branch: str) -> str:
    """A manager of one customer, registered in the branch: they take its unserved at once."""
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
    manager_id: str = manager.json()["id"]
    return manager_id


async def _manager_of(desk: httpx.AsyncClient, customer: dict[str, Any]) -> str | None:
    manager_id: str | None = (await desk.get(f"/v1/customers/{customer['id']}")).json()[
        "manager_id"
    ]
    return manager_id


class TestRoomGoesToTheUnserved:
    """A manager whose portfolio is full serves one customer of the branch; a second waits on
    the list until the manager gets room, and leaves it in the request that gave the room."""

    async def _full_manager_and_one_waiting(
        self, desk: httpx.AsyncClient
    ) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        branch = f"R{uuid.uuid4().hex[:8].upper()}"
        served = await _premium_unserved(desk, branch)
        manager_id = await _manager(desk, branch)
        assert await _manager_of(desk, served) == manager_id
        waiting = await _premium_unserved(desk, branch)
        assert [e["customer_id"] for e in await _unserved(desk, branch)] == [waiting["id"]]
        return branch, manager_id, served, waiting

    async def test_a_raised_capacity_serves_the_longest_unserved(
        self, desk: httpx.AsyncClient
    ) -> None:
        branch, manager_id, _, waiting = await self._full_manager_and_one_waiting(desk)

        raised = await desk.patch(f"/v1/managers/{manager_id}", json={"capacity": 2})

        assert raised.status_code == 200, raised.text
        assert raised.json()["capacity"] == 2
        assert await _manager_of(desk, waiting) == manager_id
        assert await _unserved(desk, branch) == []

    async def test_a_customer_closed_leaves_room_for_the_unserved(
        self, desk: httpx.AsyncClient
    ) -> None:
        branch, manager_id, served, waiting = await self._full_manager_and_one_waiting(desk)
        shut = await desk.post(
            f"/v1/accounts/{served['account']}/close", json={"closed_on": "2026-12-01"}
        )
        assert shut.status_code == 200, shut.text
        version = (await desk.get(f"/v1/customers/{served['id']}")).json()["version"]

        closed = await desk.post(
            f"/v1/customers/{served['id']}/close", json={"version": version, "reason": "moved"}
        )

        assert closed.status_code == 200, closed.text
        assert await _manager_of(desk, waiting) == manager_id
        assert await _unserved(desk, branch) == []

    async def test_a_customer_reassigned_leaves_room_for_the_unserved(
        self, desk: httpx.AsyncClient
    ) -> None:
        # A colleague elsewhere, full too (their own branch's customer first), whom the branch
        # head gives the served customer to.
        elsewhere = f"R{uuid.uuid4().hex[:8].upper()}"
        theirs = await _premium_unserved(desk, elsewhere)
        colleague = await _manager(desk, elsewhere)
        assert await _manager_of(desk, theirs) == colleague
        branch, manager_id, served, waiting = await self._full_manager_and_one_waiting(desk)

        moved = await desk.put(
            f"/v1/customers/{served['id']}/manager", json={"manager_id": colleague}
        )

        assert moved.status_code == 200, moved.text
        assert await _manager_of(desk, served) == colleague
        assert await _manager_of(desk, waiting) == manager_id
        assert await _unserved(desk, branch) == []
